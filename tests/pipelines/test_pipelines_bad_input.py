"""Hostile input the HTTP API fuzz (tests/api/test_api_fuzz.py) found or aims at: each is
refused with a ValidationError naming the field, or, when it only shows once an execution
resolves its arguments, fails the step with a reason, never the engine."""

from __future__ import annotations

import logging
import time

import pytest
from pipeline_helpers import definition, get, lam, run, steps_of

from groundfog.core.errors import ValidationError
from groundfog.pipelines.definition import duration_seconds


def refused(platform, document, field: str, *words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        platform.pipelines.upsert_pipeline(pipeline_name="bad", pipeline_definition=document)
    assert caught.value.field == field, (caught.value.field, str(caught.value))
    for word in words:
        assert word in str(caught.value), str(caught.value)


def _waiting_callback(platform, outputs: dict[str, str]) -> str:
    """The token of a callback step that waits (its execution just started)."""
    document = definition({"Name": "Gate", "Type": "Callback", "Arguments": {},
                           "OutputParameters": [{"OutputName": k, "OutputType": v} for k, v in outputs.items()]})
    platform.pipelines.upsert_pipeline(pipeline_name="gated", pipeline_definition=document)
    arn = platform.pipelines.start_pipeline_execution(pipeline_name="gated")["PipelineExecutionArn"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        step = steps_of(platform, arn).get("Gate")
        if step is not None and step["StepStatus"] == "Executing":
            return step["Metadata"]["Callback"]["CallbackToken"]
        time.sleep(0.05)
    raise AssertionError(f"the callback step never waited: {steps_of(platform, arn)}")


# ---- requests ------------------------------------------------------------------------


def test_a_version_id_beyond_any_version_is_a_validation_error(platform, fns):
    # Was a 500: SQLite cannot hold 10**30 in a query parameter (OverflowError).
    platform.pipelines.upsert_pipeline(pipeline_name="p", pipeline_definition=definition(lam("A", fns["noop"])))
    for version in (10**30, -(2**63) - 1, 0, 2**31):
        with pytest.raises(ValidationError) as caught:
            platform.pipelines.describe_pipeline(pipeline_name="p", pipeline_version_id=version)
        assert caught.value.field == "PipelineVersionId"
        with pytest.raises(ValidationError) as caught:
            platform.pipelines.start_pipeline_execution(pipeline_name="p", pipeline_version_id=version)
        assert caught.value.field == "PipelineVersionId"
    assert platform.pipelines.describe_pipeline(pipeline_name="p", pipeline_version_id=1)["PipelineVersionId"] == 1


def test_callback_outputs_whose_name_is_not_text_are_a_validation_error(platform, fns):
    # Was a 500: the outputs became a dict keyed by each Name (TypeError: unhashable type).
    token = _waiting_callback(platform, {"approved": "Boolean"})
    for outputs in ([{"Name": {"a": []}, "Value": "true"}], [{"Name": ["approved"], "Value": "true"}], ["approved"],
                    [{"Name": "approved"}]):
        with pytest.raises(ValidationError) as caught:
            platform.pipelines.send_pipeline_execution_step_success(callback_token=token, output_parameters=outputs)
        assert caught.value.field == "OutputParameters[0]"
    platform.pipelines.send_pipeline_execution_step_success(
        callback_token=token, output_parameters=[{"Name": "approved", "Value": "true"}])


def test_a_float_beyond_any_float_is_a_validation_error(platform, fns):
    # Was a 500: float(10**400) raises OverflowError, not ValueError.
    refused(platform, definition(lam("A", fns["noop"]), parameters=[{"Name": "R", "Type": "Float", "DefaultValue": 10**400}]),
            "Parameters[0].DefaultValue", "'R' is a Float")
    document = definition(lam("A", fns["echo"], {"r": get("Parameters.R")}), parameters=[{"Name": "R", "Type": "Float"}])
    platform.pipelines.upsert_pipeline(pipeline_name="p", pipeline_definition=document)
    with pytest.raises(ValidationError) as caught:
        platform.pipelines.start_pipeline_execution(pipeline_name="p", pipeline_parameters=[{"Name": "R", "Value": 10**400}])
    assert caught.value.field == "PipelineParameters[0]"


def test_text_beyond_sagemakers_limits_is_a_validation_error(platform, fns):
    # A 300 kB description made every status-change event too large to emit; a token
    # longer than its column fails on PostgreSQL.
    upsert, start = platform.pipelines.upsert_pipeline, platform.pipelines.start_pipeline_execution
    document = definition(lam("A", fns["noop"]))
    for field, value in (("PipelineDescription", "d" * 3073), ("PipelineDisplayName", "n" * 257),
                         ("RoleArn", "r" * 2049)):
        with pytest.raises(ValidationError) as caught:
            upsert(pipeline_name="p", pipeline_definition=document, **{_snake(field): value})
        assert caught.value.field == field
    upsert(pipeline_name="p", pipeline_definition=document)
    for field, value in (("PipelineExecutionDescription", "d" * 3073), ("PipelineExecutionDisplayName", "n" * 257),
                         ("ClientRequestToken", "t" * 129)):
        with pytest.raises(ValidationError) as caught:
            start(pipeline_name="p", **{_snake(field): value})
        assert caught.value.field == field
    assert platform.pipelines.list_pipeline_executions(pipeline_name="p")["PipelineExecutionSummaries"] == []
    token = _waiting_callback(platform, {})
    with pytest.raises(ValidationError) as caught:
        platform.pipelines.send_pipeline_execution_step_failure(callback_token=token, failure_reason="f" * 257)
    assert caught.value.field == "FailureReason"
    platform.pipelines.send_pipeline_execution_step_failure(callback_token=token, failure_reason="done")


def _snake(field: str) -> str:
    return {"PipelineDescription": "pipeline_description", "PipelineDisplayName": "pipeline_display_name",
            "RoleArn": "role_arn", "PipelineExecutionDescription": "pipeline_execution_description",
            "PipelineExecutionDisplayName": "pipeline_execution_display_name",
            "ClientRequestToken": "client_request_token"}[field]


# ---- definitions ----------------------------------------------------------------------


def test_a_get_of_property_files_without_a_file_name_is_refused(platform, fns):
    # Was a 500: IndexError reading the file name from the path ("Steps.B.PropertyFiles").
    document = definition(lam("A", fns["echo"], {"v": get("Steps.B.PropertyFiles")}), lam("B", fns["noop"]))
    refused(platform, document, "Arguments.v", "PropertyFiles", "Std:JsonGet")
    deeper = definition(lam("A", fns["echo"], {"v": get("Steps.B.PropertyFiles.F.x")}), lam("B", fns["noop"]))
    refused(platform, deeper, "Arguments.v", "PropertyFiles")


def test_settings_that_must_be_lists_are_refused_when_they_are_not(platform, fns):
    # Were 500s: enumerate(5), tuple(5).
    for key in ("RetryPolicies", "PropertyFiles", "OutputParameters"):
        refused(platform, definition(lam("A", fns["noop"], **{key: 5})), f"Steps[0].{key}", key)
    refused(platform, definition(lam("A", fns["noop"]), parameters=[{"Name": "N", "Type": "String", "EnumValues": 5}]),
            "Parameters[0].EnumValues", "EnumValues")
    for config in (5, {"Outputs": 5}, {"Outputs": [5]}):
        processing = {"Name": "P", "Type": "Processing", "PropertyFiles": [
            {"PropertyFileName": "F", "OutputName": "o", "FilePath": "f.json"}],
            "Arguments": {"AppSpecification": {"ImageUri": "sklearn"}, "ProcessingOutputConfig": config}}
        refused(platform, definition(processing), "Steps[0].PropertyFiles[0]", "not one of the step's outputs")


def test_numbers_too_large_for_a_retry_policy_or_a_duration_are_refused(platform, fns):
    # Were 500s: OverflowError from float(), ValueError from int() of 5000 digits.
    policy = {"ExceptionType": ["Step.SERVICE_FAULT"], "ExpireAfterMin": 10**400}
    refused(platform, definition(lam("A", fns["noop"], RetryPolicies=[policy])), "Steps[0].RetryPolicies[0]", "non-numeric")
    for text in ("P" + "9" * 5000 + "D", "P" + "9" * 400 + "D", "PT9999999999S"):
        with pytest.raises(ValidationError, match="too long a duration"):
            duration_seconds(text, "ExpireAfter")
    assert duration_seconds("PT999999999S", "ExpireAfter") == 999999999


def test_a_join_on_something_other_than_text_is_refused(platform, fns):
    for on in ([1], {"Get": "Parameters.X"}, 5):
        document = definition(lam("A", fns["echo"], {"v": {"Std:Join": {"On": on, "Values": ["a", "b"]}}}),
                              parameters=[{"Name": "X", "Type": "String", "DefaultValue": "/"}])
        refused(platform, document, "Arguments.v", "Std:Join")


def test_job_steps_lacking_what_their_job_needs_are_refused_at_upsert(platform, fns):
    # Were engine faults at run time: TypeError calling create_*_job without the argument.
    for kind, needs in (("Processing", "AppSpecification"), ("Training", "AlgorithmSpecification"),
                        ("Tuning", "HyperParameterTuningJobConfig"), ("RegisterModel", "ModelPackageGroupName")):
        refused(platform, definition({"Name": "J", "Type": kind, "Arguments": {}}), "J.Arguments", kind, needs)


# ---- executions -------------------------------------------------------------------------


def _no_engine_fault(caplog) -> None:
    faults = [r.getMessage() for r in caplog.records if r.name == "groundfog.pipelines" and r.levelno >= logging.ERROR]
    assert faults == []


def test_job_step_arguments_of_the_wrong_shape_fail_the_step_not_the_engine(platform, fns, caplog):
    # Were engine faults: the resolved arguments were read as objects before the job
    # service checked them (AttributeError, TypeError), ending the execution with
    # "groundfog's pipeline engine failed".
    platform.registry.create_model_package_group(model_package_group_name="g")
    parameters = [{"Name": "Text", "Type": "String", "DefaultValue": "not an object"}]
    cases = {
        "register": {"Name": "R", "Type": "RegisterModel", "Arguments": {
            "ModelPackageGroupName": "g", "InferenceSpecification": get("Parameters.Text")}},
        "outputs": {"Name": "P", "Type": "Processing", "Arguments": {
            "AppSpecification": {"ImageUri": "sklearn"}, "ProcessingOutputConfig": get("Parameters.Text"),
            "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1}}}},
        "tags": {"Name": "P", "Type": "Processing", "Arguments": {
            "AppSpecification": {"ImageUri": "sklearn"}, "Tags": 5,
            "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1}}}},
    }
    with caplog.at_level(logging.ERROR, logger="groundfog.pipelines"):
        for name, step in cases.items():
            _, described, steps = run(platform, name, definition(step, parameters=parameters))
            assert described["PipelineExecutionStatus"] == "Failed"
            reason = described["FailureReason"]
            assert "engine failed" not in reason and "ValidationException" in reason, reason
            assert steps[step["Name"]]["StepStatus"] == "Failed"
    _no_engine_fault(caplog)


def test_a_huge_failure_message_still_makes_status_change_events(platform, fns, caplog):
    # The events were too large to emit (logged as an error, and lost); they now carry the
    # start of the message, the execution all of it.
    message = "m" * 300_000
    with caplog.at_level(logging.ERROR, logger="groundfog.pipelines"):
        _, described, _ = run(platform, "loud", definition(
            {"Name": "F", "Type": "Fail", "Arguments": {"ErrorMessage": message}}))
    assert described["FailureReason"] == message
    _no_engine_fault(caplog)
