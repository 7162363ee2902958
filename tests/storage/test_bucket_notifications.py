"""Bucket notifications: EventBridge events and S3's classic topic/function messages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from storage_helpers import RecordingBus

from groundfog.core.errors import ValidationError
from groundfog.storage import StorageService

BUCKET_ARN = "arn:groundfog:storage:local:000000000000:bucket/data"
SEQUENCER = re.compile(r"^[0-9A-F]{16}$")
REQUEST_ID = re.compile(r"^[0-9A-Z]{16}$")


def _id_fields(detail: dict[str, Any]) -> tuple[str, str]:
    sequencer, rid = detail["object"].pop("sequencer"), detail.pop("request-id")
    assert SEQUENCER.match(sequencer) and REQUEST_ID.match(rid)
    return sequencer, rid


def test_eventbridge_gets_object_created_and_deleted_in_s3s_shape(storage_objects: StorageService, bus: RecordingBus) -> None:
    storage_objects.create_bucket("data")
    storage_objects.put_object("data", "before.txt", b"no events yet")
    storage_objects.put_bucket_notification_configuration("data", {"EventBridgeConfiguration": {}})
    assert storage_objects.get_bucket_notification_configuration("data") == {"EventBridgeConfiguration": {}}

    put = storage_objects.put_object("data", "raw/train data.csv", b"a,b\n1,2\n")
    storage_objects.copy_object("data", "raw/train data.csv", "data", "raw/copy.csv")
    storage_objects.delete_object("data", "raw/train data.csv")
    storage_objects.delete_object("data", "raw/train data.csv")  # nothing was there: no event

    assert [(e["source"], e["detail_type"], e["resources"]) for e in bus.emitted] == [
        ("aws.s3", "Object Created", [BUCKET_ARN]),
        ("aws.s3", "Object Created", [BUCKET_ARN]),
        ("aws.s3", "Object Deleted", [BUCKET_ARN]),
    ]
    details = [e["detail"] for e in bus.emitted]
    sequencers = [_id_fields(d)[0] for d in details]
    assert sequencers == sorted(sequencers) and len(set(sequencers)) == 3
    common = {"version": "0", "bucket": {"name": "data"}, "requester": "000000000000", "source-ip-address": "127.0.0.1"}
    assert details[0] == {
        **common,
        "object": {"key": "raw/train data.csv", "size": 8, "etag": put.etag.strip('"')},
        "reason": "PutObject",
    }
    assert details[1] == {
        **common,
        "object": {"key": "raw/copy.csv", "size": 8, "etag": put.etag.strip('"')},
        "reason": "CopyObject",
    }
    assert details[2] == {
        **common,
        "object": {"key": "raw/train data.csv"},
        "reason": "DeleteObject",
        "deletion-type": "Permanently Deleted",
    }
    assert bus.sent == []


def test_classic_notifications_go_to_targets_whose_filters_match(storage_objects: StorageService, bus: RecordingBus) -> None:
    topic = bus.register("topic", "new-training-data")
    function = bus.register("function", "on-delete")
    storage_objects.create_bucket("data")
    storage_objects.put_bucket_notification_configuration(
        "data",
        {
            "TopicConfigurations": [
                {
                    "Id": "csv-arrivals",
                    "TopicArn": topic,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "incoming/"}, {"Name": "suffix", "Value": ".csv"}]}},
                }
            ],
            "LambdaFunctionConfigurations": [
                {"Id": "deletions", "LambdaFunctionArn": function, "Events": ["s3:ObjectRemoved:Delete"]}
            ],
        },
    )
    put = storage_objects.put_object("data", "incoming/day 1+2.csv", b"x,y\n")
    storage_objects.put_object("data", "incoming/notes.txt", b"no: suffix")
    storage_objects.put_object("data", "other/day.csv", b"no: prefix")
    storage_objects.copy_object("data", "incoming/day 1+2.csv", "data", "incoming/copy.csv")
    storage_objects.delete_object("data", "other/day.csv")

    assert [(target, p["Records"][0]["eventName"]) for target, p in bus.sent] == [
        (topic, "ObjectCreated:Put"),
        (topic, "ObjectCreated:Copy"),
        (function, "ObjectRemoved:Delete"),
    ]
    record = bus.sent[0][1]["Records"][0]
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", record["eventTime"])
    assert record["s3"]["configurationId"] == "csv-arrivals"
    assert record["s3"]["bucket"] == {"name": "data", "ownerIdentity": {"principalId": "000000000000"}, "arn": BUCKET_ARN}
    obj = record["s3"]["object"]
    assert obj["key"] == "incoming/day+1%2B2.csv"  # URL-encoded as S3 sends keys
    assert (obj["size"], obj["eTag"]) == (4, put.etag.strip('"'))
    assert SEQUENCER.match(obj["sequencer"])
    deleted = bus.sent[2][1]["Records"][0]["s3"]["object"]
    assert set(deleted) == {"key", "sequencer"} and deleted["key"] == "other/day.csv"
    assert bus.emitted == []  # EventBridge was not enabled


def test_a_pipeline_cannot_be_a_notification_target_and_the_error_says_what_to_do(
    local_storage: StorageService, bus: RecordingBus
) -> None:
    local_storage.create_bucket("data")
    attempts = [
        {"LambdaFunctionConfigurations": [{"LambdaFunctionArn": "arn:groundfog:pipelines:local:000000000000:pipeline/train", "Events": ["s3:ObjectCreated:*"]}]},
        {"TopicConfigurations": [{"TopicArn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/train", "Events": ["s3:ObjectCreated:*"]}]},
        {"PipelineConfigurations": [{"PipelineArn": "arn:groundfog:pipelines:local:000000000000:pipeline/train"}]},
    ]
    for configuration in attempts:
        with pytest.raises(ValidationError) as caught:
            local_storage.put_bucket_notification_configuration("data", configuration)
        message = str(caught.value)
        assert "S3 event notifications cannot start a pipeline" in message
        assert "EventBridgeConfiguration" in message and "EventBridge rule whose target is the pipeline" in message
    assert local_storage.get_bucket_notification_configuration("data") == {}


def test_invalid_configurations_are_refused_and_change_nothing(local_storage: StorageService, bus: RecordingBus) -> None:
    topic = bus.register("topic", "t")
    local_storage.create_bucket("data")
    good = {"TopicConfigurations": [{"Id": "a", "TopicArn": topic, "Events": ["s3:ObjectCreated:Put"]}]}
    local_storage.put_bucket_notification_configuration("data", good)
    cases = [
        ({"QueueConfigurations": [{"QueueArn": "arn:aws:sqs:us-east-1:1:q", "Events": ["s3:ObjectCreated:*"]}]}, "no queues"),
        ({"TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectMade:*"]}]}, "not an S3 event name"),
        ({"TopicConfigurations": [{"TopicArn": topic, "Events": []}]}, "non-empty list"),
        ({"TopicConfigurations": [{"TopicArn": bus.register("topic", "x")[:-1] + "y", "Events": ["s3:ObjectCreated:*"]}]}, "does not exist"),
        ({"LambdaFunctionConfigurations": [{"LambdaFunctionArn": topic, "Events": ["s3:ObjectCreated:*"]}]}, "is not a function"),
        ({"TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "regex", "Value": ".*"}]}}}]}, "'prefix' or 'suffix'"),
        ({"TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "a"}, {"Name": "prefix", "Value": "b"}]}}}]}, "more than one prefix"),
        ({"TopicConfigurations": [{"Id": "1", "TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}, {"Id": "2", "TopicArn": topic, "Events": ["s3:ObjectCreated:Put"], "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "x/"}]}}}]}, "Configurations overlap"),
        ({"TopicConfigurations": [{"Id": "same", "TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}, {"Id": "same", "TopicArn": topic, "Events": ["s3:ObjectRemoved:*"]}]}, "used twice"),
        ({"EventBridgeConfiguration": {"Enabled": True}}, "takes no settings"),
        ({"SnsConfigurations": []}, "unknown member"),
        ("not a dict", "must be an object"),
    ]
    for configuration, fragment in cases:
        with pytest.raises(ValidationError, match=fragment):
            local_storage.put_bucket_notification_configuration("data", configuration)  # type: ignore[arg-type]
    assert local_storage.get_bucket_notification_configuration("data") == good


def test_non_overlapping_filters_on_the_same_event_are_allowed_and_empty_config_turns_off(
    local_storage: StorageService, bus: RecordingBus
) -> None:
    topic = bus.register("topic", "t")
    local_storage.create_bucket("data")
    local_storage.put_bucket_notification_configuration(
        "data",
        {
            "TopicConfigurations": [
                {"Id": "images", "TopicArn": topic, "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "images/"}]}}},
                {"Id": "tables", "TopicArn": topic, "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "tables/"}]}}},
            ]
        },
    )
    local_storage.put_object("data", "tables/t.csv", b"1")
    assert [p["Records"][0]["s3"]["configurationId"] for _, p in bus.sent] == ["tables"]
    local_storage.put_bucket_notification_configuration("data", {})
    local_storage.put_object("data", "tables/u.csv", b"1")
    assert len(bus.sent) == 1


def test_without_a_bus_only_nothing_or_eventbridge_can_be_configured(tmp_path: Any) -> None:
    from storage_helpers import make_storage

    service = make_storage(tmp_path / "h", f"sqlite:///{tmp_path / 's.db'}", {"objects_url": str(tmp_path / "o")})
    try:
        service.create_bucket("data")
        with pytest.raises(ValidationError, match="no event bus"):
            service.put_bucket_notification_configuration(
                "data", {"TopicConfigurations": [{"TopicArn": "arn:groundfog:events:local:000000000000:topic/t", "Events": ["s3:ObjectCreated:*"]}]}
            )
        service.put_bucket_notification_configuration("data", {"EventBridgeConfiguration": {}})
        service.put_object("data", "k", b"v")  # no bus: nothing to deliver to, the put still works
    finally:
        service.close()
