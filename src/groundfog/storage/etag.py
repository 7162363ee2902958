"""S3's ETag for a single-part put: the MD5 of the body, hashed beside the write.

MD5 is the slowest step of a put (about 500 MB/s on one core); hashlib and file
writes both release the GIL, so hashing chunk N on a helper thread while chunk N is
written and chunk N+1 read keeps a large put close to the speed of MD5 alone.

>>> h = OverlappedMD5(); h.update(b"abc"); h.hexdigest()
'900150983cd24fb0d6963f7d28e17f72'
"""

from __future__ import annotations

import hashlib
from concurrent.futures import Future, ThreadPoolExecutor

# Below this a chunk is hashed inline: a thread hand-off costs more than it saves.
_OVERLAP_FROM = 256 * 1024


class OverlappedMD5:
    def __init__(self) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None

    def update(self, chunk: bytes) -> None:
        """Hash ``chunk`` after every earlier one; returns before it is hashed."""
        if self._pending is not None:
            self._pending.result()
            self._pending = None
        if len(chunk) < _OVERLAP_FROM:
            self._md5.update(chunk)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="groundfog-md5")
        self._pending = self._pool.submit(self._md5.update, chunk)

    def hexdigest(self) -> str:
        self.close()
        return self._md5.hexdigest()

    def close(self) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
