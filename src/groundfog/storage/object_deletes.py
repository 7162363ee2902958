"""Object deletes: one key or up to a thousand, with their events."""

from __future__ import annotations

import sqlalchemy as sa

from groundfog.core.errors import ResourceNotFound, ValidationError
from groundfog.core.names import validate_bucket_name
from groundfog.core.service import operation
from groundfog.storage.events import ObjectEvents
from groundfog.storage.garbage import GarbageCollector, queue_for_deletion
from groundfog.storage.index import object_info
from groundfog.storage.models import DeleteError, DeleteObjectsResult
from groundfog.storage.tables import objects
from groundfog.storage.validation import validate_key

MAX_DELETE_KEYS = 1000


class ObjectDeletes(GarbageCollector, ObjectEvents):
    """S3's DeleteObject and DeleteObjects."""

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
                        queue_for_deletion(conn, row.path, self.clock.time() + self.superseded_retention)
            if row is not None and not versioned:
                self._delete_blob(row.path)  # the row first: no row ever names missing bytes
        if versioned:
            self.collect_garbage()
        if row is not None:
            self._notify(notification, object_info(row), created=False, reason="DeleteObject", event_name="ObjectRemoved:Delete")
