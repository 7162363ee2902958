"""Seed note: "Automatic model training when data is uploaded to S3: EventBridge to
monitor the bucket for object creation, trigger SG Pipeline [...] S3 event notification
cannot trigger SG pipeline."

The lab shows both halves: a classic bucket notification aimed at a pipeline is
refused with the reason, and the EventBridge route (bucket → default bus → rule with
a key filter → target) delivers exactly the uploads it should. Until pipelines land
the rule's target is a topic whose file subscription lets the lab see deliveries;
the route is the same one a pipeline target takes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from groundfog.core.errors import ValidationError
from groundfog.core.names import arn

if TYPE_CHECKING:
    from groundfog.labs import LabResult
    from groundfog.platform import Platform

BUCKET = "lab-training-data"
PIPELINE_ARN = arn("pipelines", "pipeline", "retrain")


def run(p: "Platform", result: "LabResult") -> None:
    p.storage.create_bucket(bucket=BUCKET)

    # 1. A classic S3 notification cannot start a pipeline.
    before = p.storage.get_bucket_notification_configuration(bucket=BUCKET)
    try:
        p.storage.put_bucket_notification_configuration(
            bucket=BUCKET,
            configuration={
                "LambdaFunctionConfigurations": [
                    {"Id": "retrain", "LambdaFunctionArn": PIPELINE_ARN, "Events": ["s3:ObjectCreated:*"]}
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

    # 2. EventBridge: bucket -> default bus -> rule filtered on incoming/*.csv -> target.
    sink = Path(p.home) / "lab-deliveries.jsonl"
    topic = p.topics.create_topic(name="lab-uploads")
    p.topics.subscribe(topic_arn=topic.topic_arn, protocol="file", endpoint=str(sink), attributes={"RawMessageDelivery": "true"})
    p.storage.put_bucket_notification_configuration(bucket=BUCKET, configuration={"EventBridgeConfiguration": {}})
    p.events.put_rule(
        name="lab-retrain-on-upload",
        event_pattern={
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {"bucket": {"name": [BUCKET]}, "object": {"key": [{"wildcard": "incoming/*.csv"}]}},
        },
    )
    p.events.put_targets(rule="lab-retrain-on-upload", targets=[{"Id": "retrain", "Arn": topic.topic_arn}])

    p.storage.put_object(bucket=BUCKET, key="incoming/train.csv", body=b"label,x\n1,0.5\n0,0.1\n")
    p.storage.put_object(bucket=BUCKET, key="incoming/notes.txt", body=b"not training data")
    p.storage.put_object(bucket=BUCKET, key="archive/old.csv", body=b"label,x\n1,0.2\n")
    p.events.drain(timeout=10)

    delivered = [json.loads(line) for line in sink.read_text().splitlines()] if sink.exists() else []
    events = [json.loads(d["Message"]) if isinstance(d, dict) and "Message" in d else d for d in delivered]
    keys = [e.get("detail", {}).get("object", {}).get("key") for e in events if isinstance(e, dict)]
    result.check("the EventBridge rule fired for incoming/train.csv", keys == ["incoming/train.csv"], f"delivered keys: {keys}")
    if events:
        e = events[0]
        result.check(
            "the event has EventBridge's S3 shape",
            e.get("source") == "aws.s3"
            and e.get("detail-type") == "Object Created"
            and e["detail"]["bucket"]["name"] == BUCKET
            and e["detail"]["object"]["size"] == len(b"label,x\n1,0.5\n0,0.1\n"),
            json.dumps(e)[:200],
        )
