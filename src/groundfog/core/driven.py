"""Services whose resources are driven to their end by a thread of the owning platform.

Training, processing and tuning jobs (and pipeline executions) each live in a row with an ``owner`` and a
``heartbeat_at``. The platform that creates a job owns it and runs its driver; owners
heartbeat; a job whose owner died (``kill -9``) or went quiet is claimed by the next
platform that looks (on start, on first use, and every few seconds in the server),
which resumes its driver. A claim is a conditional UPDATE on the owner and heartbeat it
saw, so two live platforms never both drive a job. ``close`` hands the jobs over, so
the next platform takes them at once.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from groundfog.core.leases import claim_lease, lease_lost
from groundfog.core.owners import owner_token
from groundfog.core.service import Service

log = logging.getLogger("groundfog.jobs")

ACTIVE = ("InProgress", "Stopping")
TERMINAL = ("Completed", "Failed", "Stopped")


class DrivenService(Service, ABC):
    """Base of services whose rows (``table``, with ``name``, ``status``, ``owner`` and
    ``heartbeat_at`` columns) are driven by ``_driver(name)`` threads."""

    table: sa.Table
    active_statuses: tuple[str, ...] = ACTIVE
    terminal_statuses: tuple[str, ...] = TERMINAL
    heartbeat_seconds = 2.0
    stale_seconds = 15.0
    reconcile_seconds = 5.0

    def __init__(self, *, config, state, clock) -> None:  # type: ignore[no-untyped-def]
        super().__init__(config=config, state=state, clock=clock)
        self.owner = owner_token()
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._generation = 0
        self._drivers: dict[str, threading.Thread] = {}
        self._reconciled = False
        self._serving = False
        self._background: threading.Thread | None = None

    # -- what a subclass says -------------------------------------------------------------

    def _scope(self) -> list[Any]:
        """Conditions that select this service's rows of ``table``."""
        return []

    @abstractmethod
    def _driver(self, name: str) -> Callable[[], None]:
        """The loop that drives the job ``name`` to its end."""

    # -- drivers and ownership --------------------------------------------------------------

    def changed(self) -> None:
        """Wake whoever waits on a job of this service (a driver wrote its row)."""
        with self._changed:
            self._generation += 1
            self._changed.notify_all()

    def wait_for_change(self, timeout: float) -> None:
        """Sleep until a job of this service changes here, ``timeout`` at most."""
        with self._changed:
            if not self.closing.is_set():
                self._changed.wait(timeout)

    def _drive(self, name: str) -> None:
        with self._lock:
            thread = self._drivers.get(name)
            if thread is not None and thread.is_alive():
                return
            thread = threading.Thread(target=self._driver(name), name=f"groundfog-{self.name}-{name}", daemon=True)
            self._drivers[name] = thread
            thread.start()
        self._ensure_background()

    def reconcile(self) -> list[str]:
        """Claim every active job whose owner is gone and resume its driver."""
        self._reconciled = True
        if self.closing.is_set():
            return []
        t = self.table
        now = self.clock.time()
        with self.state.read() as conn:
            rows = list(conn.execute(sa.select(t).where(*self._scope(), t.c.status.in_(self.active_statuses))))
        claimed = []
        for row in rows:
            if not lease_lost(row.owner, row.heartbeat_at, me=self.owner, now=now, stale_seconds=self.stale_seconds):
                continue
            with self.state.write() as conn:
                won = claim_lease(conn, t, *self._scope(), t.c.name == row.name, owner=row.owner,
                                  heartbeat_at=row.heartbeat_at, me=self.owner, now=now)  # fmt: skip
            if won:
                log.info("resuming %s job %s (its owner is gone)", self.name, row.name)
                claimed.append(row.name)
                self._drive(row.name)
        return claimed

    def active_jobs(self, *, owned: bool = False) -> int:
        """How many jobs of this service are running (``owned``: driven by this process)."""
        t = self.table
        conditions = [*self._scope(), t.c.status.in_(self.active_statuses)]
        if owned:
            conditions.append(t.c.owner == self.owner)
        with self.state.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(t).where(*conditions)).scalar_one())

    def _ensure_reconciled(self) -> None:
        if not self._reconciled:
            self.reconcile()

    def _ensure_background(self) -> None:
        with self._lock:
            if self.closing.is_set() or (self._background is not None and self._background.is_alive()):
                return
            self._background = threading.Thread(target=self._supervise, name=f"groundfog-{self.name}-supervisor", daemon=True)
            self._background.start()

    def _supervise(self) -> None:
        t = self.table
        next_reconcile = time.monotonic() + self.reconcile_seconds
        while not self.closing.wait(self.heartbeat_seconds):
            try:
                with self.state.write() as conn:
                    conn.execute(
                        t.update()
                        .where(*self._scope(), t.c.owner == self.owner, t.c.status.in_(self.active_statuses))
                        .values(heartbeat_at=self.clock.time())
                    )
                if self._serving and time.monotonic() >= next_reconcile:
                    self.reconcile()
                    next_reconcile = time.monotonic() + self.reconcile_seconds
            except Exception:  # noqa: BLE001 - a state-store hiccup must not end supervision
                log.exception("%s supervisor tick failed", self.name)

    def start_background(self) -> None:
        self._serving = True
        self.reconcile()
        self._ensure_background()

    def close(self) -> None:
        self.closing.set()
        self.changed()
        with self._lock:
            threads = list(self._drivers.values())
        for thread in threads:
            thread.join(timeout=10)
        t = self.table
        try:
            with self.state.write() as conn:
                conn.execute(
                    t.update().where(*self._scope(), t.c.owner == self.owner, t.c.status.in_(self.active_statuses)).values(owner=None)
                )
        except Exception:  # noqa: BLE001 - closing must not fail; heartbeats go stale anyway
            log.exception("could not hand over the %s jobs of %s", self.name, self.owner)

    def _wait_until_done(self, read: Callable[[], Any], timeout: float | None) -> Any:
        """Poll ``read()`` (a row) until its status is terminal or ``timeout`` passes;
        woken at once by this process's drivers, and claims the job if its owner dies."""
        self._ensure_reconciled()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                generation = self._generation
            row = read()
            now = time.monotonic()
            if row.status in self.terminal_statuses or (deadline is not None and now >= deadline):
                return row
            if row.owner != self.owner:
                self.reconcile()
            pause = 0.5 if deadline is None else min(0.5, deadline - now)
            with self._changed:
                if self._generation == generation:
                    self._changed.wait(pause)
