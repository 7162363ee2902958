"""Parameters, step properties, Join / JsonGet / execution variables and conditions
serialise to the definition's expression syntax; run-time values refuse str()."""

from __future__ import annotations

import copy

import pytest

from groundfog.pipelines.sdk import (
    ConditionEquals,
    ConditionGreaterThan,
    ConditionGreaterThanOrEqualTo,
    ConditionIn,
    ConditionLessThan,
    ConditionLessThanOrEqualTo,
    ConditionNot,
    ConditionOr,
    ExecutionVariables,
    FailStep,
    Join,
    JsonGet,
    ParameterBoolean,
    ParameterFloat,
    ParameterInteger,
    ParameterString,
    Properties,
    PropertyFile,
)
from groundfog.pipelines.sdk.variables import serialize


def test_parameters_serialise_with_their_type_default_and_enum_values():
    assert [p.to_request() for p in (
        ParameterString("Url", default_value="s3://data/raw/"),
        ParameterString("Mode", default_value="fast", enum_values=["fast", "full"]),
        ParameterInteger("Epochs", default_value=5),
        ParameterFloat("Threshold", default_value=1),
        ParameterBoolean("Deploy", default_value=False),
        ParameterString("Required"),
    )] == [
        {"Name": "Url", "Type": "String", "DefaultValue": "s3://data/raw/"},
        {"Name": "Mode", "Type": "String", "DefaultValue": "fast", "EnumValues": ["fast", "full"]},
        {"Name": "Epochs", "Type": "Integer", "DefaultValue": 5},
        {"Name": "Threshold", "Type": "Float", "DefaultValue": 1.0},
        {"Name": "Deploy", "Type": "Boolean", "DefaultValue": False},
        {"Name": "Required", "Type": "String"},
    ]  # fmt: skip
    assert ParameterInteger("Epochs").expr == {"Get": "Parameters.Epochs"}


def test_parameter_defaults_of_the_wrong_type_and_bad_names_are_refused():
    with pytest.raises(TypeError, match="default_value must be an int"):
        ParameterInteger("Epochs", default_value="5")
    with pytest.raises(TypeError, match="must be a bool"):
        ParameterBoolean("Deploy", default_value="true")
    with pytest.raises(ValueError, match="not one of"):
        ParameterString("Mode", default_value="slow", enum_values=["fast", "full"])
    with pytest.raises(ValueError, match="letters, digits"):
        ParameterString("has space")


@pytest.mark.parametrize("variable", [
    ParameterString("Bucket"),
    Properties("Steps.Train").ModelArtifacts.S3ModelArtifacts,
    Join(on="/", values=["a", "b"]),
    ExecutionVariables.PIPELINE_EXECUTION_ID,
    JsonGet(step_name="Eval", property_file="Report", json_path="a.b"),
], ids=["parameter", "property", "join", "execution-variable", "json-get"])  # fmt: skip
def test_run_time_values_refuse_str_and_f_strings_and_say_what_to_use(variable):
    for attempt in (lambda: str(variable), lambda: f"s3://{variable}/x", lambda: "s3://" + variable, lambda: "{}".format(variable)):
        with pytest.raises(TypeError, match=r"\.to_string\(\) or Join"):
            attempt()
    assert variable.to_string().expr == {"Std:Join": {"On": "", "Values": [variable.expr]}}
    assert "Steps." in repr(variable) or "(" in repr(variable)  # repr stays usable for debugging


def test_step_properties_build_paths_with_attributes_names_and_indexes():
    prep, tune = Properties("Steps.Prep"), Properties("Steps.Tune")

    assert prep.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri.expr == {
        "Get": "Steps.Prep.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"}
    assert tune.TrainingJobSummaries[2].TrainingJobName.expr == {"Get": "Steps.Tune.TrainingJobSummaries[2].TrainingJobName"}
    assert FailStep("Stop").properties.Outcome.expr == {"Get": "Steps.Stop.Outcome"}
    with pytest.raises(TypeError, match="output name"):
        prep.Outputs[1.5]


def test_step_properties_are_not_iterable_copyable_by_probe_or_containers():
    props = Properties("Steps.Train").ModelArtifacts
    with pytest.raises(TypeError, match="cannot be iterated"):
        list(props)
    with pytest.raises(TypeError):
        "x" in props  # noqa: B015
    assert copy.deepcopy(props).expr == props.expr  # __deepcopy__ is not taken for a property name
    assert not hasattr(props, "_private")


def test_join_and_execution_variables_serialise():
    join = Join(on="/", values=["s3://models", ExecutionVariables.PIPELINE_NAME, ExecutionVariables.PIPELINE_EXECUTION_ID, 3])

    assert join.expr == {"Std:Join": {"On": "/", "Values": [
        "s3://models", {"Get": "Execution.PipelineName"}, {"Get": "Execution.PipelineExecutionId"}, 3]}}
    assert [v.expr["Get"] for v in (ExecutionVariables.PIPELINE_EXECUTION_ARN, ExecutionVariables.PIPELINE_ARN,
                                    ExecutionVariables.START_DATETIME, ExecutionVariables.CURRENT_DATETIME)] == [
        "Execution.PipelineExecutionArn", "Execution.PipelineArn", "Execution.StartDateTime", "Execution.CurrentDateTime"]


def test_json_get_reads_a_property_file_of_a_step_by_name_or_by_step():
    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    expected = {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"},
                                "Path": "metrics['accuracy'].value"}}  # fmt: skip

    assert JsonGet(step_name="Evaluate", property_file=report, json_path="metrics['accuracy'].value").expr == expected
    assert JsonGet(step=FailStep("Evaluate"), property_file="EvaluationReport", json_path="metrics['accuracy'].value").expr == expected
    with pytest.raises(ValueError, match="needs step_name"):
        JsonGet(property_file=report, json_path="a")
    with pytest.raises(ValueError, match="disagree"):
        JsonGet(step_name="Other", step=FailStep("Evaluate"), property_file=report, json_path="a")


def test_conditions_of_every_type_serialise():
    accuracy = JsonGet(step_name="Evaluate", property_file="Report", json_path="accuracy")
    threshold = ParameterFloat("Threshold", default_value=0.8)
    instance = ParameterString("Instance")
    get_accuracy, get_threshold = accuracy.expr, {"Get": "Parameters.Threshold"}

    comparisons = [cls(left=accuracy, right=threshold).to_request() for cls in (
        ConditionEquals, ConditionGreaterThan, ConditionGreaterThanOrEqualTo, ConditionLessThan, ConditionLessThanOrEqualTo)]
    assert comparisons == [{"Type": kind, "LeftValue": get_accuracy, "RightValue": get_threshold} for kind in (
        "Equals", "GreaterThan", "GreaterThanOrEqualTo", "LessThan", "LessThanOrEqualTo")]
    is_small = ConditionIn(value=instance, in_values=["ml.m5.large", Join(on=".", values=["ml", "t3", "medium"])])
    assert is_small.to_request() == {"Type": "In", "QueryValue": {"Get": "Parameters.Instance"}, "Values": [
        "ml.m5.large", {"Std:Join": {"On": ".", "Values": ["ml", "t3", "medium"]}}]}
    assert ConditionNot(expression=is_small).to_request() == {"Type": "Not", "Condition": is_small.to_request()}
    either = ConditionOr(conditions=[ConditionEquals(instance, "ml.m5.large"), ConditionLessThan(accuracy, 0.5)])
    assert either.to_request() == {"Type": "Or", "Conditions": [
        {"Type": "Equals", "LeftValue": {"Get": "Parameters.Instance"}, "RightValue": "ml.m5.large"},
        {"Type": "LessThan", "LeftValue": get_accuracy, "RightValue": 0.5}]}
    with pytest.raises(TypeError):
        ConditionNot("accuracy > 0.5")


def test_serialize_refuses_what_json_cannot_hold():
    with pytest.raises(TypeError, match="cannot go into a pipeline definition"):
        serialize({"When": object()})
