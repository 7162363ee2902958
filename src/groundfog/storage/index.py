"""The object index the storage service's parts share: its state, row lookups, row → model.

The state store holds the index (one row per bucket, one per object naming where its
bytes are); the blob backend holds only bytes. ``StorageIndex`` is the base of the
service's parts (buckets, object writes, reads, deletes, garbage collection), which
``StorageService`` composes.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from groundfog.core.errors import ResourceNotFound
from groundfog.core.service import Service
from groundfog.storage.models import Bucket, ObjectInfo
from groundfog.storage.tables import buckets, objects

if TYPE_CHECKING:
    from groundfog.core.bus import Bus
    from groundfog.storage.backends import BlobBackend
    from groundfog.storage.notifications import Sequencer

RETRIES = 3
ATTEMPTS = tuple(range(RETRIES))  # (get_object's `range` argument shadows the builtin)


class StorageIndex(Service):
    """What every part of the storage service holds, and its lookups in the index."""

    bus: "Bus | None"
    backend: "BlobBackend"
    max_object_size: int
    superseded_retention: float
    _sequencer: "Sequencer"

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


def utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def bucket_model(row: Any) -> Bucket:
    return Bucket(name=row.name, arn=row.arn, creation_date=utc(row.created_at))


def object_info(row: Any) -> ObjectInfo:
    return ObjectInfo(
        bucket=row.bucket, key=row.key, size=row.size, etag=row.etag, content_type=row.content_type,
        metadata=dict(row.metadata or {}), last_modified=utc(row.last_modified),
    )


def missing_data(bucket: str, key: str, path: str) -> ResourceNotFound:
    return ResourceNotFound(
        f"object {key!r} in bucket {bucket!r} is indexed but its bytes are missing from the object "
        f"store (at {path!r}); was the objects directory changed by hand?",
        field="Key",
    )
