"""A realistic SageMaker-style pipeline, written with the SDK, serialises to exactly the
definition JSON the engine consumes: preprocess → train → evaluate (with a property file)
→ a condition on the evaluation that registers the model or fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sdk_helpers import CODE_URI, PREPROCESS, TRAIN, Matches, make_platform, write_script

import groundfog as gf
from groundfog.pipelines.definition import parse_definition
from groundfog.pipelines.sdk import (
    CacheConfig,
    ConditionGreaterThanOrEqualTo,
    ConditionStep,
    FailStep,
    Join,
    JsonGet,
    MetricsSource,
    ModelMetrics,
    ParameterFloat,
    ParameterInteger,
    ParameterString,
    Pipeline,
    ProcessingStep,
    PropertyFile,
    RegisterModel,
    SageMakerJobExceptionTypeEnum,
    SageMakerJobStepRetryPolicy,
    TrainingStep,
)


@pytest.fixture
def platform(tmp_path: Path):
    p = make_platform(tmp_path / "home")
    yield p
    p.close()


def build_pipeline(platform, code_dir: Path) -> Pipeline:
    input_data = ParameterString("InputData", default_value="s3://data/raw/")
    instance_type = ParameterString("TrainingInstanceType", default_value="ml.m5.large",
                                    enum_values=["ml.m5.large", "ml.m5.xlarge"])  # fmt: skip
    regularisation = ParameterFloat("C", default_value=1.0)
    max_iter = ParameterInteger("MaxIter", default_value=100)
    min_accuracy = ParameterFloat("MinAccuracy", default_value=0.8)

    preprocess = ProcessingStep(
        "Preprocess",
        processor=gf.SKLearnProcessor(framework_version="1.2-1", instance_type="ml.m5.large", instance_count=1),
        code=write_script(code_dir, "preprocess.py", PREPROCESS),
        inputs=[gf.ProcessingInput(source=input_data, destination="/opt/ml/processing/input")],
        outputs=[gf.ProcessingOutput(source="/opt/ml/processing/train", output_name="train"),
                 gf.ProcessingOutput(source="/opt/ml/processing/test", output_name="test")],
        job_arguments=["--test-size", "0.25"],
        cache_config=CacheConfig(enable_caching=True, expire_after="P30D"),
    )  # fmt: skip
    estimator = gf.SKLearn(entry_point=write_script(code_dir, "train.py", TRAIN), instance_type=instance_type,
                           hyperparameters={"c": regularisation, "max-iter": max_iter, "solver": "lbfgs"})  # fmt: skip
    train = TrainingStep(
        "Train",
        estimator=estimator,
        inputs={"train": gf.TrainingInput(
            s3_data=preprocess.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri, content_type="text/csv")},
        retry_policies=[SageMakerJobStepRetryPolicy(exception_types=[SageMakerJobExceptionTypeEnum.CAPACITY_ERROR],
                                                    max_attempts=3)],
    )  # fmt: skip
    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    evaluate = ProcessingStep(
        "Evaluate",
        processor=gf.SKLearnProcessor(framework_version="1.2-1"),
        code=write_script(code_dir, "evaluate.py", "print('evaluate')\n"),
        inputs=[gf.ProcessingInput(source=train.properties.ModelArtifacts.S3ModelArtifacts, destination="/opt/ml/processing/model"),
                gf.ProcessingInput(source=preprocess.properties.ProcessingOutputConfig.Outputs["test"].S3Output.S3Uri,
                                   destination="/opt/ml/processing/test")],
        outputs=[gf.ProcessingOutput(source="/opt/ml/processing/evaluation", output_name="evaluation")],
        property_files=[report],
    )  # fmt: skip
    register = RegisterModel(
        "Register", "churn-models",
        estimator=estimator, model_data=train.properties.ModelArtifacts.S3ModelArtifacts,
        content_types=["text/csv"], response_types=["text/csv"], inference_instances=["ml.m5.large"],
        model_metrics=ModelMetrics(model_statistics=MetricsSource(
            content_type="application/json",
            s3_uri=Join(on="/", values=[evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri,
                                         "evaluation.json"]))),
    )  # fmt: skip
    too_inaccurate = FailStep("TooInaccurate", error_message=Join(on=" ", values=["accuracy is below", min_accuracy]))
    check = ConditionStep(
        "CheckAccuracy",
        conditions=[ConditionGreaterThanOrEqualTo(
            left=JsonGet(step=evaluate, property_file=report, json_path="metrics.accuracy.value"), right=min_accuracy)],
        if_steps=[register],
        else_steps=[too_inaccurate],
    )  # fmt: skip
    return Pipeline(
        "churn",
        parameters=[input_data, instance_type, regularisation, max_iter, min_accuracy],
        steps=[preprocess, train, evaluate, check, register],  # register is nested in check, listed once there
        platform=platform,
    )


def _script_inputs(script: str) -> dict:
    return {"InputName": "code", "S3Input": {"S3Uri": Matches(CODE_URI + script), "LocalPath": "/opt/ml/processing/input/code",
                                              "S3DataType": "S3Prefix", "S3InputMode": "File"}}  # fmt: skip


def _processing_resources() -> dict:
    return {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30}}


SOURCEDIR = Matches(CODE_URI + "sourcedir.tar.gz")
EXPECTED = {
    "Version": "2020-12-01",
    "Metadata": {},
    "Parameters": [
        {"Name": "InputData", "Type": "String", "DefaultValue": "s3://data/raw/"},
        {"Name": "TrainingInstanceType", "Type": "String", "DefaultValue": "ml.m5.large",
         "EnumValues": ["ml.m5.large", "ml.m5.xlarge"]},
        {"Name": "C", "Type": "Float", "DefaultValue": 1.0},
        {"Name": "MaxIter", "Type": "Integer", "DefaultValue": 100},
        {"Name": "MinAccuracy", "Type": "Float", "DefaultValue": 0.8},
    ],
    "Steps": [
        {
            "Name": "Preprocess",
            "Type": "Processing",
            "Arguments": {
                "AppSpecification": {"ImageUri": "sklearn",
                                     "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/preprocess.py"],
                                     "ContainerArguments": ["--test-size", "0.25"]},
                "ProcessingResources": _processing_resources(),
                "ProcessingInputs": [
                    {"InputName": "input-1", "S3Input": {"S3Uri": {"Get": "Parameters.InputData"},
                                                         "LocalPath": "/opt/ml/processing/input",
                                                         "S3DataType": "S3Prefix", "S3InputMode": "File"}},
                    _script_inputs("preprocess.py"),
                ],
                "ProcessingOutputConfig": {"Outputs": [
                    {"OutputName": "train", "S3Output": {"LocalPath": "/opt/ml/processing/train", "S3UploadMode": "EndOfJob"}},
                    {"OutputName": "test", "S3Output": {"LocalPath": "/opt/ml/processing/test", "S3UploadMode": "EndOfJob"}},
                ]},
            },
            "CacheConfig": {"Enabled": True, "ExpireAfter": "P30D"},
        },
        {
            "Name": "Train",
            "Type": "Training",
            "Arguments": {
                "AlgorithmSpecification": {"TrainingImage": "sklearn", "TrainingInputMode": "File"},
                "OutputDataConfig": {},
                "ResourceConfig": {"InstanceType": {"Get": "Parameters.TrainingInstanceType"}, "InstanceCount": 1,
                                   "VolumeSizeInGB": 30},
                "HyperParameters": {
                    "c": {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.C"}]}},
                    "max-iter": {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.MaxIter"}]}},
                    "solver": '"lbfgs"',
                    "sagemaker_program": '"train.py"',
                    "sagemaker_submit_directory": Matches('"' + CODE_URI + 'sourcedir.tar.gz"'),
                    "sagemaker_container_log_level": "20",
                },
                "InputDataConfig": [{
                    "ChannelName": "train",
                    "DataSource": {"S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": {"Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"},
                        "S3DataDistributionType": "FullyReplicated"}},
                    "ContentType": "text/csv",
                }],
                "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
                "EnableManagedSpotTraining": False,
            },
            "RetryPolicies": [{"ExceptionType": ["SageMaker.CAPACITY_ERROR"], "IntervalSeconds": 1, "BackoffRate": 2.0,
                               "MaxAttempts": 3}],
        },
        {
            "Name": "Evaluate",
            "Type": "Processing",
            "Arguments": {
                "AppSpecification": {"ImageUri": "sklearn",
                                     "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/evaluate.py"]},
                "ProcessingResources": _processing_resources(),
                "ProcessingInputs": [
                    {"InputName": "input-1", "S3Input": {"S3Uri": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"},
                                                         "LocalPath": "/opt/ml/processing/model",
                                                         "S3DataType": "S3Prefix", "S3InputMode": "File"}},
                    {"InputName": "input-2", "S3Input": {
                        "S3Uri": {"Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri"},
                        "LocalPath": "/opt/ml/processing/test", "S3DataType": "S3Prefix", "S3InputMode": "File"}},
                    _script_inputs("evaluate.py"),
                ],
                "ProcessingOutputConfig": {"Outputs": [
                    {"OutputName": "evaluation", "S3Output": {"LocalPath": "/opt/ml/processing/evaluation",
                                                              "S3UploadMode": "EndOfJob"}},
                ]},
            },
            "PropertyFiles": [{"PropertyFileName": "EvaluationReport", "OutputName": "evaluation",
                               "FilePath": "evaluation.json"}],
        },
        {
            "Name": "CheckAccuracy",
            "Type": "Condition",
            "Arguments": {
                "Conditions": [{
                    "Type": "GreaterThanOrEqualTo",
                    "LeftValue": {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"},
                                                  "Path": "metrics.accuracy.value"}},
                    "RightValue": {"Get": "Parameters.MinAccuracy"},
                }],
                "IfSteps": [{
                    "Name": "Register",
                    "Type": "RegisterModel",
                    "Arguments": {
                        "ModelPackageGroupName": "churn-models",
                        "InferenceSpecification": {
                            "Containers": [{
                                "Image": "sklearn",
                                "ModelDataUrl": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"},
                                "Framework": "SKLEARN",
                                "Environment": {"SAGEMAKER_PROGRAM": "train.py", "SAGEMAKER_SUBMIT_DIRECTORY": SOURCEDIR},
                            }],
                            "SupportedContentTypes": ["text/csv"],
                            "SupportedResponseMIMETypes": ["text/csv"],
                            "SupportedRealtimeInferenceInstanceTypes": ["ml.m5.large"],
                        },
                        "ModelApprovalStatus": "PendingManualApproval",
                        "ModelMetrics": {"ModelQuality": {"Statistics": {
                            "ContentType": "application/json",
                            "S3Uri": {"Std:Join": {"On": "/", "Values": [
                                {"Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"},
                                "evaluation.json"]}},
                        }}},
                    },
                }],
                "ElseSteps": [{
                    "Name": "TooInaccurate",
                    "Type": "Fail",
                    "Arguments": {"ErrorMessage": {"Std:Join": {"On": " ", "Values": ["accuracy is below",
                                                                                       {"Get": "Parameters.MinAccuracy"}]}}},
                }],
            },
        },
    ],
}  # fmt: skip


def test_a_realistic_pipeline_serialises_to_the_exact_definition(platform, tmp_path):
    document = json.loads(build_pipeline(platform, tmp_path / "code").definition())

    assert document == EXPECTED


def test_the_engine_accepts_the_definition_and_sees_the_dag_the_properties_imply(platform, tmp_path):
    parsed = parse_definition(build_pipeline(platform, tmp_path / "code").definition())

    assert list(parsed.steps) == ["Preprocess", "Train", "Evaluate", "CheckAccuracy", "Register", "TooInaccurate"]
    assert parsed.steps["Train"].upstream == {"Preprocess"}
    assert parsed.steps["Evaluate"].upstream == {"Train", "Preprocess"}
    assert parsed.steps["CheckAccuracy"].upstream == {"Evaluate"}  # JsonGet's implicit dependency
    assert parsed.steps["Register"].branch == ("CheckAccuracy", True)


def test_the_definition_is_stable_json_in_the_users_step_order(platform, tmp_path):
    pipeline = build_pipeline(platform, tmp_path / "code")
    text = pipeline.definition()

    assert pipeline.definition() == text
    assert json.dumps(json.loads(text)) == text
    assert [s["Name"] for s in json.loads(text)["Steps"]] == ["Preprocess", "Train", "Evaluate", "CheckAccuracy"]


def test_the_code_is_uploaded_where_the_definition_says(platform, tmp_path):
    import io
    import tarfile

    document = json.loads(build_pipeline(platform, tmp_path / "code").definition())
    script_uri = document["Steps"][0]["Arguments"]["ProcessingInputs"][1]["S3Input"]["S3Uri"]
    submit = json.loads(document["Steps"][1]["Arguments"]["HyperParameters"]["sagemaker_submit_directory"])

    bucket, _, key = script_uri.removeprefix("s3://").partition("/")
    assert platform.storage.get_object_bytes(bucket, key).decode() == PREPROCESS
    bucket, _, key = submit.removeprefix("s3://").partition("/")
    with tarfile.open(fileobj=io.BytesIO(platform.storage.get_object_bytes(bucket, key))) as tar:
        assert tar.getnames() == ["train.py"]
