"""Object events: what a put, copy or delete sends, as the bucket's notification configuration asks.

The message shapes, filters and configuration checks are in ``notifications.py``; this
is where the service hands them to the event bus.
"""

from __future__ import annotations

from typing import Any

from groundfog.core.names import arn
from groundfog.storage.index import StorageIndex
from groundfog.storage.models import ObjectInfo
from groundfog.storage.notifications import classic_record, eventbridge_detail, matching_targets, request_id


class ObjectEvents(StorageIndex):
    """Emits object events to the bus (EventBridge) and to topic/function targets."""

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
