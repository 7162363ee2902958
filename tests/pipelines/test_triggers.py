"""Pipelines as EventBridge targets: uploads start executions with parameters taken from
the event; a mapping the event cannot fill goes to the dead letters, not to a broken run."""

from __future__ import annotations

import time

import pytest
from pipeline_helpers import definition, get, lam, register_functions, steps_of

from groundfog.core.errors import ValidationError


def _retrain_pipeline(platform, fns) -> str:
    document = definition(lam("Read", fns["echo"], {"url": get("Parameters.InputDataUrl")}, {"out": "String"}),
                          parameters=[{"Name": "InputDataUrl", "Type": "String"}])
    return platform.pipelines.upsert_pipeline(pipeline_name="retrain", pipeline_definition=document)["PipelineArn"]


def _rule(platform, pipeline_arn: str, parameters: list[dict], paths: dict[str, str] | None = None) -> None:
    platform.storage.create_bucket("uploads")
    platform.storage.put_bucket_notification_configuration(bucket="uploads",
                                                           configuration={"EventBridgeConfiguration": {}})
    platform.events.put_rule(name="on-upload", event_pattern={
        "source": ["aws.s3"], "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": ["uploads"]}, "object": {"key": [{"wildcard": "incoming/*.csv"}]}}})
    target = {"Id": "retrain", "Arn": pipeline_arn,
              "SageMakerPipelineParameters": {"PipelineParameterList": parameters}}
    if paths:
        target["InputTransformer"] = {"InputPathsMap": paths, "InputTemplate": "{}"}
    platform.events.put_targets(rule="on-upload", targets=[target])


def _executions(platform, timeout: float = 10, want: int = 1) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        found = platform.pipelines.list_pipeline_executions(pipeline_name="retrain")["PipelineExecutionSummaries"]
        if len(found) >= want or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_an_upload_starts_the_pipeline_with_the_object_url(platform, fns):
    arn = _retrain_pipeline(platform, fns)
    _rule(platform, arn, [{"Name": "InputDataUrl", "Value": "s3://<bucket>/<key>"}],
          {"bucket": "$.detail.bucket.name", "key": "$.detail.object.key"})
    platform.storage.put_object("uploads", "incoming/day1.csv", b"a,b\n1,2\n")
    platform.storage.put_object("uploads", "other/skip.csv", b"a,b\n1,2\n")
    platform.events.drain(timeout=10)
    executions = _executions(platform)
    assert len(executions) == 1
    execution = executions[0]["PipelineExecutionArn"]
    described = platform.pipelines.wait_for_pipeline_execution(pipeline_execution_arn=execution, timeout=20)
    assert described["PipelineExecutionStatus"] == "Succeeded"
    assert {"Name": "InputDataUrl", "Value": "s3://uploads/incoming/day1.csv"} in described["PipelineParameters"]
    assert "started by rule" in described["PipelineExecutionDescription"]
    lineage = platform.pipelines.list_pipeline_execution_lineage(pipeline_execution_arn=execution)["LineageEntries"]
    assert {"Direction": "Read", "Kind": "Parameter", "Uri": "s3://uploads/incoming/day1.csv"}.items() <= lineage[0].items()


def test_a_json_path_value_is_a_dynamic_parameter(platform, fns):
    arn = _retrain_pipeline(platform, fns)
    _rule(platform, arn, [{"Name": "InputDataUrl", "Value": "$.detail.object.key"}])
    platform.storage.put_object("uploads", "incoming/x.csv", b"1")
    platform.events.drain(timeout=10)
    execution = _executions(platform)[0]["PipelineExecutionArn"]
    params = platform.pipelines.list_pipeline_parameters_for_execution(pipeline_execution_arn=execution)
    assert params["PipelineParameters"] == [{"Name": "InputDataUrl", "Value": "incoming/x.csv"}]


def test_a_mapping_the_event_lacks_goes_to_the_dead_letters(platform, fns):
    arn = _retrain_pipeline(platform, fns)
    _rule(platform, arn, [{"Name": "InputDataUrl", "Value": "$.detail.object.checksum"}])
    platform.storage.put_object("uploads", "incoming/y.csv", b"1")
    platform.events.drain(timeout=10)
    assert _executions(platform, timeout=0.5) == []
    dead = platform.events.list_dead_letters(target_arn=arn)
    assert len(dead) == 1
    assert "InputDataUrl" in dead[0].error and "$.detail.object.checksum" in dead[0].error


def test_a_parameter_the_pipeline_refuses_is_dead_lettered_without_retries(platform, fns):
    document = definition(lam("A", fns["noop"]), parameters=[{"Name": "Size", "Type": "Integer"}])
    arn = platform.pipelines.upsert_pipeline(pipeline_name="retrain", pipeline_definition=document)["PipelineArn"]
    _rule(platform, arn, [{"Name": "Size", "Value": "$.detail.object.key"}])
    platform.storage.put_object("uploads", "incoming/z.csv", b"1")
    platform.events.drain(timeout=10)
    dead = platform.events.list_dead_letters(target_arn=arn)
    assert len(dead) == 1 and dead[0].attempts == 1 and "'Size' is a Integer" in dead[0].error


def test_pipeline_parameters_are_checked_when_the_target_is_put(platform, fns):
    arn = _retrain_pipeline(platform, fns)
    with pytest.raises(ValidationError, match="<key>"):
        _rule(platform, arn, [{"Name": "InputDataUrl", "Value": "s3://<bucket>/<key>"}], {"bucket": "$.detail.bucket.name"})
    fn_arn = fns["noop"]
    with pytest.raises(ValidationError, match="only apply to pipeline targets"):
        platform.events.put_targets(rule="on-upload", targets=[{
            "Id": "f", "Arn": fn_arn, "SageMakerPipelineParameters": {"PipelineParameterList": []}}])


def test_a_redelivered_event_starts_one_execution(platform, fns):
    arn = _retrain_pipeline(platform, fns)
    payload = {"PipelineParameterList": [{"Name": "InputDataUrl", "Value": "s3://a/b"}], "ClientRequestToken": "tok-1"}
    platform.events.targets.invoke(arn, payload)
    platform.events.targets.invoke(arn, payload)
    assert len(_executions(platform)) == 1


def test_a_schedule_rule_starts_the_pipeline(tmp_path, state_url):
    from groundfog import Platform
    from groundfog.core.clock import ManualClock
    from groundfog.core.config import Config

    clock = ManualClock()
    with Platform(Config(home=tmp_path / "home", state_url=state_url), clock=clock) as platform:
        arn = _retrain_pipeline(platform, register_functions(platform))
        platform.events.put_rule(name="nightly", schedule_expression="rate(1 minute)")
        platform.events.put_targets(rule="nightly", targets=[{
            "Id": "p", "Arn": arn,
            "SageMakerPipelineParameters": {"PipelineParameterList": [{"Name": "InputDataUrl", "Value": "s3://data/n/"}]}}])
        clock.advance(61)
        assert platform.events.run_due_schedules() == 1
        platform.events.drain(timeout=10)
        execution = _executions(platform)[0]["PipelineExecutionArn"]
        described = platform.pipelines.wait_for_pipeline_execution(pipeline_execution_arn=execution, timeout=20)
        assert described["PipelineExecutionStatus"] == "Succeeded"
        assert steps_of(platform, execution)["Read"]["StepStatus"] == "Succeeded"
