"""Seed note: "Automatic model training when data is uploaded to S3: EventBridge to
monitor the bucket for object creation, trigger SG Pipeline [...] S3 event notification
cannot trigger SG pipeline."

The lab tries both routes to a real pipeline. A classic bucket notification aimed at the
pipeline is refused with the reason; the EventBridge route (bucket → default bus → rule
with a key filter → pipeline target mapping the object's URL to a parameter) starts one
execution per matching upload, and none for the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from groundfog.core.errors import ValidationError

if TYPE_CHECKING:
    from groundfog.labs import LabResult
    from groundfog.platform import Platform

BUCKET = "lab-training-data"
PIPELINE = "retrain"


def _pipeline(p: "Platform") -> str:
    """A one-step pipeline that checks it was started with a data URL."""
    definition = {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "InputDataUrl", "Type": "String"}],
        "Steps": [{"Name": "Received", "Type": "Condition", "Arguments": {"Conditions": [
            {"Type": "Not", "Condition": {"Type": "Equals", "LeftValue": {"Get": "Parameters.InputDataUrl"},
                                          "RightValue": ""}}],
            "ElseSteps": [{"Name": "NoData", "Type": "Fail", "Arguments": {"ErrorMessage": "no InputDataUrl"}}]}}],
    }  # fmt: skip
    return p.pipelines.upsert_pipeline(pipeline_name=PIPELINE, pipeline_definition=definition)["PipelineArn"]


def run(p: "Platform", result: "LabResult") -> None:
    p.storage.create_bucket(bucket=BUCKET)
    pipeline_arn = _pipeline(p)

    # 1. A classic S3 notification cannot start a pipeline.
    before = p.storage.get_bucket_notification_configuration(bucket=BUCKET)
    try:
        p.storage.put_bucket_notification_configuration(
            bucket=BUCKET,
            configuration={
                "LambdaFunctionConfigurations": [
                    {"Id": "retrain", "LambdaFunctionArn": pipeline_arn, "Events": ["s3:ObjectCreated:*"]}
                ]
            },
        )
        refused, message = False, "accepted"
    except ValidationError as exc:
        refused, message = True, str(exc)
    result.check("an S3 event notification aimed at a pipeline is refused", refused, message)
    result.check("the refusal points to EventBridge rules", "EventBridge" in message and "rule" in message)
    result.check(
        "the refused configuration changed nothing",
        p.storage.get_bucket_notification_configuration(bucket=BUCKET) == before,
    )

    # 2. EventBridge: bucket -> default bus -> rule filtered on incoming/*.csv -> pipeline.
    p.storage.put_bucket_notification_configuration(bucket=BUCKET, configuration={"EventBridgeConfiguration": {}})
    p.events.put_rule(
        name="lab-retrain-on-upload",
        event_pattern={
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {"bucket": {"name": [BUCKET]}, "object": {"key": [{"wildcard": "incoming/*.csv"}]}},
        },
    )
    p.events.put_targets(rule="lab-retrain-on-upload", targets=[{
        "Id": "retrain", "Arn": pipeline_arn,
        "InputTransformer": {"InputPathsMap": {"b": "$.detail.bucket.name", "k": "$.detail.object.key"},
                             "InputTemplate": "{}"},
        "SageMakerPipelineParameters": {"PipelineParameterList": [{"Name": "InputDataUrl", "Value": "s3://<b>/<k>"}]},
    }])  # fmt: skip

    p.storage.put_object(bucket=BUCKET, key="incoming/train.csv", body=b"label,x\n1,0.5\n0,0.1\n")
    p.storage.put_object(bucket=BUCKET, key="incoming/notes.txt", body=b"not training data")
    p.storage.put_object(bucket=BUCKET, key="archive/old.csv", body=b"label,x\n1,0.2\n")
    p.events.drain(timeout=10)
    executions = p.pipelines.list_pipeline_executions(pipeline_name=PIPELINE)["PipelineExecutionSummaries"]
    result.check("the EventBridge rule started exactly one execution, for incoming/train.csv", len(executions) == 1,
                 f"{len(executions)} executions")  # fmt: skip
    if executions:
        arn = executions[0]["PipelineExecutionArn"]
        described = p.pipelines.wait_for_pipeline_execution(pipeline_execution_arn=arn, timeout=30)
        parameters = {x["Name"]: x["Value"] for x in described["PipelineParameters"]}
        result.check("the execution got the uploaded object's URL as its InputDataUrl",
                     parameters.get("InputDataUrl") == f"s3://{BUCKET}/incoming/train.csv", str(parameters))  # fmt: skip
        result.check("the execution succeeded", described["PipelineExecutionStatus"] == "Succeeded",
                     described.get("FailureReason", ""))  # fmt: skip
