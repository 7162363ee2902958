"""Each step type, policy and pipeline-level rule of the SDK, by the JSON it produces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sdk_helpers
from sdk_helpers import TRAIN, make_platform, write_script

import groundfog as gf
from groundfog.pipelines.definition import parse_definition
from groundfog.pipelines.sdk import (
    CacheConfig,
    CallbackOutput,
    CallbackStep,
    ConditionEquals,
    ConditionStep,
    CreateModelStep,
    FailStep,
    FunctionOutput,
    FunctionStep,
    Lambda,
    LambdaOutput,
    LambdaOutputTypeEnum,
    LambdaStep,
    ModelStep,
    ParallelismConfiguration,
    ParameterInteger,
    ParameterString,
    Pipeline,
    RegisterModel,
    SageMakerJobExceptionTypeEnum,
    SageMakerJobStepRetryPolicy,
    StepExceptionTypeEnum,
    StepRetryPolicy,
    TuningStep,
)

FN_ARN = "arn:groundfog:events:local:000000000000:function/"


@pytest.fixture
def platform(tmp_path: Path):
    p = make_platform(tmp_path / "home")
    yield p
    p.close()


# -- policies ---------------------------------------------------------------------------------


def test_retry_and_cache_policies_serialise_as_the_format_says():
    step = FunctionStep("Notify", function=FN_ARN + "notify", cache_config=CacheConfig(enable_caching=True))
    assert "CacheConfig" not in step.to_request()  # accepted as SageMaker's SDK does; only job steps cache
    assert CacheConfig(True, "PT1H").config == {"CacheConfig": {"Enabled": True, "ExpireAfter": "PT1H"}}
    assert StepRetryPolicy(exception_types=[StepExceptionTypeEnum.SERVICE_FAULT, StepExceptionTypeEnum.THROTTLING],
                           backoff_rate=1.5, interval_seconds=10, max_attempts=5, expire_after_mins=60).to_request() == {
        "ExceptionType": ["Step.SERVICE_FAULT", "Step.THROTTLING"], "IntervalSeconds": 10, "BackoffRate": 1.5,
        "MaxAttempts": 5, "ExpireAfterMin": 60}  # fmt: skip
    old_style = SageMakerJobStepRetryPolicy(failure_reason_type=[SageMakerJobExceptionTypeEnum.INTERNAL_ERROR],
                                            exception_types=[SageMakerJobExceptionTypeEnum.RESOURCE_LIMIT])  # fmt: skip
    assert old_style.to_request()["ExceptionType"] == ["SageMaker.RESOURCE_LIMIT", "SageMaker.JOB_INTERNAL_ERROR"]
    assert ParallelismConfiguration(max_parallel_execution_steps=4).to_request() == {"MaxParallelExecutionSteps": 4}


@pytest.mark.parametrize("make", [
    lambda: CacheConfig(True, expire_after="30 days"),
    lambda: StepRetryPolicy([StepExceptionTypeEnum.THROTTLING], max_attempts=0),
    lambda: StepRetryPolicy([StepExceptionTypeEnum.THROTTLING], backoff_rate=0.5),
    lambda: StepRetryPolicy([]),
    lambda: StepRetryPolicy(["SageMaker.CAPACITY_ERROR"]),
    lambda: SageMakerJobStepRetryPolicy(),
    lambda: ParallelismConfiguration(0),
])  # fmt: skip
def test_policies_out_of_range_are_refused_when_built(make):
    with pytest.raises(ValueError):
        make()


# -- dependencies, nesting, names -------------------------------------------------------------


def test_depends_on_takes_steps_or_names_once_each():
    first = FailStep("First")
    step = FailStep("Last", depends_on=[first, "Other", "First"])
    assert step.to_request()["DependsOn"] == ["First", "Other"]
    with pytest.raises(TypeError, match="depends_on takes steps or step names"):
        FailStep("Bad", depends_on=[3])


def test_branch_steps_are_nested_in_their_condition_and_not_listed_again():
    mode = ParameterString("Mode", default_value="full")
    deep_fail = FailStep("DeepFail", error_message="deep")
    inner = ConditionStep("Inner", conditions=[ConditionEquals(mode, "x")], if_steps=[deep_fail])
    outer = ConditionStep("Outer", conditions=[ConditionEquals(mode, "full")], if_steps=[inner],
                          else_steps=[FailStep("Stop")])  # fmt: skip

    listed_too = Pipeline("p", parameters=[mode], steps=[deep_fail, outer, inner]).to_request()
    only_condition = Pipeline("p", parameters=[mode], steps=[outer]).to_request()

    assert listed_too == only_condition
    assert [s["Name"] for s in only_condition["Steps"]] == ["Outer"]
    (nested,) = only_condition["Steps"][0]["Arguments"]["IfSteps"]
    assert nested["Name"] == "Inner" and nested["Arguments"]["IfSteps"][0]["Name"] == "DeepFail"
    assert set(parse_definition(only_condition).steps) == {"Outer", "Inner", "DeepFail", "Stop"}


def test_duplicate_step_names_are_refused_naming_them_even_inside_branches():
    mode = ParameterString("Mode")
    check = ConditionStep("Check", conditions=[ConditionEquals(mode, "a")], if_steps=[FailStep("Stop")])
    pipeline = Pipeline("p", parameters=[mode], steps=[FailStep("Stop"), check, FailStep("Check")])

    with pytest.raises(ValueError, match="used more than once: Stop, Check"):
        pipeline.definition()
    with pytest.raises(ValueError, match="parameter names must be unique.*Mode"):
        Pipeline("p", parameters=[mode, ParameterString("Mode")], steps=[FailStep("A")]).definition()


def test_step_names_must_fit_property_paths():
    with pytest.raises(ValueError, match="letters, digits"):
        FailStep("has.dot")


def test_from_definition_gives_back_an_equivalent_definition_from_text_a_dict_or_a_file(tmp_path):
    original = Pipeline("p", parameters=[ParameterInteger("N", default_value=2)],
                        steps=[FailStep("Stop", error_message="no")]).definition()  # fmt: skip
    path = tmp_path / "pipeline.json"
    path.write_text(original)

    for source in (original, json.loads(original), path):
        assert json.loads(Pipeline.from_definition("copy", source).definition()) == json.loads(original)
    with pytest.raises(ValueError, match="JSON object"):
        Pipeline.from_definition("bad", "[1, 2]")


# -- function and callback steps --------------------------------------------------------------


def test_function_step_by_arn_serialises_the_function_arn_inputs_and_outputs():
    threshold = ParameterInteger("Threshold", default_value=80)
    passed = FunctionOutput(output_name="passed", output_type="Boolean")
    step = FunctionStep("Gate", function=FN_ARN + "gate", inputs={"threshold": threshold, "model": "churn"},
                        outputs=[passed, FunctionOutput("margin", LambdaOutputTypeEnum.Float)])  # fmt: skip

    assert step.to_request() == {
        "Name": "Gate", "Type": "Lambda",
        "Arguments": {"threshold": {"Get": "Parameters.Threshold"}, "model": "churn"},
        "FunctionArn": FN_ARN + "gate",
        "OutputParameters": [{"OutputName": "passed", "OutputType": "Boolean"},
                             {"OutputName": "margin", "OutputType": "Float"}],
    }  # fmt: skip
    assert passed.expr == step.properties.Outputs["passed"].expr == {"Get": "Steps.Gate.OutputParameters['passed']"}
    assert step.properties.OutputParameters["passed"].expr == passed.expr


def test_function_step_names_a_function_for_a_handler_or_a_module_level_callable():
    by_handler = FunctionStep("A", function="shop.gates:accuracy_gate")
    by_callable = FunctionStep("B", function=sdk_helpers.accuracy_gate)

    assert by_handler.target.arn == FN_ARN + "pipeline-fn-shop-gates-accuracy_gate"
    assert by_callable.target.handler == "sdk_helpers:accuracy_gate"
    assert by_callable.target.code_path == str(Path(sdk_helpers.__file__).resolve().parent)
    assert by_callable.to_request()["FunctionArn"] == FN_ARN + "pipeline-fn-sdk_helpers-accuracy_gate"
    long = FunctionStep("C", function="a.very.deeply.nested.package.of.handlers.for.the.pipeline:check_everything_twice")
    assert len(long.target.name) <= 64 and long.target.name == FunctionStep("D", function=long.target.handler).target.name


def test_function_steps_refuse_what_cannot_be_imported_by_name():
    def nested(event, context):
        return {}

    with pytest.raises(ValueError, match="module level"):
        FunctionStep("A", function=nested)
    with pytest.raises(ValueError, match="module level"):
        FunctionStep("A", function=lambda event, context: {})
    with pytest.raises(ValueError, match="'module:attr' handler"):
        FunctionStep("A", function="just_a_name")
    output = FunctionOutput("x")
    FunctionStep("A", function=FN_ARN + "f", outputs=[output])
    with pytest.raises(ValueError, match="already belongs to step 'A'"):
        FunctionStep("B", function=FN_ARN + "f", outputs=[output])
    with pytest.raises(ValueError, match="unique"):
        FunctionStep("C", function=FN_ARN + "f", outputs=[FunctionOutput("y"), FunctionOutput("y")])


def test_the_function_is_registered_when_the_pipeline_is_upserted_and_replaced_when_it_changes(platform):
    step = FunctionStep("Gate", function=sdk_helpers.accuracy_gate, inputs={"accuracy": 0.9, "threshold": 0.8},
                        outputs=[FunctionOutput("passed", "Boolean")])  # fmt: skip
    pipeline = Pipeline("gated", steps=[step], platform=platform)

    pipeline.upsert()
    pipeline.upsert()  # the same handler again: left as it is
    fn = platform.events.get_function(step.target.name)
    assert fn.handler == "sdk_helpers:accuracy_gate" and fn.code_path == step.target.code_path
    assert platform.events.invoke(step.target.name, {"accuracy": 0.9, "threshold": 0.8}) == {"passed": True, "margin": 0.1}

    changed = FunctionStep("Gate", function="sdk_helpers:always_pass", function_name=step.target.name,
                           code_path=step.target.code_path)  # fmt: skip
    Pipeline("gated", steps=[changed], platform=platform).upsert()
    assert platform.events.get_function(step.target.name).handler == "sdk_helpers:always_pass"


def test_lambda_step_is_the_sdks_name_for_a_function_step(tmp_path):
    script = write_script(tmp_path, "lambda_script.py", "def handler(event, context):\n    return {'ok': True}\n")

    by_arn = LambdaStep("L", lambda_func=Lambda(function_arn=FN_ARN + "existing"), inputs={"a": 1},
                        outputs=[LambdaOutput(output_name="ok", output_type=LambdaOutputTypeEnum.Boolean)])  # fmt: skip
    by_script = LambdaStep("S", lambda_func=Lambda(script=script, handler="lambda_script.handler"))

    assert by_arn.to_request()["FunctionArn"] == FN_ARN + "existing" and by_arn.target.handler is None
    assert (by_script.target.handler, by_script.target.code_path) == ("lambda_script:handler", str(tmp_path))
    assert by_script.to_request()["Type"] == "Lambda"


def test_callback_step_serialises_its_message_outputs_and_topic():
    step = CallbackStep("Approve", sqs_queue_url="https://sqs.local/queue", inputs={"model": "churn"},
                        outputs=[CallbackOutput(output_name="approved", output_type="Boolean")],
                        topic_arn="arn:groundfog:topics:local:000000000000:topic/approvals")  # fmt: skip

    assert step.to_request() == {
        "Name": "Approve", "Type": "Callback", "Arguments": {"model": "churn"},
        "OutputParameters": [{"OutputName": "approved", "OutputType": "Boolean"}],
        "TopicArn": "arn:groundfog:topics:local:000000000000:topic/approvals", "SqsQueueUrl": "https://sqs.local/queue",
    }  # fmt: skip
    assert step.properties.Outputs["approved"].expr == {"Get": "Steps.Approve.OutputParameters['approved']"}


# -- tuning and model steps -------------------------------------------------------------------


def test_tuning_step_arguments_and_the_top_model_location(platform, tmp_path):
    estimator = gf.SKLearn(entry_point=write_script(tmp_path, "train.py", TRAIN), output_path="s3://models/tuning",
                           metric_definitions=[{"Name": "acc", "Regex": "train_accuracy=([0-9.]+)"}], platform=platform)  # fmt: skip
    tuner = gf.HyperparameterTuner(estimator, objective_metric_name="acc", max_jobs=4, max_parallel_jobs=2,
                                   hyperparameter_ranges={"c": gf.ContinuousParameter(0.01, ParameterString("MaxC"))})  # fmt: skip
    step = TuningStep("Tune", tuner=tuner, inputs={"train": "s3://data/train/"})

    arguments = step.arguments
    assert set(arguments) == {"HyperParameterTuningJobConfig", "TrainingJobDefinition"}
    assert arguments["HyperParameterTuningJobConfig"]["ParameterRanges"]["ContinuousParameterRanges"] == [
        {"Name": "c", "MinValue": "0.01", "MaxValue": {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.MaxC"}]}},
         "ScalingType": "Auto"}]  # fmt: skip
    definition = arguments["TrainingJobDefinition"]
    assert definition["OutputDataConfig"] == {"S3OutputPath": "s3://models/tuning"}
    assert "sagemaker_job_name" not in definition["StaticHyperParameters"]
    assert step.get_top_model_s3_uri(top_k=1, s3_bucket="models", prefix="tuning").expr == {"Std:Join": {"On": "/", "Values": [
        "s3:/", "models", "tuning", {"Get": "Steps.Tune.TrainingJobSummaries[1].TrainingJobName"}, "output/model.tar.gz"]}}


class _Model:
    """Anything with the attributes of the SDK's ``Model``."""

    image_uri = "xgboost"
    model_data = "s3://models/xgb/model.tar.gz"
    env = {"LOG_LEVEL": "debug"}
    role = "arn:aws:iam::000000000000:role/SageMaker"


def test_model_steps_create_a_model_from_model_data_or_a_model_object():
    artifacts = FailStep("Train").properties.ModelArtifacts.S3ModelArtifacts

    assert ModelStep("CreateModel", model_data=artifacts, environment={"A": "1"}).arguments == {
        "PrimaryContainer": {"Image": "sklearn", "ModelDataUrl": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"},
                             "Environment": {"A": "1"}}}  # fmt: skip
    step = CreateModelStep("CreateXgb", model=_Model())
    assert step.to_request() == {"Name": "CreateXgb", "Type": "Model", "Arguments": {
        "PrimaryContainer": {"Image": "xgboost", "ModelDataUrl": "s3://models/xgb/model.tar.gz",
                             "Environment": {"LOG_LEVEL": "debug"}},
        "ExecutionRoleArn": "arn:aws:iam::000000000000:role/SageMaker"}}  # fmt: skip
    assert step.properties.ModelName.expr == {"Get": "Steps.CreateXgb.ModelName"}
    with pytest.raises(ValueError, match="needs model_data"):
        ModelStep("NoData")


def test_register_model_takes_its_image_from_the_model_and_says_what_is_missing():
    step = RegisterModel("Register", "churn", model=_Model(), approval_status=ParameterString("Approval"),
                         customer_metadata_properties={"team": "growth"}, description="nightly", domain="MACHINE_LEARNING",
                         task="CLASSIFICATION", sample_payload_url="s3://data/sample.csv")  # fmt: skip

    assert step.to_request() == {"Name": "Register", "Type": "RegisterModel", "Description": "nightly", "Arguments": {
        "ModelPackageGroupName": "churn",
        "InferenceSpecification": {"Containers": [{"Image": "xgboost", "ModelDataUrl": "s3://models/xgb/model.tar.gz",
                                                   "Environment": {"LOG_LEVEL": "debug"}}]},
        "ModelApprovalStatus": {"Get": "Parameters.Approval"},
        "CustomerMetadataProperties": {"team": "growth"}, "ModelPackageDescription": "nightly",
        "Domain": "MACHINE_LEARNING", "Task": "CLASSIFICATION", "SamplePayloadUrl": "s3://data/sample.csv"}}  # fmt: skip
    with pytest.raises(TypeError, match="model_package_group_name"):
        RegisterModel("Register", ["text/csv"], model_data="s3://m/model.tar.gz", image_uri="sklearn")
    with pytest.raises(ValueError, match="serving image"):
        RegisterModel("Register", "churn", model_data="s3://m/model.tar.gz")
