"""Storage inside the real Platform: objects, and notifications delivered by the real
events service (an EventBridge rule → function, and a classic function notification)."""

from __future__ import annotations

import importlib
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from groundfog.core.errors import ValidationError


def test_platform_storage_round_trip(storage_platform: Any) -> None:
    storage = storage_platform.storage
    storage.create_bucket("data")
    put = storage.put_object("data", "raw/train.csv", b"a,b\n1,2\n", content_type="text/csv")
    assert storage.get_object_bytes("data", "raw/train.csv") == b"a,b\n1,2\n"
    assert storage.head_object("data", "raw/train.csv") == put
    assert storage.list_objects_v2("data", delimiter="/").common_prefixes == ["raw/"]
    storage.delete_object("data", "raw/train.csv")
    storage.delete_bucket("data")
    assert storage.list_buckets() == []


def _recorder(tmp_path: Path) -> tuple[str, str, Any]:
    """A function handler module that keeps what it receives."""
    module = f"gf_storage_recorder_{uuid.uuid4().hex[:8]}"
    code = tmp_path / "functions"
    code.mkdir()
    (code / f"{module}.py").write_text(
        textwrap.dedent(
            """
            received = []

            def handler(event, context):
                received.append(event)
            """
        )
    )
    return module, str(code), lambda: importlib.import_module(module).received


def test_object_created_reaches_a_function_through_an_eventbridge_rule(local_platform: Any, tmp_path: Path) -> None:
    events, storage = local_platform.events, local_platform.storage
    module, code_path, received = _recorder(tmp_path)
    function_arn = events.create_function(name="on-upload", handler=f"{module}.handler", code_path=code_path).function_arn
    events.put_rule(
        name="new-data",
        event_pattern={"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": {"bucket": {"name": ["data"]}}},
    )
    events.put_targets(rule="new-data", targets=[{"Id": "fn", "Arn": function_arn}])
    storage.create_bucket("data")
    storage.put_bucket_notification_configuration("data", {"EventBridgeConfiguration": {}})

    put = storage.put_object("data", "incoming/batch.csv", b"x,y\n")
    storage.delete_object("data", "incoming/batch.csv")  # "Object Deleted": the rule does not match it
    assert events.drain(timeout=20)

    [event] = received()
    assert (event["source"], event["detail-type"]) == ("aws.s3", "Object Created")
    assert event["resources"] == ["arn:groundfog:storage:local:000000000000:bucket/data"]
    assert event["detail"]["object"]["key"] == "incoming/batch.csv"
    assert event["detail"]["object"]["etag"] == put.etag.strip('"')
    assert event["detail"]["reason"] == "PutObject"


def test_classic_notification_reaches_a_function_and_pipelines_are_refused(local_platform: Any, tmp_path: Path) -> None:
    events, storage = local_platform.events, local_platform.storage
    module, code_path, received = _recorder(tmp_path)
    function_arn = events.create_function(name="on-csv", handler=f"{module}.handler", code_path=code_path).function_arn
    storage.create_bucket("data")
    with pytest.raises(ValidationError, match="cannot start a pipeline"):
        storage.put_bucket_notification_configuration(
            "data",
            {"LambdaFunctionConfigurations": [{"LambdaFunctionArn": "arn:groundfog:pipelines:local:000000000000:pipeline/train", "Events": ["s3:ObjectCreated:*"]}]},
        )
    with pytest.raises(ValidationError):
        storage.put_bucket_notification_configuration(
            "data",
            {"LambdaFunctionConfigurations": [{"LambdaFunctionArn": function_arn + "-missing", "Events": ["s3:ObjectCreated:*"]}]},
        )
    storage.put_bucket_notification_configuration(
        "data",
        {
            "LambdaFunctionConfigurations": [
                {
                    "Id": "csv",
                    "LambdaFunctionArn": function_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".csv"}]}},
                }
            ]
        },
    )
    storage.put_object("data", "a.csv", b"1")
    storage.put_object("data", "a.json", b"{}")
    assert events.drain(timeout=20)
    [message] = received()
    record = message["Records"][0]
    assert (record["eventName"], record["s3"]["configurationId"], record["s3"]["object"]["key"]) == (
        "ObjectCreated:Put", "csv", "a.csv"
    )


def test_rules_with_prefix_and_suffix_filters_on_the_key_ignore_other_objects(local_platform: Any, tmp_path: Path) -> None:
    events, storage = local_platform.events, local_platform.storage
    module, code_path, received = _recorder(tmp_path)
    function_arn = events.create_function(name="on-key", handler=f"{module}.handler", code_path=code_path).function_arn
    for name, key_filter in (("by-prefix", {"prefix": "incoming/"}), ("by-suffix", {"suffix": ".csv"})):
        events.put_rule(
            name=name,
            event_pattern={"source": ["aws.s3"], "detail-type": ["Object Created"],
                           "detail": {"bucket": {"name": ["data"]}, "object": {"key": [key_filter]}}},
        )
        events.put_targets(rule=name, targets=[{"Id": "fn", "Arn": function_arn, "InputTransformer": {
            "InputPathsMap": {"key": "$.detail.object.key"},
            "InputTemplate": f'{{"rule": "{name}", "key": <key>}}'}}])
    storage.create_bucket("data")
    storage.put_bucket_notification_configuration("data", {"EventBridgeConfiguration": {}})

    for key in ("incoming/a.csv", "incoming/notes.txt", "archive/b.csv", "archive/readme.md"):
        storage.put_object("data", key, b"x")
    assert events.drain(timeout=20)

    got = sorted((e["rule"], e["key"]) for e in received())
    assert got == [
        ("by-prefix", "incoming/a.csv"),
        ("by-prefix", "incoming/notes.txt"),
        ("by-suffix", "archive/b.csv"),
        ("by-suffix", "incoming/a.csv"),
    ]


def test_object_created_event_has_eventbridges_documented_s3_shape(local_platform: Any, tmp_path: Path) -> None:
    events, storage = local_platform.events, local_platform.storage
    module, code_path, received = _recorder(tmp_path)
    function_arn = events.create_function(name="shape", handler=f"{module}.handler", code_path=code_path).function_arn
    events.put_rule(name="all-s3", event_pattern={"source": ["aws.s3"]})
    events.put_targets(rule="all-s3", targets=[{"Id": "fn", "Arn": function_arn}])
    storage.create_bucket("data")
    storage.put_bucket_notification_configuration("data", {"EventBridgeConfiguration": {}})
    storage.put_object("data", "k.csv", b"12345")
    assert events.drain(timeout=20)

    [event] = received()
    assert set(event) >= {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    detail = event["detail"]
    assert set(detail) >= {"version", "bucket", "object", "request-id", "requester", "reason"}
    assert detail["bucket"] == {"name": "data"}
    assert {"key", "size", "etag", "sequencer"} <= set(detail["object"])
    assert detail["object"]["size"] == 5
