"""Garbage collection of blobs no index row names: superseded versions, interrupted uploads.

Only per-version stores (``backend.versioned_paths``) queue blobs here: an overwrite or
delete leaves the old bytes for ``superseded_retention`` seconds so readers still
streaming them finish, and an upload is queued before it starts so that bytes of a
process killed before its commit are still found and collected.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from groundfog.storage.index import StorageIndex
from groundfog.storage.tables import garbage

log = logging.getLogger(__name__)

PENDING_UPLOAD_GRACE = 86400.0  # an upload not committed after this long was interrupted


class GarbageCollector(StorageIndex):
    """The queue of blobs to delete later, and its collection."""

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

    def _delete_blob(self, path: str) -> None:
        try:
            self.backend.delete(path)
        except Exception as exc:  # noqa: BLE001 (the object is gone from the index either way)
            log.warning("could not delete blob %s (now unreferenced): %s", path, exc)

    def _queue_pending(self, path: str) -> None:
        # Before an upload starts: if this process dies before the index row commits,
        # the blob is still known, and collected once the grace period is over.
        if self.backend.versioned_paths:
            with self.state.write() as conn:
                queue_for_deletion(conn, path, self.clock.time() + PENDING_UPLOAD_GRACE)

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


def queue_for_deletion(conn: sa.Connection, path: str, delete_after: float) -> None:
    """Queue ``path`` for deletion at ``delete_after`` (replacing an earlier entry), in ``conn``'s transaction."""
    conn.execute(garbage.delete().where(garbage.c.path == path))
    conn.execute(garbage.insert().values(path=path, delete_after=delete_after))
