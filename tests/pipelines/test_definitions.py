"""Definitions are refused at upsert, with the names involved, when they cannot run."""

from __future__ import annotations

import pytest
from pipeline_helpers import definition, get, lam

from groundfog.core.errors import ValidationError
from groundfog.pipelines.definition import duration_seconds, parse_definition


def refused(platform, document, *words: str) -> str:
    with pytest.raises(ValidationError) as caught:
        platform.pipelines.upsert_pipeline(pipeline_name="bad", pipeline_definition=document)
    message = str(caught.value)
    for word in words:
        assert word in message, message
    with pytest.raises(Exception):
        platform.pipelines.describe_pipeline(pipeline_name="bad")  # nothing was saved
    return message


def test_a_cycle_is_refused_naming_its_steps(platform, fns):
    document = definition(
        lam("A", fns["echo"], {"v": get("Steps.C.OutputParameters['out']")}, {"out": "String"}),
        lam("B", fns["echo"], {"v": get("Steps.A.OutputParameters['out']")}, {"out": "String"}),
        lam("C", fns["echo"], {"v": get("Steps.B.OutputParameters['out']")}, {"out": "String"}),
    )
    refused(platform, document, "cycle", "A", "B", "C")


def test_depends_on_cycle_is_refused(platform, fns):
    document = definition(lam("A", fns["noop"], DependsOn=["B"]), lam("B", fns["noop"], DependsOn=["A"]))
    refused(platform, document, "cycle", "A -> B")


def test_a_reference_to_an_unknown_step_is_refused(platform, fns):
    document = definition(lam("Train", fns["echo"], {"v": get("Steps.Prep.OutputParameters['out']")}))
    refused(platform, document, "Train", "unknown step 'Prep'")


def test_an_unknown_parameter_or_execution_variable_is_refused(platform, fns):
    refused(platform, definition(lam("A", fns["echo"], {"v": get("Parameters.Nope")})), "unknown parameter 'Nope'")
    refused(platform, definition(lam("A", fns["echo"], {"v": get("Execution.Nope")})), "execution variable 'Nope'")


def test_a_default_of_the_wrong_type_is_refused(platform, fns):
    document = definition(lam("A", fns["noop"]),
                          parameters=[{"Name": "Epochs", "Type": "Integer", "DefaultValue": "ten"}])
    refused(platform, document, "Epochs", "Integer", "ten")


def test_duplicate_step_names_are_refused_across_branches(platform, fns):
    condition = {"Name": "C", "Type": "Condition", "Arguments": {
        "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}],
        "IfSteps": [lam("A", fns["noop"])], "ElseSteps": []}}
    refused(platform, definition(lam("A", fns["noop"]), condition), "'A' is used twice")


def test_an_unknown_function_and_unknown_job_arguments_are_refused(platform, fns):
    refused(platform, definition(lam("A", "arn:groundfog:events:local:000000000000:function/ghost")), "ghost")
    training = {"Name": "T", "Type": "Training", "Arguments": {"AlgorithmSpec": {}}}
    refused(platform, definition(training), "'T'", "AlgorithmSpec")
    named = {"Name": "T", "Type": "Training", "Arguments": {"TrainingJobName": "mine"}}
    refused(platform, definition(named), "'T'", "TrainingJobName")
    register = {"Name": "R", "Type": "RegisterModel", "Arguments": {"ModelPackageGroupName": "g", "ModelCard": {}}}
    refused(platform, definition(register), "'R'", "ModelCard")


def test_a_property_file_must_be_declared(platform, fns):
    document = definition(
        {"Name": "Eval", "Type": "Processing", "Arguments": {"AppSpecification": {"ImageUri": "sklearn"},
                                                             "ProcessingOutputConfig": {"Outputs": []}}},
        lam("Use", fns["echo"], {"v": {"Std:JsonGet": {"PropertyFile": get("Steps.Eval.PropertyFiles.Report"),
                                                       "Path": "a.b"}}}))
    refused(platform, document, "property file 'Report'", "Eval")


def test_bad_shapes_name_the_field(platform, fns):
    refused(platform, "{not json", "not valid JSON")
    refused(platform, {"Steps": []}, "non-empty")
    refused(platform, definition({"Name": "X", "Type": "Teleport"}), "Teleport")
    refused(platform, definition({"Name": "C", "Type": "Condition", "Arguments": {
        "Conditions": [{"Type": "Approximately", "LeftValue": 1, "RightValue": 1}]}}), "Approximately")
    refused(platform, definition(lam("A", fns["noop"], RetryPolicies=[{"ExceptionType": ["Nope"]}])), "ExceptionType")
    refused(platform, definition(lam("A", fns["noop"], CacheConfig={"Enabled": True})), "cannot be cached")


def test_start_checks_parameters(platform, fns):
    document = definition(lam("A", fns["echo"], {"n": get("Parameters.N"), "s": get("Parameters.S")}),
                          parameters=[{"Name": "N", "Type": "Integer", "DefaultValue": 1}, {"Name": "S", "Type": "String"}])
    platform.pipelines.upsert_pipeline(pipeline_name="p", pipeline_definition=document)
    start = platform.pipelines.start_pipeline_execution
    with pytest.raises(ValidationError, match="missing required parameters.*S"):
        start(pipeline_name="p")
    with pytest.raises(ValidationError, match="'N' is a Integer; 'many' is not one"):
        start(pipeline_name="p", pipeline_parameters=[{"Name": "N", "Value": "many"}, {"Name": "S", "Value": "x"}])
    with pytest.raises(ValidationError, match="no parameter 'Q'"):
        start(pipeline_name="p", pipeline_parameters=[{"Name": "Q", "Value": "1"}, {"Name": "S", "Value": "x"}])
    assert platform.pipelines.list_pipeline_executions(pipeline_name="p")["PipelineExecutionSummaries"] == []


def test_upsert_keeps_versions(platform, fns):
    first = definition(lam("A", fns["noop"]))
    second = definition(lam("A", fns["noop"]), lam("B", fns["noop"]))
    upsert = platform.pipelines.upsert_pipeline
    assert upsert(pipeline_name="v", pipeline_definition=first)["PipelineVersionId"] == 1
    assert upsert(pipeline_name="v", pipeline_definition=first)["PipelineVersionId"] == 1  # unchanged
    assert upsert(pipeline_name="v", pipeline_definition=second)["PipelineVersionId"] == 2
    versions = platform.pipelines.list_pipeline_versions(pipeline_name="v")["PipelineVersionSummaries"]
    assert [v["PipelineVersionId"] for v in versions] == [2, 1]
    old = platform.pipelines.describe_pipeline(pipeline_name="v", pipeline_version_id=1)
    assert '"B"' not in old["PipelineDefinition"]


def test_definition_parsing_builds_the_dag():
    d = parse_definition(definition(
        {"Name": "A", "Type": "Fail", "Arguments": {}},
        {"Name": "C", "Type": "Condition", "DependsOn": ["A"], "Arguments": {
            "Conditions": [{"Type": "Not", "Condition": {"Type": "In", "QueryValue": 1, "Values": [2]}}],
            "IfSteps": [{"Name": "Yes", "Type": "Fail", "Arguments": {}}],
            "ElseSteps": [{"Name": "No", "Type": "Fail", "Arguments": {}}]}}))
    assert d.steps["C"].upstream == {"A"}
    assert d.steps["Yes"].branch == ("C", True) and d.steps["No"].branch == ("C", False)
    assert d.descendants({"A"}) == {"A", "C", "Yes", "No"}


@pytest.mark.parametrize("text,seconds", [("P30D", 30 * 86400), ("PT1H", 3600), ("P1DT2H3M4S", 93784), ("P1W", 604800)])
def test_iso_durations(text, seconds):
    assert duration_seconds(text, "ExpireAfter") == seconds


def test_bad_durations_are_refused():
    for text in ("P", "PT", "1D", "P1DT", "soon"):
        with pytest.raises(ValidationError):
            duration_seconds(text, "ExpireAfter")
