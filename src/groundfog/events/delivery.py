"""The outbox dispatcher: durable, at-least-once delivery with retries and dead letters.

Producers insert outbox rows in their own transaction and call ``wake()``; the
dispatcher thread then, with no polling on the way:

1. **claims** due rows in one write transaction: ``UPDATE ... SET status='leased',
   lease_owner=me, lease_expires_at=now+lease WHERE id IN (SELECT id ... ORDER BY id
   LIMIT n [FOR UPDATE SKIP LOCKED]) AND <still due> RETURNING *``, where due means
   ``pending`` with ``available_at <= now``, or ``leased`` with an expired lease (its
   dispatcher crashed, or outlived the lease: at least once, not exactly once). The
   outer re-check makes the claim exclusive on PostgreSQL under READ COMMITTED;
   SQLite's write lock serialises it anyway. The same transaction reads the config
   counter and reloads the routing snapshot if it moved;
2. **processes** each row on a small thread pool with the row kind's handler (match
   rules and invoke targets, fan out to subscriptions, ...);
3. **completes** finished rows in batches, one write transaction: delete them, insert
   what they spawned (retries, fan-out, archive copies, dead letters).

Failures are retried with capped exponential backoff under the target's RetryPolicy
(AWS defaults: 185 retries, 24 hours of event age), then dead-lettered. A process
that dies with rows leased leaves them to whichever dispatcher sees the lease expire.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from groundfog.core.errors import ResourceNotFound, ValidationError
from groundfog.core.owners import owner_alive, owner_token
from groundfog.events import tables as t

log = logging.getLogger("groundfog.events")

DEFAULT_RETRY = {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}


@dataclass
class Failure:
    """One delivery that did not happen; becomes a retry row or a dead letter."""

    target: str
    payload: Any
    meta: dict[str, Any]
    attempts: int  # made so far, this one included
    error: str
    kind: str = "delivery"
    permanent: bool = False  # the target is gone: no point retrying


@dataclass
class Outcome:
    failures: list[Failure] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # new outbox rows
    inserts: list[tuple[sa.Table, dict[str, Any]]] = field(default_factory=list)


Handler = Callable[[Any, Any], Outcome]  # (outbox row, routing snapshot) -> Outcome


# Statements built once: the claim path runs them for every batch of events.
_o = t.outbox.c
_DUE = sa.or_(
    sa.and_(_o.status == "pending", _o.available_at <= sa.bindparam("now")),
    sa.and_(_o.status == "leased", _o.lease_expires_at < sa.bindparam("now")),
)
_CLAIM = (
    t.outbox.update()
    .where(
        _o.id.in_(
            sa.select(_o.id).where(_DUE).order_by(_o.id).limit(sa.bindparam("n")).with_for_update(skip_locked=True)
        ),
        _DUE,  # re-checked on the locked row: exclusive under READ COMMITTED too
    )
    .values(status="leased", lease_owner=sa.bindparam("owner"), lease_expires_at=sa.bindparam("expires"))
    .returning(*t.outbox.c)
)
_VERSION = sa.select(t.counters.c.value).where(t.counters.c.name == "config")
# When the next row falls due: a pending row's available_at, or a lease's expiry.
_NEXT_DUE = sa.select(
    sa.func.min(sa.case((_o.status == "pending", _o.available_at), else_=_o.lease_expires_at))
)
_ANY_DUE = sa.select(_o.id).where(_DUE).limit(1)
_ANY_LEFT = sa.select(_o.id).where(sa.or_(_o.status == "pending", _DUE)).limit(1)
_DELETE = t.outbox.delete().where(
    _o.id.in_(sa.bindparam("ids", expanding=True)), _o.lease_owner == sa.bindparam("owner")
)


_LEASE_HOLDERS = sa.select(_o.lease_owner).where(_o.status == "leased", _o.lease_owner != sa.bindparam("me")).distinct()
_RELEASE = (
    t.outbox.update()
    .where(_o.status == "leased", _o.lease_owner == sa.bindparam("holder"))
    .values(status="pending", lease_owner=None, lease_expires_at=None)
)


def outbox_row(
    kind: str, target: str, payload: Any, meta: dict[str, Any], *, now: float, attempts: int = 0,
    available_at: float | None = None,
) -> dict[str, Any]:
    return {
        "kind": kind, "target": target, "payload": payload, "meta": meta, "attempts": attempts,
        "status": "pending", "available_at": now if available_at is None else available_at,
        "created_at": now, "lease_owner": None, "lease_expires_at": None,
    }


def attempt(invoke: Callable[[str, Any], None], target: str, payload: Any, meta: dict[str, Any],
            attempts: int) -> Failure | None:
    """Invoke one target; a ``Failure`` (attempt number ``attempts + 1``) if it raised."""
    try:
        invoke(target, payload)
    except (ResourceNotFound, ValidationError) as exc:  # gone, or refused this input: retrying cannot help
        return Failure(target, payload, meta, attempts + 1, f"{exc.code}: {exc}", permanent=True)
    except Exception as exc:  # a target's failure, whatever it is, is retried
        return Failure(target, payload, meta, attempts + 1, f"{type(exc).__name__}: {exc}")
    return None


class Dispatcher:
    """Claims, processes and completes outbox rows; one per service instance."""

    def __init__(
        self,
        *,
        state: Any,
        clock: Any,
        handlers: dict[str, Handler],
        load_snapshot: Callable[[sa.Connection], Any],
        on_dead_letter: Callable[[Failure, float], list[dict[str, Any]]],
        workers: int = 4,
        lease_seconds: float = 300.0,
        retry_base: float = 1.0,
        batch: int = 64,
        sweep_interval: float = 1.0,
    ) -> None:
        self.state, self.clock = state, clock
        self.handlers, self.load_snapshot, self.on_dead_letter = handlers, load_snapshot, on_dead_letter
        self.workers, self.lease_seconds, self.retry_base = workers, lease_seconds, retry_base
        self.batch, self.sweep_interval = batch, sweep_interval
        self.owner = owner_token()
        self._last_reclaim = 0.0
        self.snapshot: Any = None
        self._version: int | None = None
        self._cond = threading.Condition()
        self._signal = False
        self._done: list[tuple[Any, Outcome]] = []
        self._inflight = 0
        self._idle = threading.Event()
        self._sweeping = False
        self._stopping = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._start_lock = threading.Lock()

    # ---- control -------------------------------------------------------------------

    def wake(self) -> None:
        """New work may be due: start the thread if needed and let it claim now."""
        if self._closed:
            return
        if self._thread is None:
            self._start()
        with self._cond:
            self._signal = True
            self._idle.clear()
            self._cond.notify()

    def sweep(self, enabled: bool = True) -> None:
        """Also look for rows other processes left (at most every ``sweep_interval``)."""
        self._sweeping = enabled
        self.wake()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._closed:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="groundfog-events-target")
                self._thread = threading.Thread(target=self._run, name="groundfog-events-dispatcher", daemon=True)
                self._thread.start()

    def drain(self, timeout: float = 10.0, *, retries: bool = False) -> bool:
        """Wait until no row is due or in flight here; with ``retries``, until none is
        scheduled at all. True when that happened within ``timeout`` seconds."""
        if self._closed:
            return self._settled(retries)
        deadline = time.monotonic() + timeout
        self.wake()
        while True:
            if self._idle.wait(max(0.0, deadline - time.monotonic())) and self._settled(retries):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)  # only drain polls: rows of other processes, retries falling due
            self.wake()

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is due (bounded), then stop; undelivered rows stay in the outbox."""
        if self._thread is not None and not self._closed:
            self.drain(timeout)
            with self._cond:
                self._stopping = True
                self._cond.notify()
            self._thread.join(timeout)
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
        self._closed = True

    def _settled(self, retries: bool) -> bool:
        with self._cond:
            if self._inflight or self._done:
                return False
        with self.state.read() as conn:
            left = conn.execute(_ANY_LEFT if retries else _ANY_DUE, {"now": self.clock.time()}).first()
        return left is None

    # ---- the loop ------------------------------------------------------------------

    def _run(self) -> None:
        wait: float | None = 0.0
        while True:
            with self._cond:
                if not (self._signal or self._done or self._stopping):
                    self._cond.wait(wait)
                self._signal = False
                done, self._done = self._done, []
                stopping = self._stopping
            try:
                if done:
                    self._complete(done)
                if stopping:
                    with self._cond:
                        if not self._inflight and not self._done:
                            return
                    wait = None
                    continue
                wait = self._claim_and_submit()
            except Exception:  # the loop must survive a database hiccup
                log.exception("events dispatcher: claim/complete failed; retrying shortly")
                wait = 0.5

    def _claim_and_submit(self) -> float | None:
        with self._cond:
            room = self.workers * 4 - self._inflight
        if room <= 0:
            return None  # completions wake us
        now = self.clock.time()
        rows, next_due = self._claim(min(room, self.batch), now)
        snapshot = self.snapshot
        if rows:
            with self._cond:
                self._inflight += len(rows)
            assert self._pool is not None
            for row in rows:
                self._pool.submit(self._process, row, snapshot)
            return 0.0 if len(rows) == min(room, self.batch) else None
        with self._cond:
            if not self._inflight and not self._done and not self._signal:
                self._idle.set()
        cap = self.sweep_interval if self._sweeping else 60.0
        if next_due is None:
            return cap if self._sweeping else None
        return min(cap, max(0.001, next_due - now))

    def _claim(self, limit: int, now: float) -> tuple[list[Any], float | None]:
        params = {"now": now, "n": limit, "owner": self.owner, "expires": now + self.lease_seconds}
        next_due = None
        with self.state.write() as conn:
            self._relax(conn)
            version = conn.execute(_VERSION).scalar_one()
            if version != self._version or self.snapshot is None:
                self.snapshot = self.load_snapshot(conn)
                self._version = version
            if self._sweeping and time.monotonic() - self._last_reclaim >= self.sweep_interval:
                self._reclaim_from_dead_owners(conn)
            rows = conn.execute(_CLAIM, params).all()
            if not rows:
                next_due = conn.execute(_NEXT_DUE).scalar()
        return rows, next_due

    def _reclaim_from_dead_owners(self, conn: sa.Connection) -> None:
        """Release leases held by dispatchers that died on this machine (kill -9, a
        crash) instead of waiting out their lease."""
        self._last_reclaim = time.monotonic()
        holders = conn.execute(_LEASE_HOLDERS, {"me": self.owner}).scalars().all()
        for holder in holders:
            if owner_alive(holder) is False:
                released = conn.execute(_RELEASE, {"holder": holder}).rowcount
                log.warning("events: took back %s deliveries leased by dead dispatcher %s", released, holder)

    def _process(self, row: Any, snapshot: Any) -> None:
        try:
            outcome = self.handlers[row.kind](row, snapshot)
        except Exception as exc:  # a handler bug must not lose the row: retry it whole
            log.exception("events dispatcher: %s row %s failed", row.kind, row.id)
            outcome = Outcome(failures=[Failure(row.target, row.payload, dict(row.meta), row.attempts + 1,
                                                f"{type(exc).__name__}: {exc}", kind=row.kind)])
        with self._cond:
            self._done.append((row, outcome))
            self._cond.notify()

    def _complete(self, done: list[tuple[Any, Outcome]]) -> None:
        now = self.clock.time()
        new_rows: list[dict[str, Any]] = []
        dead: list[dict[str, Any]] = []
        inserts: dict[sa.Table, list[dict[str, Any]]] = {}
        for _row, outcome in done:
            new_rows.extend(outcome.rows)
            for table, values in outcome.inserts:
                inserts.setdefault(table, []).append(values)
            for failure in outcome.failures:
                self._plan(failure, now, new_rows, dead)
        try:
            with self.state.write() as conn:
                self._relax(conn)
                conn.execute(_DELETE, {"ids": [row.id for row, _ in done], "owner": self.owner})
                if new_rows:
                    conn.execute(t.outbox.insert(), new_rows)
                if dead:
                    conn.execute(t.dead_letters.insert(), dead)
                for table, values in inserts.items():
                    conn.execute(table.insert(), values)
        finally:
            with self._cond:
                self._inflight -= len(done)
                if any(r["available_at"] <= now for r in new_rows):
                    self._signal = True

    def _relax(self, conn: sa.Connection) -> None:
        """Claims and completions need not wait for PostgreSQL's WAL flush: if one is lost
        in a server crash, the row is still leased and is delivered again when the lease
        expires (at least once). What producers insert is always committed durably."""
        if self.state.dialect == "postgresql":
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")

    def backoff(self, attempts: int) -> float:
        """Seconds before retry number ``attempts``: doubling, capped at 480 x base
        (so 185 retries span about a day at base 1 s, as EventBridge's do), jittered."""
        delay = min(self.retry_base * 2 ** min(attempts - 1, 30), self.retry_base * 480)
        return delay * random.uniform(0.8, 1.0)

    def _plan(self, f: Failure, now: float, rows: list[dict[str, Any]], dead: list[dict[str, Any]]) -> None:
        policy = {**DEFAULT_RETRY, **(f.meta.get("retry") or {})}
        first_at = float(f.meta.get("first_at", now))
        reason = None
        if f.permanent:
            reason = f.error
        elif f.attempts > policy["MaximumRetryAttempts"]:
            reason = f"{f.error} (gave up after {f.attempts} attempts)"
        else:
            at = now + self.backoff(f.attempts)
            if at - first_at > policy["MaximumEventAgeInSeconds"]:
                reason = f"{f.error} (maximum event age of {policy['MaximumEventAgeInSeconds']} s reached)"
            else:
                rows.append(outbox_row(f.kind, f.target, f.payload, f.meta, now=now, attempts=f.attempts,
                                       available_at=at))
                return
        log.warning("events: dead-lettering delivery to %s: %s", f.target, reason)
        dead.append({
            "target_arn": f.target, "payload": f.payload, "error": reason, "attempts": f.attempts,
            "event_id": f.meta.get("event_id"), "rule_arn": f.meta.get("rule_arn"),
            "target_id": f.meta.get("target_id"), "failed_at": now,
        })
        rows.extend(self.on_dead_letter(Failure(**{**f.__dict__, "error": reason}), now))
