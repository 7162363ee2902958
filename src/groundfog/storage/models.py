"""The storage service's resources: buckets, objects, listings.

Field names are snake_case; the aliases are S3's names, so ``model_dump(by_alias=True)``
reads like an S3 response.

>>> ObjectInfo(bucket="data", key="a.csv", size=3, etag='"abc"').model_dump(by_alias=True)["ETag"]
'"abc"'
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def _epoch_default() -> datetime:
    return datetime.fromtimestamp(0, tz=timezone.utc)


class Bucket(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(alias="Name")
    arn: str = Field(alias="BucketArn")
    creation_date: datetime = Field(alias="CreationDate")


class ObjectInfo(BaseModel):
    """What ``head_object``, ``put_object`` and ``copy_object`` answer."""

    model_config = ConfigDict(populate_by_name=True)

    bucket: str = Field(alias="Bucket")
    key: str = Field(alias="Key")
    size: int = Field(alias="ContentLength")
    # Quoted MD5 hex, exactly like S3's ETag header: '"9e107d9d372bb6826bd81d3542a419d6"'.
    etag: str = Field(alias="ETag")
    content_type: str = Field(default="binary/octet-stream", alias="ContentType")
    metadata: dict[str, str] = Field(default_factory=dict, alias="Metadata")
    last_modified: datetime = Field(default_factory=_epoch_default, alias="LastModified")


class GetObjectResult(ObjectInfo):
    """An object's metadata and a streaming body (1 MiB chunks).

    ``size`` is the whole object's size; ``content_length`` is what the body holds
    (less when a range was asked for, with ``content_range`` saying which bytes).

    >>> result = storage.get_object("data", "a.csv", range="bytes=0-1")  # doctest: +SKIP
    >>> result.read(), result.content_range                              # doctest: +SKIP
    (b'ab', 'bytes 0-1/3')
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    content_length: int = Field(alias="BodyLength")
    content_range: str | None = Field(default=None, alias="ContentRange")
    body: Any = Field(default=None, exclude=True, repr=False)

    def iter_chunks(self) -> Iterator[bytes]:
        """Iterate the body's chunks (once); the underlying file closes at the end."""
        body, self.body = self.body, iter(())
        try:
            yield from body
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    def read(self) -> bytes:
        """The whole body in memory; prefer iterating for large objects."""
        return b"".join(self.iter_chunks())

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Stream the body into a file; the file appears whole or not at all."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            with open(tmp, "wb") as f:
                sendfile = getattr(self.body, "sendfile", None)
                if sendfile is not None and hasattr(os, "sendfile"):
                    body, self.body = self.body, iter(())
                    sendfile(f.fileno())
                else:
                    for chunk in self.iter_chunks():
                        f.write(chunk)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return target

    def close(self) -> None:
        close = getattr(self.body, "close", None)
        if close is not None:
            close()


class ObjectSummary(BaseModel):
    """One entry of ``list_objects_v2``'s ``contents``."""

    model_config = ConfigDict(populate_by_name=True)

    key: str = Field(alias="Key")
    size: int = Field(alias="Size")
    etag: str = Field(alias="ETag")
    last_modified: datetime = Field(alias="LastModified")
    storage_class: str = Field(default="STANDARD", alias="StorageClass")


class ListObjectsResult(BaseModel):
    """One page of ``list_objects_v2``; ``next_continuation_token`` fetches the next."""

    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(alias="Name")
    prefix: str = Field(default="", alias="Prefix")
    delimiter: str | None = Field(default=None, alias="Delimiter")
    max_keys: int = Field(default=1000, alias="MaxKeys")
    contents: list[ObjectSummary] = Field(default_factory=list, alias="Contents")
    common_prefixes: list[str] = Field(default_factory=list, alias="CommonPrefixes")
    is_truncated: bool = Field(default=False, alias="IsTruncated")
    key_count: int = Field(default=0, alias="KeyCount")
    continuation_token: str | None = Field(default=None, alias="ContinuationToken")
    next_continuation_token: str | None = Field(default=None, alias="NextContinuationToken")
    start_after: str | None = Field(default=None, alias="StartAfter")


class DeleteError(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    key: str = Field(alias="Key")
    code: str = Field(alias="Code")
    message: str = Field(alias="Message")


class DeleteObjectsResult(BaseModel):
    """Like S3, keys that did not exist count as deleted."""

    model_config = ConfigDict(populate_by_name=True)

    deleted: list[str] = Field(default_factory=list, alias="Deleted")
    errors: list[DeleteError] = Field(default_factory=list, alias="Errors")
