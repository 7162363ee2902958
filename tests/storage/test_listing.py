"""list_objects_v2: S3's prefix/delimiter grouping, UTF-8 binary order, pagination."""

from __future__ import annotations

import uuid

import pytest
from storage_helpers import s3_client

from groundfog.core.errors import ResourceNotFound, ValidationError
from groundfog.storage import StorageService

# Chosen so they can also live on a filesystem (no key is a folder of another) and
# so code-point order differs from "natural" order: 'Z' < 'a' < '~' < 'é' < '中'.
KEYS = [
    "alpha.txt",
    "data/2026/01.csv",
    "data/2026/02.csv",
    "data/2027/01.csv",
    "data/readme.md",
    "data-old/x",
    "logs/x",
    "Zeta",
    "zz/é.txt",
    "zz/z.txt",
    "~tilde",
    "émoji/1",
    "中文/数据.csv",
]


def reference(keys: list[str], prefix: str, delimiter: str | None) -> list[tuple[str, str]]:
    """What S3 returns, all pages together: (kind, name) in UTF-8 binary order."""
    items: list[tuple[str, str]] = []
    for key in sorted(keys, key=lambda k: k.encode("utf-8")):
        if not key.startswith(prefix):
            continue
        cut = key.find(delimiter, len(prefix)) if delimiter else -1
        if cut >= 0:
            common = key[: cut + len(delimiter or "")]
            if ("prefix", common) not in items:
                items.append(("prefix", common))
        else:
            items.append(("key", key))
    return items


def walk(storage: StorageService, prefix: str, delimiter: str | None, max_keys: int) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    token = None
    for _ in range(100):
        page = storage.list_objects_v2("data", prefix=prefix, delimiter=delimiter, max_keys=max_keys, continuation_token=token)
        page_items = [("key", o.key) for o in page.contents] + [("prefix", p) for p in page.common_prefixes]
        assert page.key_count == len(page_items) <= max_keys
        assert page.is_truncated == (page.next_continuation_token is not None)
        # Within a page, both lists are in order, and they interleave in key order.
        items.extend(sorted(page_items, key=lambda item: item[1].encode("utf-8")))
        if not page.is_truncated:
            return items
        assert page.key_count == max_keys  # only a full page says "more"
        token = page.next_continuation_token
    raise AssertionError("listing never finished")


def fill(storage: StorageService) -> StorageService:
    storage.create_bucket("data")
    for key in KEYS:
        storage.put_object("data", key, key.encode())
    return storage


@pytest.fixture
def filled(local_storage: StorageService) -> StorageService:
    return fill(local_storage)


def test_every_page_walk_matches_s3_semantics_on_every_state_store(storage_states: StorageService) -> None:
    filled = fill(storage_states)
    cases = [("", None), ("", "/"), ("data/", "/"), ("data/2026", "/"), ("data", "/"), ("zz/", None),
             ("nothing", "/"), ("data/", "0"), ("", "a"), ("中", "/")]
    for prefix, delimiter in cases:
        expected = reference(KEYS, prefix, delimiter)
        for max_keys in (1, 2, 3, 1000):
            assert walk(filled, prefix, delimiter, max_keys) == expected, (prefix, delimiter, max_keys)


def test_keys_come_back_in_utf8_binary_order_with_sizes_and_etags(filled: StorageService) -> None:
    page = filled.list_objects_v2("data")
    assert [o.key for o in page.contents] == sorted(KEYS, key=lambda k: k.encode("utf-8"))
    first = page.contents[0]
    assert (first.key, first.size) == ("Zeta", 4)
    assert first.etag == filled.head_object("data", "Zeta").etag
    assert (page.is_truncated, page.key_count, page.next_continuation_token) == (False, len(KEYS), None)


def test_common_prefixes_count_toward_max_keys(filled: StorageService) -> None:
    page = filled.list_objects_v2("data", delimiter="/", max_keys=3)
    assert page.key_count == 3
    assert [o.key for o in page.contents] == ["Zeta", "alpha.txt"]
    assert page.common_prefixes == ["data-old/"]
    assert page.is_truncated
    nxt = filled.list_objects_v2("data", delimiter="/", max_keys=3, continuation_token=page.next_continuation_token)
    assert nxt.common_prefixes == ["data/", "logs/", "zz/"]
    assert nxt.contents == []


def test_start_after_skips_keys_up_to_and_including_it(filled: StorageService) -> None:
    page = filled.list_objects_v2("data", prefix="data/", start_after="data/2026/01.csv")
    assert [o.key for o in page.contents] == ["data/2026/02.csv", "data/2027/01.csv", "data/readme.md"]
    assert page.start_after == "data/2026/01.csv"


def test_max_keys_zero_returns_nothing_and_is_not_truncated(filled: StorageService) -> None:
    page = filled.list_objects_v2("data", max_keys=0)
    assert (page.contents, page.common_prefixes, page.is_truncated, page.key_count) == ([], [], False, 0)


def test_bad_listing_arguments_are_validation_errors(storage_objects: StorageService) -> None:
    storage_objects.create_bucket("data")
    for kwargs, field in [
        ({"max_keys": 1001}, "MaxKeys"),
        ({"max_keys": -1}, "MaxKeys"),
        ({"max_keys": True}, "MaxKeys"),
        ({"continuation_token": "not-a-token"}, "ContinuationToken"),
        ({"continuation_token": "eyJ4IjoxfQ"}, "ContinuationToken"),
        ({"prefix": "p" * 1025}, "Prefix"),
    ]:
        with pytest.raises(ValidationError) as caught:
            storage_objects.list_objects_v2("data", **kwargs)
        assert caught.value.field == field
    with pytest.raises(ResourceNotFound):
        storage_objects.list_objects_v2("missing-bucket")


def test_listing_matches_a_real_s3_implementation(storage_objects: StorageService) -> None:
    """Differential check against moto's S3 (only on the S3 backend run)."""
    if not storage_objects.config.objects_url.startswith("s3://"):
        pytest.skip("compares with the S3 server; runs with the s3 backend")
    client = s3_client(storage_objects.config.objects_options["endpoint_url"])
    bucket = f"differential-{uuid.uuid4().hex[:8]}"
    client.create_bucket(Bucket=bucket)
    storage_objects.create_bucket("data")
    for key in KEYS:
        client.put_object(Bucket=bucket, Key=key, Body=key.encode())
        storage_objects.put_object("data", key, key.encode())
    for prefix, delimiter in [("", None), ("", "/"), ("data/", "/"), ("data", "/"), ("zz/", None)]:
        for max_keys in (2, 5):
            ours = walk(storage_objects, prefix, delimiter, max_keys)
            theirs: list[tuple[str, str]] = []
            kwargs: dict = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": max_keys}
            if delimiter:
                kwargs["Delimiter"] = delimiter
            while True:
                page = client.list_objects_v2(**kwargs)
                items = [("key", o["Key"]) for o in page.get("Contents", [])]
                items += [("prefix", p["Prefix"]) for p in page.get("CommonPrefixes", [])]
                assert page["KeyCount"] == len(items)
                theirs.extend(sorted(items, key=lambda item: item[1].encode("utf-8")))
                if not page["IsTruncated"]:
                    break
                kwargs["ContinuationToken"] = page["NextContinuationToken"]
            assert ours == theirs, (prefix, delimiter, max_keys)
