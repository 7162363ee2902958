"""Job supervision: launching jobs' processes, watching them, and taking over orphans.

Supervision survives the platform: the launcher records the exit status in the job
directory, each runner heartbeats the jobs it owns, and ``reconcile`` (run by
``start_background``, on first use, and every few seconds in the background) claims
jobs whose owner died or went quiet. It settles them from the exit status, adopts
them if their process still runs (same pid *and* start time), or fails them with a
reason: nothing stays ``InProgress`` forever. A claim is a conditional UPDATE on the
owner and heartbeat the claimant saw, so two live platforms never both adopt a job.

``JobSupervisor`` is the base of ``core.jobs.JobRunner``, which adds the public
operations (submit, describe, stop, wait...) on top.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from groundfog.core.clock import Clock
from groundfog.core.config import Config
from groundfog.core.errors import ResourceNotFound, ValidationError
from groundfog.core.executors import EXIT_STATUS_FILE, Executor, Outcome, load_executor
from groundfog.core.failure_reason import LOST, NEVER_STARTED, failure_reason_from_log
from groundfog.core.job_models import ACTIVE, TERMINAL, Job, Listener, with_transition
from groundfog.core.job_tables import job_from_row, jobs_table, lock_job_row
from groundfog.core.leases import claim_lease, lease_lost
from groundfog.core.owners import owner_token
from groundfog.core.service import Service
from groundfog.core.state import StateStore

__all__ = ["JobSupervisor"]

# One logger for the job runner, whichever of its modules speaks.
log = logging.getLogger("groundfog.core.jobs")


class JobSupervisor(Service):
    """Owns jobs' processes: starts them, records how they ended, stops them, and
    claims the jobs of runners that are gone; see the module docstring."""

    poll_seconds = 0.5  # adopted processes (not our children), stop deadlines
    heartbeat_seconds = 2.0
    stale_seconds = 15.0  # an owner silent this long has lost its jobs
    reconcile_seconds = 5.0
    host_lost_seconds = 600.0  # jobs of another host, whose processes we cannot see

    def __init__(self, *, config: Config, state: StateStore, clock: Clock) -> None:
        super().__init__(config=config, state=state, clock=clock)
        # A token naming this process, so a runner on the same host can tell that the
        # owner's process is gone without waiting for its heartbeat to go stale.
        self.owner = owner_token()
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._generation = 0
        self._listeners: list[tuple[str | None, Listener]] = []
        self._executors: dict[str, Executor] = {}
        self._owned: set[str] = set()
        self._adopted: dict[str, Job] = {}
        self._terminated: set[str] = set()
        self._killed: set[str] = set()
        self._reconciled = False
        self._background = False
        self._closing = threading.Event()
        self._supervisor: threading.Thread | None = None

    def reconcile(self) -> list[str]:
        """Claim every active job whose owner is gone; settle or adopt it. Returns their ids."""
        self._reconciled = True
        if self._closing.is_set():
            return []  # a closed runner could not watch what it claimed
        now = self.clock.time()
        with self.state.read() as conn:
            rows = conn.execute(
                sa.select(jobs_table).where(
                    jobs_table.c.status.in_(ACTIVE),
                    sa.or_(jobs_table.c.owner.is_(None), jobs_table.c.owner != self.owner),
                )
            ).all()
        claimed = []
        for row in rows:
            job = job_from_row(row)
            executor = self._executor_or_none(job.executor)
            if executor is None or not self._orphaned(job, now, executor) or not self._claim(job, now):
                continue
            claimed.append(job.id)
            job = job.model_copy(update={"owner": self.owner, "heartbeat_at": now})
            with self._lock:
                self._owned.add(job.id)
            if job.pid is None:
                outcome: Outcome | None = Outcome(lost=True, reason=NEVER_STARTED)
            elif not executor.observes(job):
                silent = now - (job.heartbeat_at or 0)
                reason = f"the host {job.host} that ran the job has not reported for {silent:.0f} s"
                outcome = executor.poll(job) or Outcome(lost=True, reason=reason)
            else:
                outcome = executor.poll(job)
            if outcome is not None:
                if outcome.lost:
                    executor.signal(job, signal.SIGKILL)  # leave nothing of it running
                self._finish(job.id, outcome, live=False)
                continue
            with self._lock:
                self._adopted[job.id] = job
            self._ensure_supervisor()
            if job.status == "Stopping":
                self._terminate(job)
        return claimed

    def start_background(self) -> None:
        """Reconcile, then supervise: heartbeats, adopted jobs, stops, orphans."""
        self._background = True
        self.reconcile()
        self._ensure_supervisor()

    def close(self) -> None:
        """Stop supervising and hand this runner's jobs over: their processes keep
        running, and the next runner (here or in another process) adopts them at once."""
        self._closing.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=10)
        with self._lock:
            owned = bool(self._owned)
        if owned:
            try:
                with self.state.write() as conn:
                    conn.execute(
                        jobs_table.update()
                        .where(jobs_table.c.owner == self.owner, jobs_table.c.status.in_(ACTIVE))
                        .values(owner=None)
                    )
            except Exception:  # noqa: BLE001 - closing must not fail; heartbeats go stale anyway
                log.exception("could not hand over the jobs of %s", self.owner)

    # -- launching and finishing -----------------------------------------------

    def _launch(self, job: Job, executor: Executor) -> Job:
        try:
            (job.job_dir / "logs").mkdir(parents=True, exist_ok=True)
            job.workdir.mkdir(parents=True, exist_ok=True)
            (job.job_dir / EXIT_STATUS_FILE).unlink(missing_ok=True)  # from a job of the same name, long gone
            job.log_path.write_bytes(b"")
            handle = executor.start(job)
        except OSError as exc:
            finished = self._finish(job.id, Outcome(lost=True, reason=f"could not start the job's process: {exc}"))
            return finished or self._get(job.id)
        with self.state.write() as conn:
            row = lock_job_row(conn, job.id)
            values: dict[str, Any] = {
                "pid": handle.pid, "host": handle.host, "boot_id": handle.boot_id,
                "process_start": handle.process_start, "started_at": handle.started_at,
                "attempts": row.attempts + 1, "resources": {**row.resources, **handle.placement},
                "handle": handle.ref,
            }  # fmt: skip
            if row.status == "Pending":
                transitions = [dict(t) for t in row.status_transitions]
                transitions[-1]["StatusMessage"] = f"Running the job's command (process {handle.pid} on {handle.host})"
                values.update(status="InProgress", status_transitions=transitions)
            conn.execute(jobs_table.update().where(jobs_table.c.id == job.id).values(**values))
            job = job_from_row(row, values)
        if job.status == "InProgress":
            self._notify(job)
        if handle.wait is not None:
            threading.Thread(
                target=self._wait_child, args=(job.id, handle.wait), name=f"groundfog-job-{job.name}", daemon=True
            ).start()
        else:
            with self._lock:
                self._adopted[job.id] = job
        if job.status == "Stopping":  # stopped while it was being launched
            self._terminate(job)
        return job

    def _wait_child(self, job_id: str, wait: Callable[[], Outcome]) -> None:
        try:
            outcome = wait()
            if not self._closing.is_set():  # else handed over: the next runner settles it
                self._finish(job_id, outcome)
        except Exception:  # noqa: BLE001 - reconcile settles it later from the exit status
            log.exception("could not record the end of job %s", job_id)

    def _finish(self, job_id: str, outcome: Outcome, *, live: bool = True) -> Job | None:
        now = self.clock.time()
        with self.state.write() as conn:
            row = lock_job_row(conn, job_id)
            if row is None or row.status in TERMINAL:
                return None
            reason = None
            if row.status == "Stopping":
                status, message = "Stopped", "The job was stopped"
            elif outcome.lost:
                status = "Failed"
                reason = message = outcome.reason or LOST
            elif outcome.exit_code == 0:
                status, message = "Completed", "The job completed"
            else:
                status = "Failed"
                reason = message = failure_reason_from_log(Path(row.log_path), outcome.exit_code)
            ended = now if live or outcome.ended_at is None else outcome.ended_at
            values = {
                "status": status, "secondary_status": status, "failure_reason": reason,
                "exit_code": outcome.exit_code, "ended_at": ended,
                "status_transitions": with_transition(row.status_transitions, status, ended, message),
            }  # fmt: skip
            result = conn.execute(
                jobs_table.update()
                .where(jobs_table.c.id == job_id, jobs_table.c.status.in_(ACTIVE))
                .values(**values)
            )
            if result.rowcount != 1:
                return None
            job = job_from_row(row, values)
        with self._lock:
            for tracked in (self._owned, self._terminated, self._killed):
                tracked.discard(job_id)
            self._adopted.pop(job_id, None)
        self._notify(job)
        return job

    def _terminate(self, job: Job) -> None:
        """SIGTERM now, SIGKILL once the stop deadline has passed (checked each tick)."""
        if job.pid is None:
            return  # not launched yet: _launch signals it, or reconcile settles it
        executor = self._executor_or_none(job.executor)
        if executor is None:
            return
        with self._lock:
            first = job.id not in self._terminated
            self._terminated.add(job.id)
            overdue = job.stop_deadline is not None and self.clock.time() >= job.stop_deadline
            kill = overdue and job.id not in self._killed
            if kill:
                self._killed.add(job.id)
        if kill:
            executor.signal(job, signal.SIGKILL)
        elif first:
            executor.signal(job, signal.SIGTERM)

    # -- supervision --------------------------------------------------------------

    def _ensure_supervisor(self) -> None:
        with self._lock:
            if self._closing.is_set() or (self._supervisor is not None and self._supervisor.is_alive()):
                return
            self._supervisor = threading.Thread(target=self._supervise, name="groundfog-jobs-supervisor", daemon=True)
            self._supervisor.start()

    def _supervise(self) -> None:
        next_beat = time.monotonic() + self.heartbeat_seconds  # submit and claim set heartbeat_at
        next_reconcile = time.monotonic() + self.reconcile_seconds  # start_background just did
        while not self._closing.wait(self.poll_seconds):
            try:
                self._poll_adopted()
                self._enforce_stops()
                now = time.monotonic()
                if now >= next_beat:
                    self._heartbeat()
                    next_beat = now + self.heartbeat_seconds
                if self._background and now >= next_reconcile:
                    self.reconcile()
                    next_reconcile = now + self.reconcile_seconds
            except Exception:  # noqa: BLE001 - a state-store hiccup must not end supervision
                log.exception("job supervisor tick failed")

    def _poll_adopted(self) -> None:
        with self._lock:
            adopted = list(self._adopted.values())
        for job in adopted:
            executor = self._executor_or_none(job.executor)
            outcome = executor.poll(job) if executor else None
            if outcome is not None:
                self._finish(job.id, outcome)

    def _enforce_stops(self) -> None:
        with self._lock:
            owned = list(self._owned)
        if not owned:
            return
        with self.state.read() as conn:
            rows = conn.execute(
                sa.select(jobs_table).where(jobs_table.c.id.in_(owned), jobs_table.c.status == "Stopping")
            ).all()
        for row in rows:
            self._terminate(job_from_row(row))

    def _heartbeat(self) -> None:
        with self._lock:
            if not self._owned:
                return
        with self.state.write() as conn:
            conn.execute(
                jobs_table.update()
                .where(jobs_table.c.owner == self.owner, jobs_table.c.status.in_(ACTIVE))
                .values(heartbeat_at=self.clock.time())
            )

    def _orphaned(self, job: Job, now: float, executor: Executor | None = None) -> bool:
        if job.owner == self.owner:
            return False
        silent = now - (job.heartbeat_at or 0)
        executor = executor or self._executor_or_none(job.executor)
        if executor is not None and not executor.observes(job):
            return silent > self.host_lost_seconds
        return lease_lost(job.owner, job.heartbeat_at, me=self.owner, now=now, stale_seconds=self.stale_seconds)

    def _claim(self, job: Job, now: float) -> bool:
        """Take ownership iff nobody changed owner or heartbeat since we looked."""
        t = jobs_table
        with self.state.write() as conn:
            return claim_lease(conn, t, t.c.id == job.id, t.c.status.in_(ACTIVE), owner=job.owner,
                               heartbeat_at=job.heartbeat_at, me=self.owner, now=now)  # fmt: skip

    def _ensure_reconciled(self) -> None:
        if not self._reconciled:
            self.reconcile()

    # -- helpers --------------------------------------------------------------------

    def _get(self, job_id: str) -> Job:
        with self.state.read() as conn:
            row = conn.execute(sa.select(jobs_table).where(jobs_table.c.id == job_id)).first()
        if row is None:
            raise ResourceNotFound(f"no job with id {job_id!r}", field="job_id")
        return job_from_row(row)

    def _executor(self, address: str) -> Executor:
        with self._lock:
            if address not in self._executors:
                self._executors[address] = load_executor(address, clock=self.clock)
            return self._executors[address]

    def _executor_or_none(self, address: str) -> Executor | None:
        try:
            return self._executor(address)
        except ValidationError:
            return None  # a job of an executor this process cannot load: leave it be

    def _notify(self, job: Job) -> None:
        with self._lock:
            listeners = [cb for kind, cb in self._listeners if kind is None or kind == job.kind]
        for callback in listeners:
            try:
                callback(job)
            except Exception:  # noqa: BLE001 - one service's listener must not break others
                log.exception("job status listener %r failed for job %s", callback, job.id)
        # Waiters wake after the listeners ran, so an owning service has reacted by then.
        with self._changed:
            self._generation += 1
            self._changed.notify_all()
