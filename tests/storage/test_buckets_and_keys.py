"""Buckets follow S3's naming rules; keys can never leave their bucket."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from storage_helpers import blob_paths, settle

from groundfog.core.errors import AlreadyExists, Conflict, ResourceInUse, ResourceNotFound, ValidationError
from groundfog.storage import LocalBackend, StorageService


def test_bucket_lifecycle_create_list_head_delete(storage: StorageService) -> None:
    made = storage.create_bucket("ml-data.v1")
    assert made.name == "ml-data.v1"
    assert made.arn == "arn:groundfog:storage:local:000000000000:bucket/ml-data.v1"
    storage.create_bucket("another")
    assert [b.name for b in storage.list_buckets()] == ["another", "ml-data.v1"]
    assert storage.head_bucket("another").arn.endswith(":bucket/another")
    storage.delete_bucket("another")
    assert [b.name for b in storage.list_buckets()] == ["ml-data.v1"]
    with pytest.raises(ResourceNotFound, match="'another' does not exist"):
        storage.head_bucket("another")


def test_creating_a_bucket_twice_is_already_exists(storage_states: StorageService) -> None:
    storage_states.create_bucket("data")
    with pytest.raises(AlreadyExists, match="'data' already exists"):
        storage_states.create_bucket("data")


BAD_BUCKET_NAMES = [
    ("ab", "3-63 characters"),
    ("a" * 64, "3-63 characters"),
    ("Data", "only lowercase letters"),
    ("my_bucket", "only lowercase letters"),
    ("-data", "begin and end with a letter or digit"),
    ("data-", "begin and end with a letter or digit"),
    ("data..set", "two adjacent periods"),
    ("data.-set", "period next to a hyphen"),
    ("192.168.10.1", "IP address"),
    ("xn--data", "reserved prefix"),
    ("sthree-data", "reserved prefix"),
    ("data-s3alias", "reserved suffix"),
    ("data--ol-s3", "reserved suffix"),
    (42, "must be a string"),
]


@pytest.mark.parametrize(("name", "fragment"), BAD_BUCKET_NAMES)
def test_bad_bucket_names_are_refused_with_the_rule_broken(
    local_storage: StorageService, name: object, fragment: str
) -> None:
    with pytest.raises(ValidationError, match=fragment) as caught:
        local_storage.create_bucket(name)  # type: ignore[arg-type]
    assert caught.value.field == "Bucket"
    assert local_storage.list_buckets() == []
    root = local_storage.backend.root
    assert not root.exists() or [p.name for p in root.iterdir() if not p.name.startswith(".")] == []


def test_deleting_a_bucket_with_objects_is_resource_in_use(storage: StorageService) -> None:
    storage.create_bucket("data")
    storage.put_object("data", "a.txt", b"a")
    storage.put_object("data", "b/c.txt", b"c")
    with pytest.raises(ResourceInUse, match=r"bucket 'data' is not empty \(2 objects\)"):
        storage.delete_bucket("data")
    assert storage.head_object("data", "a.txt").size == 1
    storage.delete_objects("data", ["a.txt", "b/c.txt"])
    storage.delete_bucket("data")
    assert storage.list_buckets() == []
    assert blob_paths(storage) == []


def test_objects_in_a_missing_bucket_are_not_found(storage_objects: StorageService) -> None:
    with pytest.raises(ResourceNotFound, match="bucket 'nope' does not exist"):
        storage_objects.put_object("nope", "a", b"x")
    with pytest.raises(ResourceNotFound, match="bucket 'nope' does not exist"):
        storage_objects.get_object("nope", "a")
    with pytest.raises(ResourceNotFound, match="bucket 'nope' does not exist"):
        storage_objects.list_objects_v2("nope")
    with pytest.raises(ResourceNotFound):
        storage_objects.delete_object("nope", "a")


BAD_KEYS = [
    ("../x", "'..' path segment"),
    ("/etc/passwd", "must not start with '/'"),
    ("a/../../b", "'..' path segment"),
    ("..", "'..' path segment"),
    (".", "'.' path segment"),
    ("a/./b", "'.' path segment"),
    ("a\x00b", "NUL"),
    ("a\\..\\..\\b", "backslash"),
    ("C:\\Windows\\x", "backslash"),
    ("a//b", "empty path segment"),
    ("folder/", "must not end with '/'"),
    ("", "1-1024 bytes"),
    ("k" * 1025, "1-1024 bytes"),
    ("é" * 513, "1-1024 bytes"),  # 1026 bytes of UTF-8
    ("\ud800", "not valid UTF-8"),
    (7, "must be a string"),
]


def test_keys_that_could_escape_the_bucket_are_refused_and_nothing_changes(
    storage_objects: StorageService, tmp_path: Path
) -> None:
    storage_objects.create_bucket("data")
    storage_objects.put_object("data", "keep.txt", b"keep")
    before = blob_paths(storage_objects)
    for key, fragment in BAD_KEYS:
        with pytest.raises(ValidationError, match=fragment) as caught:
            storage_objects.put_object("data", key, b"evil")  # type: ignore[arg-type]
        assert caught.value.field == "Key", key
        for call in (storage_objects.get_object, storage_objects.head_object, storage_objects.delete_object):
            with pytest.raises(ValidationError):
                call("data", key)  # type: ignore[arg-type]
        with pytest.raises(ValidationError):
            storage_objects.copy_object("data", "keep.txt", "data", key)  # type: ignore[arg-type]
    assert [o.key for o in storage_objects.list_objects_v2("data").contents] == ["keep.txt"]
    assert blob_paths(storage_objects) == before
    outside = {p.name for p in tmp_path.rglob("*")}
    assert "passwd" not in outside and "x" not in outside and "b" not in outside


def test_a_symlink_inside_the_objects_directory_cannot_lead_outside(local_storage: StorageService, tmp_path: Path) -> None:
    local_storage.create_bucket("data")
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, local_storage.backend.root / "data" / "link")
    with pytest.raises(ValidationError, match="resolves outside its bucket directory"):
        local_storage.put_object("data", "link/x", b"evil")
    assert list(outside.iterdir()) == []


def test_a_key_can_also_be_a_folder_of_other_keys_as_on_s3(local_storage: StorageService) -> None:
    local_storage.create_bucket("data")
    local_storage.put_object("data", "a", b"file")
    local_storage.put_object("data", "a/b", b"inside")
    local_storage.put_object("data", "c/d", b"x")
    local_storage.put_object("data", "c", b"beside its folder")
    local_storage.copy_object("data", "a", "data", "c/d/e")
    assert [o.key for o in local_storage.list_objects_v2("data").contents] == ["a", "a/b", "c", "c/d", "c/d/e"]
    assert [local_storage.get_object_bytes("data", k) for k in ("a", "a/b", "c", "c/d", "c/d/e")] == [
        b"file", b"inside", b"beside its folder", b"x", b"file"]
    # 'c' lives aside while 'c/...' exists; once that is gone, 'c' moves back to its plain path.
    aside = local_storage.local_file("data", "c")
    assert aside is not None and ".groundfog-aside" in str(aside)
    settle(local_storage)
    local_storage.delete_objects("data", ["c/d", "c/d/e"])
    local_storage.put_object("data", "c", b"now a plain file")
    assert local_storage.local_file("data", "c") == local_storage.backend.root / "data" / "c"
    assert local_storage.get_object_bytes("data", "c") == b"now a plain file"
    assert not aside.exists()  # the bytes it had aside are gone
    local_storage.delete_objects("data", ["a", "a/b", "c"])
    local_storage.delete_bucket("data")
    assert not (local_storage.backend.root / "data").exists()
    assert not (local_storage.backend.root / ".groundfog-aside" / "data").exists()


def test_local_store_refuses_a_path_segment_longer_than_the_filesystem_allows(local_storage: StorageService) -> None:
    local_storage.create_bucket("data")
    with pytest.raises(ValidationError, match="longer than 255 bytes"):
        local_storage.put_object("data", "x" * 256, b"x")


def test_local_store_keeps_objects_at_bucket_key_paths(local_storage: StorageService) -> None:
    local_storage.create_bucket("data")
    local_storage.put_object("data", "raw/2026/train.csv", b"a,b\n")
    assert isinstance(local_storage.backend, LocalBackend)
    assert (local_storage.backend.root / "data" / "raw" / "2026" / "train.csv").read_bytes() == b"a,b\n"
