"""The HTTP API: every operation over JSON, errors as typed 4xx, never a traceback."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

import groundfog as gf
from groundfog.core.errors import AlreadyExists, ResourceNotFound, ValidationError


def test_health_and_console_answer(server):
    health = httpx.get(server.url + "/health").json()
    assert health["status"] == "ok"
    assert health["state"] in ("sqlite", "postgresql")
    page = httpx.get(server.url + "/")
    assert page.status_code == 200
    assert "groundfog" in page.text and "buckets" in page.text


def test_openapi_schema_lists_the_operations(server):
    schema = httpx.get(server.url + "/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/events/PutRule", "/api/events/TestEventPattern", "/api/storage/CreateBucket",
                 "/api/topics/Publish", "/api/metrics/PutMetricAlarm", "/api/storage/objects/{bucket}/{key}"):
        assert path in paths, path


def test_operations_map_errors_to_aws_style_4xx(server):
    r = httpx.post(server.url + "/api/storage/CreateBucket", json={"bucket": "Bad_Name"})
    assert r.status_code == 400
    assert r.json()["__type"] == "ValidationException"
    assert "Bad_Name" in r.json()["message"]
    r = httpx.post(server.url + "/api/events/DescribeRule", json={"name": "nope"})
    assert r.status_code == 404 and r.json()["__type"] == "ResourceNotFoundException"
    r = httpx.post(server.url + "/api/events/PutRule", json={"name": "r", "event_pattern": {"source": "aws.s3"}})
    assert r.status_code == 400 and "source" in r.json()["message"]


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({}, "bucket"),
        ({"bucket": "ok-bucket", "extra": 1}, "extra"),
        ({"bucket": ["not", "a", "string"]}, "bucket"),
        ({"": 1, "bucket": "ok-bucket"}, '""'),  # an empty key is named too (found by the fuzz test)
    ],
)
def test_malformed_requests_name_the_field(server, body, fragment):
    r = httpx.post(server.url + "/api/storage/CreateBucket", json=body)
    assert r.status_code == 400
    assert fragment in r.json()["message"] and r.json()["field"] == fragment


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/api/events/DescribeRule", {"name": "a\x00"}, "name"),  # PostgreSQL refuses NUL in text
        ("/api/events/ListRules", {"name_prefix": "a\x00"}, "name_prefix"),
        ("/api/topics/Publish", {"topic_arn": "t", "message": "a\ud800"}, "message"),  # no encoder takes it
        ("/api/events/PutRule", {"name": "r", "event_pattern": {"source": ["a\ud800"]}}, "event_pattern.source[0]"),
        ("/api/events/PutRule", {"name": "r", "event_pattern": {"a\ud800": ["x"]}}, "event_pattern"),
    ],
)
def test_text_that_cannot_be_stored_is_a_validation_error_naming_the_field(server, path, body, field):
    # Found by tests/api/test_api_fuzz.py: JSON escapes (\u0000, \ud800) decode to
    # strings that failed deep in a query or an encoder, as 500s.
    r = httpx.post(server.url + path, content=json.dumps(body), headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["__type"] == "ValidationException" and r.json()["field"] == field
    assert server.platform.events.list_rules() == []


def test_non_json_body_and_unknown_operation_are_4xx(server):
    r = httpx.post(server.url + "/api/storage/CreateBucket", content=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 400
    # A character position is not a field (found by the fuzz test: it was named "1").
    assert r.json()["__type"] == "ValidationException" and "not valid JSON" in r.json()["message"]
    assert "field" not in r.json()
    r = httpx.post(server.url + "/api/storage/CreateBucket", content=b'{"bucket": "\xff"}',
                   headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["__type"] == "ValidationException"
    r = httpx.post(server.url + "/api/storage/Frobnicate", json={})
    assert r.status_code == 404


def test_remote_sdk_has_the_embedded_methods(server):
    remote = gf.connect(server.url)
    bucket = remote.storage.create_bucket(bucket="remote-data")
    assert bucket.name == "remote-data"
    with pytest.raises(AlreadyExists):
        remote.storage.create_bucket(bucket="remote-data")
    with pytest.raises(ValidationError):
        remote.storage.create_bucket(bucket="NO")
    body = b"a,b\n1,2\n" * 1000
    info = remote.storage.put_object(bucket="remote-data", key="incoming/a.csv", body=body)
    assert info.etag.strip('"') == hashlib.md5(body).hexdigest()
    assert remote.storage.get_object_bytes(bucket="remote-data", key="incoming/a.csv") == body
    listing = remote.storage.list_objects_v2(bucket="remote-data", prefix="incoming/")
    assert [o.key for o in listing.contents] == ["incoming/a.csv"]
    assert remote.events.test_event_pattern(
        event_pattern={"source": ["aws.s3"]},
        event={"id": "1", "account": "000000000000", "source": "aws.s3", "time": "2026-01-01T00:00:00Z",
               "region": "local", "resources": [], "detail-type": "x", "detail": {}},
    ) is True
    with pytest.raises(ResourceNotFound):
        remote.events.describe_rule(name="missing")
    # The embedded platform behind the server sees what the remote one did.
    assert server.platform.storage.head_object(bucket="remote-data", key="incoming/a.csv").size == len(body)
    remote.close()


def test_object_routes_stream_with_ranges_and_metadata(server):
    body = bytes(range(256)) * 100
    r = httpx.put(server.url + "/api/storage/objects/raw", content=b"")
    server.platform.storage.create_bucket(bucket="raw")
    r = httpx.put(server.url + "/api/storage/objects/raw/dir/blob.bin", content=body,
                  headers={"content-type": "application/octet-stream", "x-amz-meta-owner": "ana"})
    assert r.status_code == 200, r.text
    assert r.headers["etag"].strip('"') == hashlib.md5(body).hexdigest()
    r = httpx.get(server.url + "/api/storage/objects/raw/dir/blob.bin", headers={"Range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == body[10:20]
    head = httpx.head(server.url + "/api/storage/objects/raw/dir/blob.bin")
    assert head.headers["x-amz-meta-owner"] == "ana"
    assert int(head.headers["content-length"]) == len(body)
    r = httpx.get(server.url + "/api/storage/objects/raw/..%2F..%2Fetc%2Fpasswd")
    assert r.status_code in (400, 404)


def test_token_required_when_configured(token_server):
    assert httpx.get(token_server.url + "/health").status_code == 200
    r = httpx.post(token_server.url + "/api/storage/ListBuckets", json={})
    assert r.status_code == 401 and r.json()["__type"] == "UnauthorizedException"
    r = httpx.post(token_server.url + "/api/storage/ListBuckets", json={}, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401
    ok = gf.connect(token_server.url, token="s3cret")
    assert ok.storage.list_buckets() == []


def test_server_refuses_non_loopback_without_token():
    from groundfog.api.auth import check_bind

    with pytest.raises(ValidationError, match="GROUNDFOG_API_TOKEN"):
        check_bind("0.0.0.0", None)
    check_bind("0.0.0.0", "token")
    check_bind("127.0.0.1", None)
    check_bind("::1", None)


def test_a_wait_without_timeout_over_http_returns_within_the_cap(tmp_path, monkeypatch):
    """A WaitFor* request holds a server thread for at most MAX_HTTP_WAIT_SECONDS; the
    remote SDK asks again until the job ends."""
    from fastapi.testclient import TestClient

    from groundfog import Platform
    from groundfog.api import operations
    from groundfog.api.app import create_app

    monkeypatch.setattr(operations, "MAX_HTTP_WAIT_SECONDS", 0.5)
    with Platform(home=tmp_path / "home") as p:
        p.pipelines.upsert_pipeline(pipeline_name="gate", pipeline_definition={
            "Steps": [{"Name": "Gate", "Type": "Callback", "Arguments": {}}]})
        arn = p.pipelines.start_pipeline_execution(pipeline_name="gate")["PipelineExecutionArn"]
        client = TestClient(create_app(p))
        import time

        for body in ({"pipeline_execution_arn": arn}, {"pipeline_execution_arn": arn, "timeout": 1e9}):
            started = time.monotonic()
            response = client.post("/api/pipelines/WaitForPipelineExecution", json=body)
            assert response.status_code == 200 and response.json()["PipelineExecutionStatus"] == "Executing"
            assert time.monotonic() - started < 5
        p.pipelines.stop_pipeline_execution(pipeline_execution_arn=arn)
