"""The storage service: S3's buckets and objects, on a local directory or any fsspec store.

The state store holds the object index (key, size, ETag, content type, user metadata,
last-modified, where the bytes are); the blob backend holds only bytes. A put streams
the body in 1 MiB chunks to a staged blob (hashing as it goes), publishes it, then
commits the index row, then emits events. So an acknowledged put is readable after a
``kill -9``, and an interrupted put leaves no index row.

The operations live in one module per concept, composed here: ``buckets.py``,
``object_writes.py``, ``object_reads.py``, ``object_deletes.py``, with the shared
index in ``index.py``, blob garbage collection in ``garbage.py`` and object events in
``events.py``.

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
from typing import TYPE_CHECKING

from groundfog.storage.backends import BlobBackend, backend_for
from groundfog.storage.buckets import BucketOperations
from groundfog.storage.notifications import Sequencer
from groundfog.storage.object_deletes import ObjectDeletes
from groundfog.storage.object_reads import ObjectReads
from groundfog.storage.object_writes import ObjectWrites

if TYPE_CHECKING:
    from groundfog.core.bus import Bus
    from groundfog.core.clock import Clock
    from groundfog.core.config import Config
    from groundfog.core.state import StateStore

log = logging.getLogger(__name__)

MAX_PUT_BYTES = 5 * 1024**3  # S3's limit for a single PutObject
SUPERSEDED_RETENTION = 900.0  # seconds an overwritten/deleted version stays for in-flight readers


class StorageService(BucketOperations, ObjectWrites, ObjectReads, ObjectDeletes):
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
