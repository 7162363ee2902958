"""Object writes: put (from bytes, a file, a stream) and copy, each committed the same way.

A put streams the body in 1 MiB chunks to a staged blob (hashing as it goes), publishes
it, then commits the index row, then emits events. So an acknowledged put is readable
after a ``kill -9``, and an interrupted put leaves no index row.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from groundfog.core.errors import PayloadTooLarge, ValidationError
from groundfog.core.names import validate_bucket_name
from groundfog.core.service import operation
from groundfog.storage.backends import BlobWriter
from groundfog.storage.bodies import chunks as body_chunks
from groundfog.storage.etag import OverlappedMD5
from groundfog.storage.events import ObjectEvents
from groundfog.storage.garbage import GarbageCollector, queue_for_deletion
from groundfog.storage.index import ATTEMPTS, RETRIES, missing_data, utc
from groundfog.storage.models import ObjectInfo
from groundfog.storage.tables import garbage, objects
from groundfog.storage.validation import validate_content_type, validate_key, validate_metadata


class ObjectWrites(GarbageCollector, ObjectEvents):
    """S3's PutObject and CopyObject."""

    def put_object(
        self,
        bucket: str,
        key: str,
        body: Any = b"",
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        """Store an object from bytes, a str (UTF-8), a binary file, a path, or an iterable of bytes.

        The body streams through in 1 MiB chunks, so memory stays bounded whatever
        its size (up to ``max_object_size``, 5 GiB by default like S3's PutObject).
        """
        validate_bucket_name(bucket)
        validate_key(key)
        content_type = validate_content_type(content_type)
        metadata = validate_metadata(metadata)
        chunks = body_chunks(body)
        with self.state.read() as conn:
            self._bucket_row(conn, bucket)  # fail before streaming gigabytes
        version = uuid.uuid4().hex
        path = self.backend.path_for(bucket, key, version)
        self._queue_pending(path)
        writer = self._guard(path, self.backend.open_write, path)
        md5 = OverlappedMD5()
        size = 0
        try:
            for chunk in chunks:
                size += len(chunk)
                if size > self.max_object_size:
                    raise PayloadTooLarge(
                        f"EntityTooLarge: the body of {bucket}/{key} is larger than the "
                        f"{self.max_object_size}-byte limit of a single put",
                        field="Body",
                    )
                md5.update(chunk)
                writer.write(chunk)
        except BaseException:
            md5.close()
            writer.abort()
            self._unqueue(path)
            raise
        info, notification = self._commit(
            writer,
            bucket=bucket,
            key=key,
            path=path,
            version=version,
            size=size,
            etag=f'"{md5.hexdigest()}"',
            content_type=content_type,
            metadata=metadata,
        )
        self._notify(notification, info, created=True, reason="PutObject", event_name="ObjectCreated:Put")
        return info

    def put_file(
        self,
        bucket: str,
        key: str,
        path: str | os.PathLike[str],
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        """Upload a local file, streamed."""
        source = Path(path)
        if not source.is_file():
            raise ValidationError(f"{str(source)!r} is not a readable file", field="path")
        return self.put_object(bucket, key, source, content_type=content_type, metadata=metadata)

    @operation
    def copy_object(
        self,
        src_bucket: str,
        src_key: str,
        dst_bucket: str,
        dst_key: str,
        metadata_directive: str = "COPY",
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
    ) -> ObjectInfo:
        """Copy an object; ``metadata_directive="REPLACE"`` gives the copy new metadata."""
        validate_bucket_name(src_bucket, "SourceBucket")
        validate_key(src_key, "SourceKey")
        validate_bucket_name(dst_bucket)
        validate_key(dst_key)
        if metadata_directive not in ("COPY", "REPLACE"):
            raise ValidationError(
                f"MetadataDirective {metadata_directive!r} must be 'COPY' or 'REPLACE'", field="MetadataDirective"
            )
        if metadata_directive == "COPY" and (metadata is not None or content_type is not None):
            raise ValidationError(
                "Metadata and ContentType are only applied with MetadataDirective 'REPLACE' "
                "('COPY' keeps the source's); S3 would silently ignore them",
                field="MetadataDirective",
            )
        if metadata_directive == "REPLACE":
            content_type = validate_content_type(content_type)
            metadata = validate_metadata(metadata)
        if (src_bucket, src_key) == (dst_bucket, dst_key) and metadata_directive == "COPY":
            raise ValidationError(
                "This copy request is illegal because it is trying to copy an object to itself "
                "without changing the object's metadata; use MetadataDirective 'REPLACE'",
                field="MetadataDirective",
            )
        with self.state.read() as conn:
            self._bucket_row(conn, dst_bucket)
        version = uuid.uuid4().hex
        path = self.backend.path_for(dst_bucket, dst_key, version)
        self._queue_pending(path)
        try:
            for attempt in ATTEMPTS:
                # Copy under the source's lock (local files are overwritten in place);
                # never hold two key locks at once.
                with self.backend.lock(src_bucket, src_key):
                    source = self._object_row(src_bucket, src_key)
                    try:
                        writer = self.backend.copy(source.path, path)
                        break
                    except FileNotFoundError:
                        if attempt == RETRIES - 1:
                            raise missing_data(src_bucket, src_key, source.path) from None
        except BaseException:
            self._unqueue(path)
            raise
        info, notification = self._commit(
            writer,
            bucket=dst_bucket,
            key=dst_key,
            path=path,
            version=version,
            size=source.size,
            etag=source.etag,
            content_type=source.content_type if metadata_directive == "COPY" else content_type,
            metadata=dict(source.metadata) if metadata_directive == "COPY" else metadata,
        )
        self._notify(notification, info, created=True, reason="CopyObject", event_name="ObjectCreated:Copy")
        return info

    def _commit(
        self,
        writer: BlobWriter,
        *,
        bucket: str,
        key: str,
        path: str,
        version: str,
        size: int,
        etag: str,
        content_type: str,
        metadata: dict[str, str],
    ) -> tuple[ObjectInfo, dict[str, Any]]:
        """Publish staged bytes, then commit the index row; clean up whatever fails."""
        now = self.clock.time()
        values = dict(
            size=size, etag=etag, content_type=content_type, metadata=metadata,
            last_modified=now, path=path, version=version,
        )
        published = False
        old: Any = None
        try:
            with self.backend.lock(bucket, key):
                for attempt in ATTEMPTS:
                    try:
                        with self.state.write() as conn:
                            notification = self._bucket_row(conn, bucket).notification or {}
                            old = conn.execute(
                                sa.select(objects.c.path)
                                .where(objects.c.bucket == bucket, objects.c.key == key)
                                .with_for_update()
                            ).first()
                            if old is None:
                                conn.execute(objects.insert().values(bucket=bucket, key=key, **values))
                            else:
                                conn.execute(
                                    objects.update()
                                    .where(objects.c.bucket == bucket, objects.c.key == key)
                                    .values(**values)
                                )
                            if self.backend.versioned_paths:
                                conn.execute(garbage.delete().where(garbage.c.path == path))
                                if old is not None and old.path != path:
                                    queue_for_deletion(conn, old.path, now + self.superseded_retention)
                            if not published:
                                # Bytes become visible before the row commits: a row
                                # never names bytes that are not there.
                                writer.commit()
                                published = True
                        if not self.backend.versioned_paths and old is not None and old.path != path:
                            # A key moved aside or back on a local store: readers of the
                            # old file keep it open, so it can go at once.
                            self.backend.delete(old.path)
                        break
                    except sa.exc.IntegrityError:
                        # Two writers inserted the same new key at once (PostgreSQL
                        # without a shared lock): the loser updates instead.
                        if attempt == RETRIES - 1:
                            raise
        except BaseException:
            if not published:
                writer.abort()
            elif old is None or old.path != path:
                self.backend.delete(path)
            self._unqueue(path)
            raise
        self.collect_garbage()
        info = ObjectInfo(
            bucket=bucket, key=key, size=size, etag=etag, content_type=content_type,
            metadata=metadata, last_modified=utc(now),
        )
        return info, notification
