"""Bucket operations: create, list, head, delete, and each bucket's notification configuration."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from groundfog.core.errors import AlreadyExists, ResourceInUse
from groundfog.core.names import arn, validate_bucket_name
from groundfog.core.service import operation
from groundfog.storage.index import StorageIndex, bucket_model, utc
from groundfog.storage.models import Bucket
from groundfog.storage.notifications import normalise_configuration
from groundfog.storage.tables import buckets, objects


class BucketOperations(StorageIndex):
    """S3's bucket operations."""

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
        return Bucket(name=bucket, arn=arn("storage", "bucket", bucket), creation_date=utc(now))

    @operation
    def list_buckets(self) -> list[Bucket]:
        with self.state.read() as conn:
            rows = conn.execute(sa.select(buckets).order_by(buckets.c.name)).all()
        return [bucket_model(r) for r in rows]

    @operation
    def head_bucket(self, bucket: str) -> Bucket:
        validate_bucket_name(bucket)
        with self.state.read() as conn:
            return bucket_model(self._bucket_row(conn, bucket))

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
