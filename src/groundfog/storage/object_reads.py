"""Object reads: get (whole, ranged, into a file), head, and listing."""

from __future__ import annotations

import os
from pathlib import Path

from groundfog.core.errors import ValidationError
from groundfog.core.names import validate_bucket_name
from groundfog.core.service import operation
from groundfog.storage.index import ATTEMPTS, RETRIES, StorageIndex, missing_data, object_info
from groundfog.storage.listing import decode_token, encode_token, scan
from groundfog.storage.models import GetObjectResult, ListObjectsResult, ObjectInfo
from groundfog.storage.validation import MAX_KEY_BYTES, parse_range, validate_key


class ObjectReads(StorageIndex):
    """S3's GetObject, HeadObject and ListObjectsV2."""


    def get_object(self, bucket: str, key: str, range: str | None = None) -> GetObjectResult:  # noqa: A002
        """An object's metadata and streaming body; ``range`` like ``"bytes=0-99"`` (RFC 7233).

        >>> result = storage.get_object("data", "a.txt", range="bytes=-2")  # doctest: +SKIP
        >>> result.read(), result.content_range                              # doctest: +SKIP
        (b'lo', 'bytes 3-4/5')
        """
        validate_bucket_name(bucket)
        validate_key(key)
        for attempt in ATTEMPTS:
            with self.backend.lock(bucket, key):
                row = self._object_row(bucket, key)
                span = parse_range(range, row.size)
                start, end = span or (0, row.size)
                try:
                    body = self.backend.open_read(row.path, start, end)
                    break
                except FileNotFoundError:
                    # Overwritten between reading the row and opening its bytes
                    # (per-version stores delete the old bytes after the new row).
                    if attempt == RETRIES - 1:
                        raise missing_data(bucket, key, row.path) from None
        return GetObjectResult(
            **object_info(row).model_dump(),
            content_length=end - start,
            content_range=f"bytes {start}-{end - 1}/{row.size}" if span else None,
            body=body,
        )

    def get_object_bytes(self, bucket: str, key: str, range: str | None = None) -> bytes:  # noqa: A002
        """The whole (or ranged) body in memory: for small objects."""
        return self.get_object(bucket, key, range=range).read()

    def get_file(self, bucket: str, key: str, path: str | os.PathLike[str]) -> ObjectInfo:
        """Download an object into a local file, streamed (the file appears whole or not at all)."""
        result = self.get_object(bucket, key)
        result.save(path)
        return ObjectInfo(**result.model_dump(include=set(ObjectInfo.model_fields)))

    def local_file(self, bucket: str, key: str) -> "Path | None":
        """The file holding the object's bytes when the store is a local directory (so a
        reader can open it in place, as FastFile input does); None on remote stores.
        The file is replaced, not changed, when the object is overwritten."""
        validate_bucket_name(bucket)
        validate_key(key)
        row = self._object_row(bucket, key)
        local_path = getattr(self.backend, "local_path", None)
        return local_path(row.path) if local_path is not None else None

    @operation
    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        validate_bucket_name(bucket)
        validate_key(key)
        return object_info(self._object_row(bucket, key))

    @operation
    def list_objects_v2(
        self,
        bucket: str,
        prefix: str = "",
        delimiter: str | None = None,
        max_keys: int = 1000,
        continuation_token: str | None = None,
        start_after: str | None = None,
    ) -> ListObjectsResult:
        """One page of keys in UTF-8 binary order, with S3's prefix/delimiter grouping.

        Common prefixes count toward ``max_keys``; pass ``next_continuation_token``
        back as ``continuation_token`` for the next page.

        >>> page = storage.list_objects_v2("data", prefix="logs/", delimiter="/")  # doctest: +SKIP
        >>> page.common_prefixes                                                    # doctest: +SKIP
        ['logs/2026/']
        """
        validate_bucket_name(bucket)
        prefix = prefix or ""
        delimiter = delimiter or None
        for field, value in (("Prefix", prefix), ("Delimiter", delimiter), ("StartAfter", start_after)):
            if value is not None and (not isinstance(value, str) or len(value.encode("utf-8", "replace")) > MAX_KEY_BYTES):
                raise ValidationError(f"{field} must be a string of at most {MAX_KEY_BYTES} bytes", field=field)
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or not 0 <= max_keys <= 1000:
            raise ValidationError(f"MaxKeys must be an integer from 0 to 1000, got {max_keys!r}", field="MaxKeys")
        cursor = decode_token(continuation_token) if continuation_token else (start_after or "", False)
        with self.state.read() as conn:
            self._bucket_row(conn, bucket)
            contents, prefixes, last = scan(conn, bucket, prefix, delimiter, max_keys, cursor)
        return ListObjectsResult(
            name=bucket,
            prefix=prefix,
            delimiter=delimiter,
            max_keys=max_keys,
            contents=contents,
            common_prefixes=prefixes,
            is_truncated=last is not None,
            key_count=len(contents) + len(prefixes),
            continuation_token=continuation_token,
            next_continuation_token=encode_token(*last) if last else None,
            start_after=start_after,
        )
