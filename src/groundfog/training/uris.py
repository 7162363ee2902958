"""``s3://bucket/prefix`` URIs as SageMaker's requests carry them, checked against the object store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from groundfog.core.errors import ValidationError
from groundfog.core.names import validate_bucket_name

if TYPE_CHECKING:
    from groundfog.storage import StorageService
    from groundfog.storage.models import ObjectSummary


def parse_s3_uri(uri: object, field: str) -> tuple[str, str]:
    """``"s3://data/train/"`` → ``("data", "train/")``; the error names ``field``.

    >>> parse_s3_uri("s3://data/train/", "S3Uri")
    ('data', 'train/')
    """
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise ValidationError(f"{field} must be an s3://BUCKET/PREFIX URI, got {uri!r}", field=field)
    bucket, _, key = uri[len("s3://") :].partition("/")
    try:
        validate_bucket_name(bucket, field)
    except ValidationError as exc:
        raise ValidationError(f"{field} {uri!r}: {exc.message}", field=field) from None
    if "\0" in key or len(key.encode()) > 1024:
        raise ValidationError(f"{field} {uri!r} has an invalid key prefix", field=field)
    return bucket, key


def join_uri(uri: str, *parts: str) -> str:
    """``join_uri("s3://out/models", "job", "output")`` → ``"s3://out/models/job/output"``."""
    return "/".join([uri.rstrip("/"), *(p.strip("/") for p in parts if p)])


def list_objects(storage: "StorageService", bucket: str, prefix: str) -> list["ObjectSummary"]:
    """Every object under ``prefix``, all pages."""
    found: list[ObjectSummary] = []
    token = None
    while True:
        page = storage.list_objects_v2(bucket, prefix=prefix, continuation_token=token)
        found.extend(page.contents)
        if not page.is_truncated:
            return found
        token = page.next_continuation_token


def objects_under(storage: "StorageService", uri: str, field: str) -> list[tuple["ObjectSummary", str]]:
    """The objects an S3Prefix data source names, each with its path relative to the
    prefix (as SageMaker lays them out in the channel directory); an error naming
    ``field`` if the bucket is missing or nothing is there."""
    from groundfog.core.errors import ResourceNotFound

    bucket, prefix = parse_s3_uri(uri, field)
    try:
        found = list_objects(storage, bucket, prefix)
    except ResourceNotFound:
        raise ValidationError(f"{field} {uri!r}: no bucket named {bucket!r}", field=field) from None
    out = []
    for obj in found:
        rel = obj.key[len(prefix) :].lstrip("/") if obj.key != prefix else obj.key.rsplit("/", 1)[-1]
        if rel and not rel.endswith("/"):  # "folder" placeholder objects hold no data
            out.append((obj, rel))
    if not out:
        raise ValidationError(f"{field} {uri!r} matches no objects; upload the data first", field=field)
    return out


def check_bucket(storage: "StorageService", uri: str, field: str) -> tuple[str, str]:
    """Parse ``uri`` and check that its bucket exists (an output location, say)."""
    from groundfog.core.errors import ResourceNotFound

    bucket, key = parse_s3_uri(uri, field)
    try:
        storage.list_objects_v2(bucket, prefix=key, max_keys=0)
    except ResourceNotFound:
        raise ValidationError(f"{field} {uri!r}: no bucket named {bucket!r}", field=field) from None
    return bucket, key
