"""Seed note: "Automatic model training when data is uploaded to S3: EventBridge to monitor
the bucket for object creation, trigger SG Pipeline. SG Pipeline for preprocessing,
training and evaluation."

The scenario, end to end and for real: a bucket sends its events to EventBridge; a rule
on ``Object Created`` under ``incoming/*.csv`` starts a pipeline with the uploaded
object's URL as a parameter; the pipeline preprocesses the file (a processing job),
trains a model (a training job), evaluates it (a processing job writing
``evaluation.json``), and registers the model when its accuracy clears the bar, or
fails saying why. Then a corrupted upload fails the pipeline with the line at fault.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from groundfog.labs import LabResult
    from groundfog.platform import Platform

BUCKET = "ml-data"
GROUP = "breast-cancer"
PIPELINE = "retrain-on-upload"
SCRIPTS = Path(__file__).parent / "retrain"


def build_pipeline(platform: Any) -> Any:
    """The preprocess → train → evaluate → check → register | fail pipeline."""
    import groundfog as gf
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
        ParameterString,
        Pipeline,
        ProcessingStep,
        PropertyFile,
        RegisterModel,
        TrainingStep,
    )

    input_url = ParameterString("InputDataUrl")
    min_accuracy = ParameterFloat("MinAccuracy", default_value=0.9)
    regularization = ParameterFloat("RegularizationC", default_value=1.0)
    cache = CacheConfig(enable_caching=True, expire_after="P30D")
    processor = gf.SKLearnProcessor(instance_type="ml.m5.large", platform=platform)

    preprocess = ProcessingStep(
        "Preprocess", processor=processor, code=str(SCRIPTS / "preprocess.py"), cache_config=cache,
        inputs=[gf.ProcessingInput(source=input_url, destination="/opt/ml/processing/input/data")],
        outputs=[gf.ProcessingOutput(output_name="train", source="/opt/ml/processing/train"),
                 gf.ProcessingOutput(output_name="test", source="/opt/ml/processing/test")],
    )  # fmt: skip
    outputs = preprocess.properties.ProcessingOutputConfig.Outputs
    estimator = gf.SKLearn(entry_point=str(SCRIPTS / "train.py"), instance_type="ml.m5.large",
                           hyperparameters={"C": regularization}, platform=platform)  # fmt: skip
    train = TrainingStep("Train", estimator=estimator, cache_config=cache,
                         inputs={"train": gf.TrainingInput(s3_data=outputs["train"].S3Output.S3Uri)})  # fmt: skip
    model_data = train.properties.ModelArtifacts.S3ModelArtifacts

    report = PropertyFile("EvaluationReport", output_name="evaluation", path="evaluation.json")
    evaluate = ProcessingStep(
        "Evaluate", processor=processor, code=str(SCRIPTS / "evaluate.py"), cache_config=cache,
        inputs=[gf.ProcessingInput(source=model_data, destination="/opt/ml/processing/model"),
                gf.ProcessingInput(source=outputs["test"].S3Output.S3Uri, destination="/opt/ml/processing/test")],
        outputs=[gf.ProcessingOutput(output_name="evaluation", source="/opt/ml/processing/evaluation")],
        property_files=[report],
    )  # fmt: skip
    accuracy = JsonGet(step=evaluate, property_file=report, json_path="metrics.accuracy.value")
    evaluation_uri = Join(on="/", values=[
        evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri, "evaluation.json"])
    register = RegisterModel(
        "Register", model_package_group_name=GROUP, model_data=model_data, image_uri="sklearn",
        content_types=["text/csv"], response_types=["text/csv"], inference_instances=["ml.m5.large"],
        model_metrics=ModelMetrics(model_statistics=MetricsSource(content_type="application/json", s3_uri=evaluation_uri)),
        description="logistic regression retrained on upload",
    )  # fmt: skip
    too_low = FailStep("AccuracyTooLow", error_message=Join(on=" ", values=[
        "accuracy", accuracy, "is below the minimum", min_accuracy]))
    check = ConditionStep("CheckAccuracy", conditions=[ConditionGreaterThanOrEqualTo(accuracy, min_accuracy)],
                          if_steps=[register], else_steps=[too_low])  # fmt: skip
    return Pipeline(PIPELINE, parameters=[input_url, min_accuracy, regularization],
                    steps=[preprocess, train, evaluate, check], platform=platform)  # fmt: skip


def dataset_csv() -> bytes:
    """The Wisconsin breast cancer data set (shipped inside scikit-learn), as CSV with a label."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "label"})
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def corrupted_csv(good: bytes) -> bytes:
    """The same file with a mangled value on line 7, as a broken export would have."""
    lines = good.decode().splitlines()
    fields = lines[6].split(",")
    fields[3] = "n/a"
    lines[6] = ",".join(fields)
    return ("\n".join(lines) + "\n").encode()


def wire(p: "Platform") -> str:
    """Bucket → EventBridge → rule on incoming/*.csv → the pipeline; returns its ARN."""
    p.storage.create_bucket(bucket=BUCKET)
    p.storage.put_bucket_notification_configuration(bucket=BUCKET, configuration={"EventBridgeConfiguration": {}})
    p.registry.create_model_package_group(model_package_group_name=GROUP,
                                          model_package_group_description="retrained on every upload")  # fmt: skip
    pipeline_arn = build_pipeline(p).upsert(description="retrain when data lands in incoming/")["PipelineArn"]
    p.events.put_rule(name="retrain-on-upload", event_pattern={
        "source": ["aws.s3"], "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [BUCKET]}, "object": {"key": [{"wildcard": "incoming/*.csv"}]}}})  # fmt: skip
    p.events.put_targets(rule="retrain-on-upload", targets=[{
        "Id": "pipeline", "Arn": pipeline_arn,
        "InputTransformer": {"InputPathsMap": {"bucket": "$.detail.bucket.name", "key": "$.detail.object.key"},
                             "InputTemplate": "{}"},
        "SageMakerPipelineParameters": {"PipelineParameterList": [
            {"Name": "InputDataUrl", "Value": "s3://<bucket>/<key>"}]},
    }])  # fmt: skip
    return pipeline_arn


def upload_and_wait(p: "Platform", key: str, body: bytes, timeout: float = 120) -> dict[str, Any]:
    """Upload ``key``, find the execution its event started, wait for it to end."""
    before = {e["PipelineExecutionArn"] for e in
              p.pipelines.list_pipeline_executions(pipeline_name=PIPELINE)["PipelineExecutionSummaries"]}  # fmt: skip
    p.storage.put_object(BUCKET, key, body)
    deadline = time.monotonic() + 10
    while True:
        started = [e["PipelineExecutionArn"] for e in
                   p.pipelines.list_pipeline_executions(pipeline_name=PIPELINE)["PipelineExecutionSummaries"]
                   if e["PipelineExecutionArn"] not in before]  # fmt: skip
        if started or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    if not started:
        return {"PipelineExecutionStatus": "NotStarted", "FailureReason": f"no execution started for {key}"}
    return p.pipelines.wait_for_pipeline_execution(pipeline_execution_arn=started[0], timeout=timeout)


def run(p: "Platform", result: "LabResult") -> None:
    wire(p)
    good = dataset_csv()
    started = time.monotonic()
    ok = upload_and_wait(p, "incoming/breast-cancer.csv", good)
    seconds = time.monotonic() - started
    result.check(f"uploading a real data set runs the pipeline to Succeeded ({seconds:.1f}s)",
                 ok["PipelineExecutionStatus"] == "Succeeded", ok.get("FailureReason", ""))  # fmt: skip
    if ok["PipelineExecutionStatus"] == "Succeeded":
        steps = {s["StepName"]: s for s in p.pipelines.list_pipeline_execution_steps(
            pipeline_execution_arn=ok["PipelineExecutionArn"])["PipelineExecutionSteps"]}  # fmt: skip
        result.check("preprocess, train, evaluate, check and register each ran once",
                     sorted(steps) == ["CheckAccuracy", "Evaluate", "Preprocess", "Register", "Train"], str(sorted(steps)))  # fmt: skip
        packages = p.registry.list_model_packages(model_package_group_name=GROUP)["ModelPackageSummaryList"]
        result.check("the model is registered as version 1, pending manual approval",
                     len(packages) == 1 and packages[0]["ModelApprovalStatus"] == "PendingManualApproval", str(packages))  # fmt: skip
        if packages:
            described = p.registry.describe_model_package(model_package_name=packages[0]["ModelPackageArn"])
            report = (described.get("ModelMetricsReports") or {}).get("ModelQuality.Statistics") or {}
            accuracy = ((report.get("metrics") or {}).get("accuracy") or {}).get("value")
            result.check("the evaluation report is attached to the version",
                         isinstance(accuracy, float) and accuracy >= 0.9, f"accuracy {accuracy}")  # fmt: skip
            result.check("the version's lineage names the pipeline execution",
                         (described.get("Lineage") or {}).get("PipelineExecutionArn") == ok["PipelineExecutionArn"])  # fmt: skip

    bad = upload_and_wait(p, "incoming/broken-export.csv", corrupted_csv(good))
    reason = bad.get("FailureReason", "")
    result.check("a corrupted upload fails the pipeline", bad["PipelineExecutionStatus"] == "Failed", reason)
    result.check("the failure names the step, the file and the line",
                 "Preprocess" in reason and "broken-export.csv" in reason and "line 7" in reason, reason)  # fmt: skip
