"""Objects: put, get, head, ETags, ranges, copies, deletes, limits — with S3's semantics."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from storage_helpers import blob_paths, make_storage, settle

from groundfog.core.errors import PayloadTooLarge, ResourceNotFound, ValidationError
from groundfog.storage import GetObjectResult, StorageService


def etag_of(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


def test_put_get_head_round_trip_with_s3_etags_and_metadata(storage: StorageService) -> None:
    storage.create_bucket("data")
    body = b"id,label\n1,cat\n2,dog\n" * 1000
    put = storage.put_object(
        "data", "raw/train.csv", body, content_type="text/csv", metadata={"Owner": "ml-team", "note": "naïve ✓"}
    )
    assert put.etag == etag_of(body)
    assert put.size == len(body)
    head = storage.head_object("data", "raw/train.csv")
    assert head == put
    assert head.content_type == "text/csv"
    assert head.metadata == {"owner": "ml-team", "note": "naïve ✓"}  # names lower-cased, as S3 returns them
    got = storage.get_object("data", "raw/train.csv")
    assert isinstance(got, GetObjectResult)
    assert (got.etag, got.size, got.content_length, got.content_range) == (put.etag, len(body), len(body), None)
    assert got.read() == body
    assert storage.get_object_bytes("data", "raw/train.csv") == body
    assert head.model_dump(by_alias=True)["ETag"] == etag_of(body)


def test_overwriting_replaces_bytes_and_metadata_and_leaves_one_blob(storage: StorageService) -> None:
    storage.create_bucket("data")
    storage.put_object("data", "model.bin", b"v1" * 100, metadata={"v": "1"})
    second = storage.put_object("data", "model.bin", b"version two")
    assert storage.get_object_bytes("data", "model.bin") == b"version two"
    assert storage.head_object("data", "model.bin") == second
    assert second.metadata == {}
    settle(storage)
    assert len(blob_paths(storage)) == 1
    assert [o.key for o in storage.list_objects_v2("data").contents] == ["model.bin"]


@pytest.mark.parametrize(
    "make_body",
    [
        pytest.param(lambda data, tmp: data, id="bytes"),
        pytest.param(lambda data, tmp: bytearray(data), id="bytearray"),
        pytest.param(lambda data, tmp: io.BytesIO(data), id="binary-file"),
        pytest.param(lambda data, tmp: (data[i : i + 7] for i in range(0, len(data), 7)), id="iterable"),
        pytest.param(lambda data, tmp: (tmp.write_bytes(data), tmp)[1], id="path"),
    ],
)
def test_every_kind_of_body_stores_the_same_bytes(
    local_storage: StorageService, tmp_path: Path, make_body: object
) -> None:
    local_storage.create_bucket("data")
    data = bytes(range(256)) * 50
    info = local_storage.put_object("data", "k", make_body(data, tmp_path / "src.bin"))  # type: ignore[operator]
    assert info.etag == etag_of(data)
    assert local_storage.get_object_bytes("data", "k") == data


def test_str_bodies_are_utf8_and_empty_objects_have_the_md5_of_nothing(local_storage: StorageService) -> None:
    local_storage.create_bucket("data")
    assert local_storage.put_object("data", "hello.txt", "héllo").etag == etag_of("héllo".encode())
    empty = local_storage.put_object("data", "empty")
    assert (empty.size, empty.etag) == (0, '"d41d8cd98f00b204e9800998ecf8427e"')
    assert empty.content_type == "binary/octet-stream"
    assert local_storage.get_object_bytes("data", "empty") == b""


def test_put_file_streams_a_local_file(storage_objects: StorageService, tmp_path: Path) -> None:
    source = tmp_path / "weights.bin"
    source.write_bytes(b"\x00\x01" * 700_000)  # 1.4 MB: more than one chunk
    storage_objects.create_bucket("data")
    info = storage_objects.put_file("data", "models/weights.bin", source)
    assert info.etag == etag_of(source.read_bytes())
    assert storage_objects.get_object_bytes("data", "models/weights.bin") == source.read_bytes()
    with pytest.raises(ValidationError, match="not a readable file"):
        storage_objects.put_file("data", "x", tmp_path / "missing.bin")


def test_unsupported_body_type_is_a_validation_error(local_storage: StorageService) -> None:
    local_storage.create_bucket("data")
    with pytest.raises(ValidationError, match="Body must be bytes, str") as caught:
        local_storage.put_object("data", "k", 12345)
    assert caught.value.field == "Body"
    with pytest.raises(ValidationError, match="must yield bytes"):
        local_storage.put_object("data", "k", [b"ok", 3])
    assert local_storage.list_objects_v2("data").contents == []


RANGES = [
    ("bytes=0-99", 0, 100),
    ("bytes=100-", 100, 200),
    ("bytes=-50", 150, 200),
    ("bytes=150-999", 150, 200),
    ("bytes=199-199", 199, 200),
    ("bytes=-500", 0, 200),
    ("bytes=0-0", 0, 1),
]


def test_byte_ranges_follow_rfc_7233(storage: StorageService) -> None:
    storage.create_bucket("data")
    data = bytes(range(200))
    storage.put_object("data", "blob", data)
    for header, start, end in RANGES:
        got = storage.get_object("data", "blob", range=header)
        assert got.read() == data[start:end], header
        assert got.content_range == f"bytes {start}-{end - 1}/200", header
        assert (got.content_length, got.size) == (end - start, 200), header


BAD_RANGES = ["bytes=200-", "bytes=300-400", "bytes=5-2", "bytes=-0", "bytes=", "bytes=abc", "items=0-1", "bytes=0-1,5-6", "0-1"]


def test_unsatisfiable_or_malformed_ranges_are_invalid_range(local_storage: StorageService) -> None:
    local_storage.create_bucket("data")
    local_storage.put_object("data", "blob", bytes(200))
    local_storage.put_object("data", "empty", b"")
    for bucket_key, header in [("blob", h) for h in BAD_RANGES] + [("empty", "bytes=0-0"), ("empty", "bytes=-1")]:
        with pytest.raises(ValidationError, match="InvalidRange") as caught:
            local_storage.get_object("data", bucket_key, range=header)
        assert caught.value.field == "Range", header


def test_missing_objects_are_not_found(storage_objects: StorageService) -> None:
    storage_objects.create_bucket("data")
    with pytest.raises(ResourceNotFound, match="no object 'nope' in bucket 'data'") as caught:
        storage_objects.get_object("data", "nope")
    assert caught.value.field == "Key"
    with pytest.raises(ResourceNotFound):
        storage_objects.head_object("data", "nope")


def test_user_metadata_is_limited_to_2kb_and_header_safe_names(local_storage: StorageService) -> None:
    local_storage.create_bucket("data")
    with pytest.raises(ValidationError, match="must be at most 2048 bytes"):
        local_storage.put_object("data", "k", b"x", metadata={"big": "v" * 2046})
    local_storage.put_object("data", "k", b"x", metadata={"big": "v" * 2045})  # 3 + 2045 = 2048: allowed
    for bad, fragment in [
        ({"has space": "v"}, "non-empty token"),
        ({"": "v"}, "non-empty token"),
        ({"n": 1}, "must be a string"),
        ({"n": "line\nbreak"}, "control characters"),
        ({"Dup": "1", "dup": "2"}, "given twice"),
        (["n"], "mapping"),
    ]:
        with pytest.raises(ValidationError, match=fragment):
            local_storage.put_object("data", "bad", b"x", metadata=bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="ContentType"):
        local_storage.put_object("data", "bad", b"x", content_type="text/plain\r\nX-Evil: 1")
    assert [o.key for o in local_storage.list_objects_v2("data").contents] == ["k"]


def test_objects_larger_than_the_put_limit_are_refused_and_leave_nothing(tmp_path: Path) -> None:
    service = make_storage(
        tmp_path / "home", f"sqlite:///{tmp_path / 'state.db'}", {"objects_url": str(tmp_path / "objects")},
        max_object_size=10,
    )
    try:
        service.create_bucket("data")
        service.put_object("data", "ok", b"x" * 10)
        with pytest.raises(PayloadTooLarge, match="EntityTooLarge"):
            service.put_object("data", "big", iter([b"x" * 6, b"x" * 6]))
        assert [o.key for o in service.list_objects_v2("data").contents] == ["ok"]
        assert blob_paths(service) == ["data/ok"]  # no temp file left behind
    finally:
        service.close()


def test_copy_keeps_metadata_by_default_and_replaces_it_when_asked(storage: StorageService) -> None:
    storage.create_bucket("src")
    storage.create_bucket("dst")
    body = b"features" * 300
    original = storage.put_object("src", "a.parquet", body, content_type="application/x-parquet", metadata={"stage": "raw"})

    copied = storage.copy_object("src", "a.parquet", "dst", "b.parquet")
    assert (copied.etag, copied.size, copied.content_type, copied.metadata) == (
        original.etag, len(body), "application/x-parquet", {"stage": "raw"}
    )
    assert storage.get_object_bytes("dst", "b.parquet") == body

    replaced = storage.copy_object(
        "src", "a.parquet", "dst", "c.parquet", metadata_directive="REPLACE", metadata={"stage": "clean"},
        content_type="application/octet-stream",
    )
    assert (replaced.metadata, replaced.content_type) == ({"stage": "clean"}, "application/octet-stream")
    assert storage.head_object("dst", "c.parquet").metadata == {"stage": "clean"}

    # In place, only with REPLACE (S3's rule); the bytes stay.
    with pytest.raises(ValidationError, match="copy an object to itself without changing"):
        storage.copy_object("src", "a.parquet", "src", "a.parquet")
    storage.copy_object("src", "a.parquet", "src", "a.parquet", metadata_directive="REPLACE", metadata={"v": "2"})
    assert storage.head_object("src", "a.parquet").metadata == {"v": "2"}
    assert storage.get_object_bytes("src", "a.parquet") == body
    assert storage.get_object_bytes("src", "a.parquet") == storage.get_object_bytes("dst", "b.parquet")


def test_copy_refuses_bad_directives_and_missing_sources(storage_objects: StorageService) -> None:
    storage_objects.create_bucket("data")
    storage_objects.put_object("data", "a", b"a")
    with pytest.raises(ValidationError, match="'COPY' or 'REPLACE'"):
        storage_objects.copy_object("data", "a", "data", "b", metadata_directive="MERGE")
    with pytest.raises(ValidationError, match="only applied with MetadataDirective 'REPLACE'"):
        storage_objects.copy_object("data", "a", "data", "b", metadata={"x": "1"})
    with pytest.raises(ResourceNotFound, match="no object 'zz'"):
        storage_objects.copy_object("data", "zz", "data", "b")
    with pytest.raises(ResourceNotFound, match="bucket 'elsewhere'"):
        storage_objects.copy_object("data", "a", "elsewhere", "b")
    assert [o.key for o in storage_objects.list_objects_v2("data").contents] == ["a"]


def test_delete_is_idempotent_and_removes_the_bytes(storage: StorageService) -> None:
    storage.create_bucket("data")
    storage.put_object("data", "a/b.txt", b"x")
    storage.put_object("data", "c.txt", b"y")
    storage.delete_object("data", "a/b.txt")
    storage.delete_object("data", "a/b.txt")  # again: fine, as on S3
    storage.delete_object("data", "never-existed")
    with pytest.raises(ResourceNotFound):
        storage.head_object("data", "a/b.txt")
    assert [o.key for o in storage.list_objects_v2("data").contents] == ["c.txt"]
    settle(storage)
    assert len(blob_paths(storage)) == 1

    result = storage.delete_objects("data", ["c.txt", "ghost"])
    assert result.deleted == ["c.txt", "ghost"] and result.errors == []
    assert storage.list_objects_v2("data").key_count == 0
    settle(storage)
    assert blob_paths(storage) == []


def test_delete_objects_validates_every_key_before_deleting_any(local_storage: StorageService) -> None:
    local_storage.create_bucket("data")
    local_storage.put_object("data", "a", b"a")
    with pytest.raises(ValidationError, match="'..' path segment"):
        local_storage.delete_objects("data", ["a", "../etc"])
    with pytest.raises(ValidationError, match="at most 1000 keys"):
        local_storage.delete_objects("data", [f"k{i}" for i in range(1001)])
    assert local_storage.head_object("data", "a").size == 1


def test_concurrent_overwrites_never_mix_bytes_and_metadata(storage_objects: StorageService) -> None:
    """Readers racing writers on one key always get a body whose MD5 is the ETag they got."""
    import threading

    storage_objects.create_bucket("data")
    storage_objects.put_object("data", "hot.bin", b"initial")
    stop = threading.Event()
    problems: list[str] = []

    def write(writer: int) -> None:
        for version in range(8):
            storage_objects.put_object("data", "hot.bin", f"writer {writer} version {version} ".encode() * (500 + version))

    def read() -> None:
        while not stop.is_set():
            try:
                got = storage_objects.get_object("data", "hot.bin")
                body = got.read()
            except Exception as exc:  # noqa: BLE001 (any failure is the finding)
                problems.append(f"{type(exc).__name__}: {exc}")
                return
            if etag_of(body) != got.etag or len(body) != got.size:
                problems.append(f"{got.etag} / {len(body)} bytes does not match its body")

    readers = [threading.Thread(target=read) for _ in range(2)]
    writers = [threading.Thread(target=write, args=(w,)) for w in range(2)]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in readers:
        thread.join()
    assert problems == []
    final = storage_objects.get_object("data", "hot.bin")
    assert etag_of(final.read()) == final.etag
    settle(storage_objects)
    assert len(blob_paths(storage_objects)) == 1  # every replaced version was removed


def test_replaced_versions_stay_readable_for_the_retention_period(storage_objects: StorageService) -> None:
    storage_objects.create_bucket("data")
    storage_objects.put_object("data", "k", b"old" * 1000)
    reader = storage_objects.get_object("data", "k")  # opened before the overwrite...
    storage_objects.put_object("data", "k", b"new")
    storage_objects.delete_object("data", "k")
    assert reader.read() == b"old" * 1000  # ...still streams the bytes it started with
    storage_objects.clock.advance(storage_objects.superseded_retention - 10)  # type: ignore[attr-defined]
    storage_objects.collect_garbage()
    kept = len(blob_paths(storage_objects))
    assert kept == (2 if storage_objects.backend.versioned_paths else 0)
    settle(storage_objects)
    assert blob_paths(storage_objects) == []


def test_an_upload_interrupted_before_its_index_commit_is_collected_later(storage_objects: StorageService) -> None:
    if not storage_objects.backend.versioned_paths:
        pytest.skip("per-version stores only; local temp files are swept by age (see the kill -9 test)")
    storage_objects.create_bucket("data")
    # What a process killed between upload and index commit leaves: a queued blob, no row.
    path = storage_objects.backend.path_for("data", "lost.bin", "0" * 32)
    storage_objects._queue_pending(path)
    writer = storage_objects.backend.open_write(path)
    writer.write(b"uploaded, never indexed")
    writer.commit()
    assert blob_paths(storage_objects) == [path]
    settle(storage_objects)
    assert blob_paths(storage_objects) == [path]  # still within the upload grace period
    storage_objects.clock.advance(86400)  # type: ignore[attr-defined]
    restarted_collects = storage_objects.collect_garbage()
    assert restarted_collects == 1 and blob_paths(storage_objects) == []
