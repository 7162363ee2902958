"""The object routes (PUT/GET/HEAD/DELETE, streamed) and RemoteStorage over them,
through the real app (error mapping included) on every object backend."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from groundfog.api import create_app
from groundfog.client import RemoteService
from groundfog.core.errors import PayloadTooLarge, ResourceNotFound, ValidationError
from groundfog.storage import GetObjectResult, ListObjectsResult, ObjectInfo
from groundfog.storage.client import RemoteStorage

BASE = "/api/storage/objects"


def _serve(platform: Any) -> Iterator[TestClient]:
    platform.storage.create_bucket("data")
    with TestClient(create_app(platform), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def http_any(storage_platform: Any) -> Iterator[TestClient]:
    """The app on every object backend."""
    yield from _serve(storage_platform)


@pytest.fixture
def http(local_platform: Any) -> Iterator[TestClient]:
    """The app on embedded defaults (the routes do not depend on the backend)."""
    yield from _serve(local_platform)


@pytest.fixture
def remote(http: TestClient) -> RemoteStorage:
    # Wired exactly as groundfog.client.RemotePlatform wires it.
    service = RemoteService("storage", http)
    return RemoteStorage(http, lambda op, kw: service.__getattr__(op)(**kw))


def test_put_get_head_delete_over_http(http_any: TestClient) -> None:
    http = http_any
    body = b"0123456789" * 100
    put = http.put(
        f"{BASE}/data/raw/2026/x y.bin", content=body,
        headers={"Content-Type": "application/x-thing", "x-amz-meta-Owner": "ml", "x-amz-meta-note": "=?UTF-8?B?bmHDr3Zl?="},
    )
    assert put.status_code == 200, put.text
    etag = '"' + hashlib.md5(body).hexdigest() + '"'
    assert put.headers["etag"] == etag
    assert put.json()["metadata"] == {"owner": "ml", "note": "naïve"}

    got = http.get(f"{BASE}/data/raw/2026/x%20y.bin")
    assert got.status_code == 200 and got.content == body
    assert got.headers["etag"] == etag
    assert got.headers["content-length"] == "1000"
    assert got.headers["content-type"].startswith("application/x-thing")
    assert got.headers["last-modified"].endswith(" GMT")
    assert got.headers["x-amz-meta-owner"] == "ml"
    assert got.headers["x-amz-meta-note"] == "=?UTF-8?B?bmHDr3Zl?="
    assert got.headers["accept-ranges"] == "bytes"

    part = http.get(f"{BASE}/data/raw/2026/x y.bin", headers={"Range": "bytes=-10"})
    assert part.status_code == 206
    assert part.content == body[-10:]
    assert (part.headers["content-range"], part.headers["content-length"]) == ("bytes 990-999/1000", "10")

    head = http.head(f"{BASE}/data/raw/2026/x y.bin")
    assert head.status_code == 200 and head.content == b""
    assert (head.headers["content-length"], head.headers["etag"]) == ("1000", etag)

    assert http.delete(f"{BASE}/data/raw/2026/x y.bin").status_code == 204
    assert http.delete(f"{BASE}/data/raw/2026/x y.bin").status_code == 204  # idempotent
    missing = http.get(f"{BASE}/data/raw/2026/x y.bin")
    assert missing.status_code == 404
    assert missing.json()["__type"] == "ResourceNotFoundException"
    assert http.head(f"{BASE}/data/raw/2026/x y.bin").status_code == 404


def test_a_chunked_upload_streams_into_the_store(http: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for i in range(6):
            yield bytes([i]) * (1 << 20)

    put = http.put(f"{BASE}/data/big.bin", content=chunks())
    assert put.status_code == 200, put.text
    expected = b"".join(bytes([i]) * (1 << 20) for i in range(6))
    assert put.json()["size"] == len(expected)
    assert put.headers["etag"] == '"' + hashlib.md5(expected).hexdigest() + '"'
    assert http.get(f"{BASE}/data/big.bin").content == expected


def test_http_errors_are_typed_and_change_nothing(http: TestClient, local_platform: Any) -> None:
    http.put(f"{BASE}/data/a.txt", content=b"abc")
    bad_range = http.get(f"{BASE}/data/a.txt", headers={"Range": "bytes=10-20"})
    assert bad_range.status_code == 400
    assert bad_range.json()["__type"] == "ValidationException" and "InvalidRange" in bad_range.json()["message"]
    escape = http.put(f"{BASE}/data/..%2F..%2Fescape", content=b"evil")
    assert escape.status_code == 400 and escape.json()["field"] == "Key"
    assert http.put(f"{BASE}/nope/a.txt", content=b"x").status_code == 404
    too_big = http.put(f"{BASE}/data/huge", content=b"x", headers={"Content-Length": str(6 * 1024**3)})
    assert too_big.status_code == 413
    big_meta = http.put(f"{BASE}/data/m", content=b"x", headers={"x-amz-meta-a": "v" * 3000})
    assert big_meta.status_code == 400
    assert [o.key for o in local_platform.storage.list_objects_v2("data").contents] == ["a.txt"]


def test_remote_storage_has_the_services_methods_and_models(remote: RemoteStorage, tmp_path: Path) -> None:
    put = remote.put_object("data", "a/b.txt", "héllo", content_type="text/plain", metadata={"k": "✓"})
    assert isinstance(put, ObjectInfo)
    assert put.etag == '"' + hashlib.md5("héllo".encode()).hexdigest() + '"'
    assert remote.head_object("data", "a/b.txt") == put  # generic operation, same model

    source = tmp_path / "weights.bin"
    source.write_bytes(bytes(range(256)) * 9000)
    uploaded = remote.put_file("data", "models/weights.bin", source)
    assert uploaded.size == source.stat().st_size

    got = remote.get_object("data", "models/weights.bin", range="bytes=256-511")
    assert isinstance(got, GetObjectResult)
    assert got.read() == bytes(range(256))
    assert (got.size, got.content_length, got.content_range) == (256 * 9000, 256, "bytes 256-511/2304000")
    whole = remote.get_object("data", "a/b.txt")
    assert (whole.metadata, whole.content_type, whole.etag) == ({"k": "✓"}, put.content_type, put.etag)
    assert whole.read() == "héllo".encode()
    assert remote.get_object_bytes("data", "models/weights.bin") == source.read_bytes()

    page = remote.list_objects_v2("data", delimiter="/")
    assert isinstance(page, ListObjectsResult)
    assert page.common_prefixes == ["a/", "models/"]
    copied = remote.copy_object("data", "a/b.txt", "data", "c.txt")
    assert copied.etag == put.etag
    assert [b.name for b in remote.list_buckets()] == ["data"]
    remote.delete_object("data", "c.txt")
    assert remote.delete_objects("data", ["a/b.txt"]).deleted == ["a/b.txt"]


def test_remote_storage_raises_the_same_typed_errors(remote: RemoteStorage) -> None:
    with pytest.raises(ResourceNotFound, match="no object 'missing'"):
        remote.get_object("data", "missing")
    with pytest.raises(ResourceNotFound):
        remote.head_object("data", "missing")
    with pytest.raises(ValidationError, match="'..' path segment"):
        remote.put_object("data", "../x", b"x")  # refused before it is sent
    remote.put_object("data", "r", b"abc")
    with pytest.raises(ValidationError, match="InvalidRange"):
        remote.get_object("data", "r", range="bytes=5-")
    with pytest.raises(AttributeError, match="no operation 'put_bucket_policy'"):
        remote.put_bucket_policy  # noqa: B018


def test_remote_put_is_refused_when_larger_than_the_limit(remote: RemoteStorage, local_platform: Any) -> None:
    local_platform.storage.max_object_size = 5
    with pytest.raises(PayloadTooLarge, match="EntityTooLarge"):
        remote.put_object("data", "big", b"123456")
    with pytest.raises(PayloadTooLarge):
        remote.put_object("data", "big", iter([b"123", b"456"]))  # no Content-Length: caught while streaming
    with pytest.raises(ResourceNotFound):
        remote.head_object("data", "big")
