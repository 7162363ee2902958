"""A real pipeline written with the SDK runs on an embedded platform: preprocess with a
scikit-learn script, train an SKLearn estimator on what it wrote, evaluate into a property
file, gate on the accuracy with a function, then register the model or fail. Built again
from fresh objects, the same code gives the same definition, so a second run reuses the
cached preprocessing and training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sdk_helpers
from sdk_helpers import PREPROCESS, TRAIN, make_platform, write_script

import groundfog as gf
from groundfog.pipelines.sdk import (
    CacheConfig,
    ConditionEquals,
    ConditionStep,
    FailStep,
    FunctionOutput,
    FunctionStep,
    Join,
    JsonGet,
    MetricsSource,
    ModelMetrics,
    ParameterFloat,
    ParameterString,
    Pipeline,
    PipelineExecution,
    PipelineExecutionFailed,
    ProcessingStep,
    PropertyFile,
    RegisterModel,
    TrainingStep,
)

EVALUATE = """\
import json, os, tarfile
import joblib
import pandas as pd
with tarfile.open("/opt/ml/processing/model/model.tar.gz") as tar:
    tar.extractall("/opt/ml/processing/model", filter="data")
model = joblib.load("/opt/ml/processing/model/model.joblib")
test = pd.read_csv("/opt/ml/processing/test/test.csv")
accuracy = float(model.score(test[["x"]], test.y))
os.makedirs("/opt/ml/processing/evaluation", exist_ok=True)
with open("/opt/ml/processing/evaluation/evaluation.json", "w") as f:
    json.dump({"metrics": {"accuracy": {"value": accuracy}}}, f)
print(f"accuracy={accuracy}")
"""


@pytest.fixture
def platform(tmp_path: Path):
    p = make_platform(tmp_path / "home")
    p.storage.create_bucket("data")
    rows = "x,y\n" + "".join(f"{i / 40:.3f},{int(i >= 20)}\n" for i in range(40))
    p.storage.put_object("data", "raw/rows.csv", rows.encode())
    p.registry.create_model_package_group(model_package_group_name="threshold-models")
    yield p
    p.close()


def build(platform, code: Path) -> Pipeline:
    input_data = ParameterString("InputData", default_value="s3://data/raw/")
    min_accuracy = ParameterFloat("MinAccuracy", default_value=0.7)
    cache = CacheConfig(enable_caching=True, expire_after="P1D")
    sklearn = gf.SKLearnProcessor(framework_version="1.2-1", instance_type="ml.m5.large", instance_count=1)

    preprocess = ProcessingStep(
        "Preprocess", processor=sklearn, code=write_script(code, "preprocess.py", PREPROCESS),
        inputs=[gf.ProcessingInput(source=input_data, destination="/opt/ml/processing/input")],
        outputs=[gf.ProcessingOutput(source="/opt/ml/processing/train", output_name="train"),
                 gf.ProcessingOutput(source="/opt/ml/processing/test", output_name="test")],
        job_arguments=["--test-size", "0.25"], cache_config=cache,
    )  # fmt: skip
    estimator = gf.SKLearn(entry_point=write_script(code, "train.py", TRAIN), hyperparameters={"c": 10.0})
    train = TrainingStep("Train", estimator=estimator, cache_config=cache, inputs={
        "train": gf.TrainingInput(s3_data=preprocess.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri)})
    report = PropertyFile("EvaluationReport", output_name="evaluation", path="evaluation.json")
    evaluate = ProcessingStep(
        "Evaluate", processor=sklearn, code=write_script(code, "evaluate.py", EVALUATE),
        inputs=[gf.ProcessingInput(source=train.properties.ModelArtifacts.S3ModelArtifacts, destination="/opt/ml/processing/model"),
                gf.ProcessingInput(source=preprocess.properties.ProcessingOutputConfig.Outputs["test"].S3Output.S3Uri,
                                   destination="/opt/ml/processing/test")],
        outputs=[gf.ProcessingOutput(source="/opt/ml/processing/evaluation", output_name="evaluation")],
        property_files=[report],
    )  # fmt: skip
    accuracy = JsonGet(step=evaluate, property_file=report, json_path="metrics.accuracy.value")
    gate = FunctionStep("Gate", function=sdk_helpers.accuracy_gate, inputs={"accuracy": accuracy, "threshold": min_accuracy},
                        outputs=[FunctionOutput("passed", "Boolean"), FunctionOutput("margin", "Float")])  # fmt: skip
    register = RegisterModel(
        "Register", "threshold-models", estimator=estimator, model_data=train.properties.ModelArtifacts.S3ModelArtifacts,
        content_types=["text/csv"], response_types=["text/csv"], approval_status="Approved",
        model_metrics=ModelMetrics(model_statistics=MetricsSource("application/json", Join(on="/", values=[
            evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri, "evaluation.json"]))),
    )  # fmt: skip
    too_weak = FailStep("TooWeak", error_message=Join(on=" ", values=["accuracy", accuracy, "is below", min_accuracy]))
    check = ConditionStep("Check", conditions=[ConditionEquals(gate.properties.Outputs["passed"], True)],
                          if_steps=[register], else_steps=[too_weak])  # fmt: skip
    return Pipeline("threshold", parameters=[input_data, min_accuracy], steps=[preprocess, train, evaluate, gate, check],
                    platform=platform)  # fmt: skip


def test_a_pipeline_built_with_the_sdk_runs_gates_registers_and_reuses_its_cache(platform, tmp_path):
    pipeline = build(platform, tmp_path / "code")
    first_version = pipeline.upsert(role_arn="arn:aws:iam::000000000000:role/Pipelines")["PipelineVersionId"]

    execution = pipeline.start()
    assert execution.wait(timeout=240)["PipelineExecutionStatus"] == "Succeeded"

    steps = {s["StepName"]: s for s in execution.list_steps()}
    assert set(steps) == {"Preprocess", "Train", "Evaluate", "Gate", "Check", "Register"}  # not TooWeak
    assert all(s["StepStatus"] == "Succeeded" for s in steps.values())
    outputs = {p["Name"]: p["Value"] for p in steps["Gate"]["Metadata"]["Lambda"]["OutputParameters"]}
    assert outputs["passed"] == "true" and float(outputs["margin"]) > 0
    package_arn = steps["Register"]["Metadata"]["RegisterModel"]["Arn"]
    package = platform.registry.describe_model_package(model_package_name=package_arn)
    assert package["ModelApprovalStatus"] == "Approved"
    model_data = package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    assert model_data == platform.training.describe_training_job(
        training_job_name=steps["Train"]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1])["ModelArtifacts"]["S3ModelArtifacts"]

    # Fresh objects, same code: the same definition (no new version), and cache hits.
    again = build(platform, tmp_path / "elsewhere")
    assert json.loads(again.definition()) == json.loads(pipeline.definition())
    assert again.upsert()["PipelineVersionId"] == first_version
    with pytest.raises(PipelineExecutionFailed, match="is below 1.01") as failed:
        again.start(parameters={"MinAccuracy": 1.01}).wait(timeout=240)
    second = {s["StepName"]: s for s in PipelineExecution(failed.value.details["execution_arn"], platform).list_steps()}
    assert second["Preprocess"]["CacheHitResult"]["SourcePipelineExecutionArn"] == execution.arn
    assert second["Train"]["CacheHitResult"]["SourcePipelineExecutionArn"] == execution.arn
    assert second["TooWeak"]["StepStatus"] == "Failed" and "Register" not in second

