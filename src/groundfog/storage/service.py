"""The storage service: S3's buckets and objects, on a local directory or any fsspec store.

The state store holds the object index (key, size, ETag, content type, user metadata,
last-modified, where the bytes are); the blob backend holds only bytes. A put streams
the body in 1 MiB chunks to a staged blob (hashing as it goes), publishes it, then
commits the index row, then emits events. So an acknowledged put is readable after a
``kill -9``, and an interrupted put leaves no index row.

>>> storage = platform.storage                                    # doctest: +SKIP
>>> storage.create_bucket("data").arn                             # doctest: +SKIP
'arn:groundfog:storage:local:000000000000:bucket/data'
>>> storage.put_object("data", "a.txt", b"hello").etag            # doctest: +SKIP
'"5d41402abc4b2a76b9719d911017c592"'
>>> storage.get_object_bytes("data", "a.txt", range="bytes=1-3")  # doctest: +SKIP
b'ell'
"""

from __future__ import annotations

import logging
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from groundfog.core.errors import AlreadyExists, PayloadTooLarge, ResourceInUse, ResourceNotFound, ValidationError
from groundfog.core.names import arn, validate_bucket_name
from groundfog.core.service import Service, operation
from groundfog.storage.backends import BlobBackend, BlobWriter, backend_for
from groundfog.storage.bodies import chunks as body_chunks
from groundfog.storage.etag import OverlappedMD5
from groundfog.storage.listing import decode_token, encode_token, scan
from groundfog.storage.models import (
    Bucket,
    DeleteError,
    DeleteObjectsResult,
    GetObjectResult,
    ListObjectsResult,
    ObjectInfo,
)
from groundfog.storage.notifications import (
    Sequencer,
    classic_record,
    eventbridge_detail,
    matching_targets,
    normalise_configuration,
    request_id,
)
from groundfog.storage.tables import buckets, garbage, objects
from groundfog.storage.validation import (
    MAX_KEY_BYTES,
    parse_range,
    validate_content_type,
    validate_key,
    validate_metadata,
)

if TYPE_CHECKING:
    from groundfog.core.bus import Bus
    from groundfog.core.clock import Clock
    from groundfog.core.config import Config
    from groundfog.core.state import StateStore

log = logging.getLogger(__name__)

MAX_PUT_BYTES = 5 * 1024**3  # S3's limit for a single PutObject
MAX_DELETE_KEYS = 1000
SUPERSEDED_RETENTION = 900.0  # seconds an overwritten/deleted version stays for in-flight readers
PENDING_UPLOAD_GRACE = 86400.0  # an upload not committed after this long was interrupted
_RETRIES = 3
_ATTEMPTS = tuple(range(_RETRIES))  # (get_object's `range` argument shadows the builtin)


class StorageService(Service):
    """S3 semantics: buckets, objects, ranges, listings, copies, event notifications."""

    name = "storage"

    def __init__(
        self,
        *,
        config: "Config",
        state: "StateStore",
        clock: "Clock",
        bus: "Bus | None" = None,
        backend: BlobBackend | None = None,
        max_object_size: int = MAX_PUT_BYTES,
        superseded_retention: float = SUPERSEDED_RETENTION,
    ) -> None:
        super().__init__(config=config, state=state, clock=clock)
        self.bus = bus
        self.backend = backend or backend_for(config.objects_url, config.objects_options, fsync=config.fsync)
        self.max_object_size = max_object_size
        self.superseded_retention = superseded_retention
        self._sequencer = Sequencer()
        removed = self.backend.sweep() + self.collect_garbage()
        if removed:
            log.info("removed %d leftover blob(s) of interrupted or superseded puts", removed)

    def close(self) -> None:
        close = getattr(self.backend, "close", None)
        if close is not None:
            close()

    # ------------------------------------------------------------------ buckets

    @operation
    def create_bucket(self, bucket: str) -> Bucket:
        """Create a bucket (S3's naming rules); ``AlreadyExists`` if it is there."""
        validate_bucket_name(bucket)
        now = self.clock.time()
        with self.state.write() as conn:
            if conn.execute(sa.select(buckets.c.name).where(buckets.c.name == bucket)).first():
                raise AlreadyExists(f"bucket {bucket!r} already exists", field="Bucket")
            conn.execute(
                buckets.insert().values(
                    name=bucket, arn=arn("storage", "bucket", bucket), created_at=now, notification={}
                )
            )
        self.backend.create_bucket(bucket)
        return Bucket(name=bucket, arn=arn("storage", "bucket", bucket), creation_date=_dt(now))

    @operation
    def list_buckets(self) -> list[Bucket]:
        with self.state.read() as conn:
            rows = conn.execute(sa.select(buckets).order_by(buckets.c.name)).all()
        return [_bucket(r) for r in rows]

    @operation
    def head_bucket(self, bucket: str) -> Bucket:
        validate_bucket_name(bucket)
        with self.state.read() as conn:
            return _bucket(self._bucket_row(conn, bucket))

    @operation
    def delete_bucket(self, bucket: str) -> None:
        """Delete an empty bucket; ``ResourceInUse`` while it holds objects."""
        validate_bucket_name(bucket)
        with self.state.write() as conn:
            self._bucket_row(conn, bucket)
            count = conn.execute(
                sa.select(sa.func.count()).select_from(objects).where(objects.c.bucket == bucket)
            ).scalar_one()
            if count:
                raise ResourceInUse(
                    f"bucket {bucket!r} is not empty ({count} object{'s' if count != 1 else ''}); "
                    "delete its objects first",
                    field="Bucket",
                )
            conn.execute(buckets.delete().where(buckets.c.name == bucket))
        self.backend.remove_bucket(bucket)

    # ------------------------------------------------------------------ objects: write

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
            for attempt in _ATTEMPTS:
                # Copy under the source's lock (local files are overwritten in place);
                # never hold two key locks at once.
                with self.backend.lock(src_bucket, src_key):
                    source = self._object_row(src_bucket, src_key)
                    try:
                        writer = self.backend.copy(source.path, path)
                        break
                    except FileNotFoundError:
                        if attempt == _RETRIES - 1:
                            raise _missing_data(src_bucket, src_key, source.path) from None
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
                for attempt in _ATTEMPTS:
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
                                    _queue(conn, old.path, now + self.superseded_retention)
                            if not published:
                                # Bytes become visible before the row commits: a row
                                # never names bytes that are not there.
                                writer.commit()
                                published = True
                        break
                    except sa.exc.IntegrityError:
                        # Two writers inserted the same new key at once (PostgreSQL
                        # without a shared lock): the loser updates instead.
                        if attempt == _RETRIES - 1:
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
            metadata=metadata, last_modified=_dt(now),
        )
        return info, notification

    # ------------------------------------------------------------------ objects: read

    def get_object(self, bucket: str, key: str, range: str | None = None) -> GetObjectResult:  # noqa: A002
        """An object's metadata and streaming body; ``range`` like ``"bytes=0-99"`` (RFC 7233).

        >>> result = storage.get_object("data", "a.txt", range="bytes=-2")  # doctest: +SKIP
        >>> result.read(), result.content_range                              # doctest: +SKIP
        (b'lo', 'bytes 3-4/5')
        """
        validate_bucket_name(bucket)
        validate_key(key)
        for attempt in _ATTEMPTS:
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
                    if attempt == _RETRIES - 1:
                        raise _missing_data(bucket, key, row.path) from None
        return GetObjectResult(
            **_info(row).model_dump(),
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

    @operation
    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        validate_bucket_name(bucket)
        validate_key(key)
        return _info(self._object_row(bucket, key))

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

    # ------------------------------------------------------------------ objects: delete

    @operation
    def delete_object(self, bucket: str, key: str) -> None:
        """Delete an object; deleting a key that is not there succeeds, as on S3."""
        validate_bucket_name(bucket)
        validate_key(key)
        self._delete(bucket, key)

    @operation
    def delete_objects(self, bucket: str, keys: list[str]) -> DeleteObjectsResult:
        """Delete up to 1000 keys; absent keys are reported as deleted, as S3 does."""
        validate_bucket_name(bucket)
        if not isinstance(keys, list) or len(keys) > MAX_DELETE_KEYS:
            raise ValidationError(f"Keys must be a list of at most {MAX_DELETE_KEYS} keys", field="Keys")
        for key in keys:
            validate_key(key)
        with self.state.read() as conn:
            self._bucket_row(conn, bucket)
        result = DeleteObjectsResult()
        for key in dict.fromkeys(keys):
            try:
                self._delete(bucket, key)
                result.deleted.append(key)
            except ResourceNotFound as exc:  # the bucket went away meanwhile
                result.errors.append(DeleteError(key=key, code="NoSuchBucket", message=str(exc)))
        return result

    def _delete(self, bucket: str, key: str) -> None:
        versioned = self.backend.versioned_paths
        with self.backend.lock(bucket, key):
            with self.state.write() as conn:
                notification = self._bucket_row(conn, bucket).notification or {}
                row = conn.execute(
                    sa.select(objects).where(objects.c.bucket == bucket, objects.c.key == key).with_for_update()
                ).first()
                if row is not None:
                    conn.execute(objects.delete().where(objects.c.bucket == bucket, objects.c.key == key))
                    if versioned:  # kept a while for readers still streaming it
                        _queue(conn, row.path, self.clock.time() + self.superseded_retention)
            if row is not None and not versioned:
                self._delete_blob(row.path)  # the row first: no row ever names missing bytes
        if versioned:
            self.collect_garbage()
        if row is not None:
            self._notify(notification, _info(row), created=False, reason="DeleteObject", event_name="ObjectRemoved:Delete")

    def _delete_blob(self, path: str) -> None:
        try:
            self.backend.delete(path)
        except Exception as exc:  # noqa: BLE001 (the object is gone from the index either way)
            log.warning("could not delete blob %s (now unreferenced): %s", path, exc)

    def collect_garbage(self) -> int:
        """Delete queued blobs whose time has come (superseded versions, interrupted
        uploads on per-version stores); returns how many. Runs on start and after writes."""
        if not self.backend.versioned_paths:
            return 0
        now = self.clock.time()
        with self.state.read() as conn:
            due = conn.execute(
                sa.select(garbage.c.path).where(garbage.c.delete_after <= now).order_by(garbage.c.delete_after).limit(100)
            ).scalars().all()
        for path in due:
            self._delete_blob(path)
        if due:
            with self.state.write() as conn:
                conn.execute(garbage.delete().where(garbage.c.path.in_(due), garbage.c.delete_after <= now))
        return len(due)

    def _queue_pending(self, path: str) -> None:
        # Before an upload starts: if this process dies before the index row commits,
        # the blob is still known, and collected once the grace period is over.
        if self.backend.versioned_paths:
            with self.state.write() as conn:
                _queue(conn, path, self.clock.time() + PENDING_UPLOAD_GRACE)

    def _unqueue(self, path: str) -> None:
        if self.backend.versioned_paths:
            try:
                with self.state.write() as conn:
                    conn.execute(garbage.delete().where(garbage.c.path == path))
            except Exception:  # noqa: BLE001 (the entry only makes a later collection retry)
                log.debug("could not unqueue %s", path, exc_info=True)

    def _guard(self, path: str, fn: Any, *args: Any) -> Any:
        """``fn(*args)``, unqueueing the pending ``path`` when it fails."""
        try:
            return fn(*args)
        except BaseException:
            self._unqueue(path)
            raise

    # ------------------------------------------------------------------ notifications

    @operation
    def put_bucket_notification_configuration(self, bucket: str, configuration: dict[str, Any]) -> None:
        """Set the bucket's notifications (S3's NotificationConfiguration shape).

        ``{"EventBridgeConfiguration": {}}`` sends every object event to the event bus;
        ``TopicConfigurations`` / ``LambdaFunctionConfigurations`` send S3 event
        messages straight to a topic or function, filtered by event and key. ``{}``
        turns notifications off.

        >>> storage.put_bucket_notification_configuration("data", {  # doctest: +SKIP
        ...     "EventBridgeConfiguration": {},
        ...     "TopicConfigurations": [{"TopicArn": topic_arn, "Events": ["s3:ObjectCreated:*"],
        ...         "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".csv"}]}}}],
        ... })
        """
        validate_bucket_name(bucket)
        with self.state.read() as conn:
            self._bucket_row(conn, bucket)
        check = None
        if self.bus is not None:
            bus = self.bus

            def check(target: str, kind: str) -> None:
                bus.check_target(target, allowed_types=(kind,))

        clean = normalise_configuration(configuration, check_target=check)
        with self.state.write() as conn:
            self._bucket_row(conn, bucket)
            conn.execute(buckets.update().where(buckets.c.name == bucket).values(notification=clean))

    @operation
    def get_bucket_notification_configuration(self, bucket: str) -> dict[str, Any]:
        validate_bucket_name(bucket)
        with self.state.read() as conn:
            return dict(self._bucket_row(conn, bucket).notification or {})

    def _notify(
        self, notification: dict[str, Any], info: ObjectInfo, *, created: bool, reason: str, event_name: str
    ) -> None:
        if not notification or self.bus is None:
            return
        sequencer, rid = self._sequencer.next(), request_id()
        bucket_arn = arn("storage", "bucket", info.bucket)
        size, etag = (info.size, info.etag) if created else (None, None)
        if "EventBridgeConfiguration" in notification:
            self.bus.emit(
                source="aws.s3",
                detail_type="Object Created" if created else "Object Deleted",
                detail=eventbridge_detail(
                    bucket=info.bucket, key=info.key, reason=reason, sequencer=sequencer, rid=rid, size=size, etag=etag
                ),
                resources=[bucket_arn],
            )
        for config_id, target in matching_targets(notification, event_name, info.key):
            self.bus.send(
                target,
                classic_record(
                    event_name=event_name, configuration_id=config_id, bucket=info.bucket, bucket_arn=bucket_arn,
                    key=info.key, sequencer=sequencer, rid=rid, at=self.clock.now(), size=size, etag=etag,
                ),
            )

    # ------------------------------------------------------------------ index helpers

    def _bucket_row(self, conn: sa.Connection, bucket: str) -> Any:
        row = conn.execute(sa.select(buckets).where(buckets.c.name == bucket)).first()
        if row is None:
            raise ResourceNotFound(f"bucket {bucket!r} does not exist", field="Bucket")
        return row

    def _object_row(self, bucket: str, key: str) -> Any:
        with self.state.read() as conn:
            row = conn.execute(sa.select(objects).where(objects.c.bucket == bucket, objects.c.key == key)).first()
            if row is None:
                self._bucket_row(conn, bucket)
                raise ResourceNotFound(f"no object {key!r} in bucket {bucket!r}", field="Key")
        return row


# ---------------------------------------------------------------------- module helpers


def _queue(conn: sa.Connection, path: str, delete_after: float) -> None:
    conn.execute(garbage.delete().where(garbage.c.path == path))
    conn.execute(garbage.insert().values(path=path, delete_after=delete_after))


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def _bucket(row: Any) -> Bucket:
    return Bucket(name=row.name, arn=row.arn, creation_date=_dt(row.created_at))


def _info(row: Any) -> ObjectInfo:
    return ObjectInfo(
        bucket=row.bucket, key=row.key, size=row.size, etag=row.etag, content_type=row.content_type,
        metadata=dict(row.metadata or {}), last_modified=_dt(row.last_modified),
    )


def _missing_data(bucket: str, key: str, path: str) -> ResourceNotFound:
    return ResourceNotFound(
        f"object {key!r} in bucket {bucket!r} is indexed but its bytes are missing from the object "
        f"store (at {path!r}); was the objects directory changed by hand?",
        field="Key",
    )
