"""The job runner: long-running work as rows with a lifecycle, processes, and logs.

Training, processing, transform, tuning, monitoring and pipeline steps are all jobs:
a row in ``core_jobs`` whose status goes ``Pending → InProgress → Completed | Failed |
Stopped`` (with ``Stopping`` between a stop request and the end), a working directory
under ``<home>/jobs/<kind>/<name>/`` with the log at ``logs/output.log``, and a process
started by an executor (``core.executors``). The owning service keeps what it needs
in ``spec`` and hears each status through ``on_status_change``.

>>> runner = JobRunner(config=config, state=state, clock=Clock())
>>> job = runner.submit("processing", "count-words", ["python", "count.py"])
>>> runner.wait(job.id, timeout=60).status
'Completed'

Supervision survives the platform: the launcher records the exit status in the job
directory, each runner heartbeats the jobs it owns, and ``reconcile`` (run by
``start_background``, on first use, and every few seconds in the background) claims
jobs whose owner died or went quiet. It settles them from the exit status, adopts
them if their process still runs (same pid *and* start time), or fails them with a
reason: nothing stays ``InProgress`` forever. A claim is a conditional UPDATE on the
owner and heartbeat the claimant saw, so two live platforms never both adopt a job.
"""

from __future__ import annotations

import builtins
import json
import logging
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from groundfog.core.clock import Clock
from groundfog.core.config import Config
from groundfog.core.errors import ResourceInUse, ResourceNotFound, ServiceUnavailable, ValidationError
from groundfog.core.executors import (
    BOOT_ID,
    EXIT_STATUS_FILE,
    HOST,
    Executor,
    Outcome,
    load_executor,
    process_alive,
    process_start_ticks,
)
from groundfog.core.names import validate_name
from groundfog.core.service import Service
from groundfog.core.state import Migration, StateStore, Timestamp, create_tables, metadata, register_migrations

__all__ = ["ACTIVE", "TERMINAL", "Job", "JobRunner", "StatusTransition", "failure_reason_from_log"]

log = logging.getLogger(__name__)

ACTIVE = ("Pending", "InProgress", "Stopping")
TERMINAL = ("Completed", "Failed", "Stopped")
LOST = "the job's process ended while groundfog was not running and left no exit status"
NEVER_STARTED = "groundfog stopped before the job's process was started"
MAX_REASON = 1024  # SageMaker's FailureReason limit
_KIND = re.compile(r"^[a-z][a-z0-9-]{0,63}$")

jobs_table = sa.Table(
    "core_jobs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("secondary_status", sa.String(64), nullable=False),
    sa.Column("status_transitions", sa.JSON, nullable=False),
    sa.Column("failure_reason", sa.Text),
    sa.Column("exit_code", sa.Integer),
    sa.Column("command", sa.JSON, nullable=False),
    sa.Column("env", sa.JSON, nullable=False),
    sa.Column("job_dir", sa.Text, nullable=False),
    sa.Column("workdir", sa.Text, nullable=False),
    sa.Column("log_path", sa.Text, nullable=False),
    sa.Column("executor", sa.String(255), nullable=False),
    sa.Column("resources", sa.JSON, nullable=False),
    sa.Column("handle", sa.JSON, nullable=False),  # executor-specific reference (e.g. Ray ids)
    sa.Column("pid", sa.Integer),
    sa.Column("host", sa.String(255)),
    sa.Column("boot_id", sa.String(64)),
    sa.Column("process_start", sa.BigInteger),  # /proc/<pid>/stat start time, in ticks
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("started_at", Timestamp),
    sa.Column("ended_at", Timestamp),
    sa.Column("stop_deadline", Timestamp),
    sa.Column("owner", sa.String(255)),
    sa.Column("heartbeat_at", Timestamp),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.UniqueConstraint("kind", "name", name="uq_core_jobs_kind_name"),
    sa.Index("ix_core_jobs_status", "status"),
)

register_migrations(Migration("core", "0001_jobs", create_tables(jobs_table)))


class StatusTransition(BaseModel):
    """One entry of SageMaker's ``SecondaryStatusTransitions``."""

    model_config = ConfigDict(populate_by_name=True)

    status: str = Field(alias="Status")
    start_time: float = Field(alias="StartTime")
    end_time: float | None = Field(default=None, alias="EndTime")
    status_message: str = Field(default="", alias="StatusMessage")


class Job(BaseModel):
    """One job as the runner knows it."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    kind: str
    name: str
    status: str
    secondary_status: str
    status_transitions: list[StatusTransition] = []
    failure_reason: str | None = None
    exit_code: int | None = None  # < 0: killed by that signal
    command: list[str]
    env: dict[str, str] = {}
    job_dir: Path
    workdir: Path
    log_path: Path
    executor: str
    resources: dict[str, Any] = {}
    handle: dict[str, Any] = {}
    pid: int | None = None
    host: str | None = None
    boot_id: str | None = None
    process_start: int | None = None
    created_at: float
    started_at: float | None = None
    ended_at: float | None = None
    stop_deadline: float | None = None
    owner: str | None = None
    heartbeat_at: float | None = None
    attempts: int = 0
    spec: dict[str, Any] = {}

    @property
    def done(self) -> bool:
        return self.status in TERMINAL


Listener = Callable[[Job], None]


class JobRunner(Service):
    """Submits, supervises, stops and reconciles jobs; see the module docstring."""

    name = "jobs"
    poll_seconds = 0.5  # adopted processes (not our children), stop deadlines
    heartbeat_seconds = 2.0
    stale_seconds = 15.0  # an owner silent this long has lost its jobs
    reconcile_seconds = 5.0
    host_lost_seconds = 600.0  # jobs of another host, whose processes we cannot see

    def __init__(self, *, config: Config, state: StateStore, clock: Clock) -> None:
        super().__init__(config=config, state=state, clock=clock)
        # host:boot:pid:start:nonce, so a runner on the same host can tell that the
        # owner's process is gone without waiting for its heartbeat to go stale.
        me = os.getpid()
        self.owner = f"{HOST}:{BOOT_ID}:{me}:{process_start_ticks(me)}:{uuid.uuid4().hex[:12]}"
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

    # -- public API ------------------------------------------------------------

    def job_dir(self, kind: str, name: str) -> Path:
        """The job's own directory; a service may prepare inputs there before submitting."""
        return self.config.jobs_dir / _check_kind(kind) / validate_name(name, "name", max_length=128)

    def submit(
        self,
        kind: str,
        name: str,
        command: builtins.list[str],
        *,
        env: dict[str, str] | None = None,
        workdir: str | Path | None = None,
        spec: dict[str, Any] | None = None,
        cpus: int | None = None,
        memory_mb: int | None = None,
    ) -> Job:
        """Create the job (Pending) and start its command; returns it InProgress.

        ``workdir`` is the process's working directory: relative to the job's own
        directory (the default), or an existing absolute path. ``cpus`` pins the job
        to that many CPUs; ``memory_mb`` caps its address space.

        >>> runner.submit("training", "xgb-1", ["python", "train.py"], env={"EPOCHS": "3"}).status
        'InProgress'
        """
        if self._closing.is_set():
            raise ServiceUnavailable("the job runner is closed")
        job_dir = self.job_dir(kind, name)
        command = _check_command(command)
        env = _check_env(env)
        spec = _check_spec(spec)
        resources = {"cpus": _check_count(cpus, "cpus"), "memory_mb": _check_count(memory_mb, "memory_mb")}
        resources = {k: v for k, v in resources.items() if v is not None}
        cwd = _resolve_workdir(job_dir, workdir)
        executor = self._executor(self.config.executor)
        executor.check(resources)
        self._ensure_reconciled()
        now = self.clock.time()
        row = {
            "id": str(uuid.uuid4()), "kind": kind, "name": name, "status": "Pending",
            "secondary_status": "Starting",
            "status_transitions": _transition([], "Starting", now, "Preparing the job's working directory"),
            "command": command, "env": env, "job_dir": str(job_dir), "workdir": str(cwd),
            "log_path": str(job_dir / "logs" / "output.log"), "executor": self.config.executor,
            "resources": resources, "handle": {}, "created_at": now, "owner": self.owner,
            "heartbeat_at": now, "attempts": 0, "spec": spec,
        }  # fmt: skip
        try:
            with self.state.write() as conn:
                conn.execute(jobs_table.insert().values(**row))
        except sa.exc.IntegrityError:
            raise ResourceInUse(
                f"a {kind} job named {name!r} already exists; job names must be unique per kind", field="name"
            ) from None
        job = Job.model_validate(row)
        with self._lock:
            self._owned.add(job.id)
        self._notify(job)
        self._ensure_supervisor()
        return self._launch(job, executor)

    def describe(self, job_id: str) -> Job:
        """The job's current state; ``ResourceNotFound`` if there is none."""
        self._ensure_reconciled()
        return self._get(job_id)

    def lookup(self, kind: str, name: str) -> Job:
        """The job of this kind with this name."""
        self._ensure_reconciled()
        with self.state.read() as conn:
            row = conn.execute(
                sa.select(jobs_table).where(jobs_table.c.kind == kind, jobs_table.c.name == name)
            ).first()
        if row is None:
            raise ResourceNotFound(f"no {kind} job named {name!r}", field="name")
        return _job(row)

    def list(self, kind: str | None = None, status: str | None = None) -> builtins.list[Job]:
        """Jobs, newest first, optionally of one kind and/or in one status."""
        if status is not None and status not in ACTIVE + TERMINAL:
            raise ValidationError(
                f"status {status!r} is not a job status; expected one of {', '.join(ACTIVE + TERMINAL)}",
                field="status",
            )
        self._ensure_reconciled()
        query = sa.select(jobs_table).order_by(jobs_table.c.created_at.desc())
        if kind is not None:
            query = query.where(jobs_table.c.kind == kind)
        if status is not None:
            query = query.where(jobs_table.c.status == status)
        with self.state.read() as conn:
            return [_job(row) for row in conn.execute(query)]

    def stop(self, job_id: str, grace_seconds: float = 120.0) -> Job:
        """Ask the job to stop: ``Stopping``, SIGTERM to its processes, SIGKILL after the
        grace period, then ``Stopped``. Returns at once (use ``wait``); a job that has
        already ended is returned unchanged.
        """
        if isinstance(grace_seconds, bool) or not isinstance(grace_seconds, (int, float)) or grace_seconds < 0:
            raise ValidationError(f"grace_seconds must be a number >= 0, got {grace_seconds!r}", field="grace_seconds")
        self._ensure_reconciled()
        now = self.clock.time()
        changed = False
        with self.state.write() as conn:
            row = _locked(conn, job_id)
            if row is None:
                raise ResourceNotFound(f"no job with id {job_id!r}", field="job_id")
            if row.status in TERMINAL:
                return _job(row)
            deadline = now + grace_seconds
            if row.status == "Stopping":
                deadline = min(deadline, row.stop_deadline or deadline)
                values: dict[str, Any] = {"stop_deadline": deadline}
            else:
                changed = True
                message = f"Stopping the job: SIGTERM, then SIGKILL after {grace_seconds:g} s"
                values = {
                    "status": "Stopping",
                    "secondary_status": "Stopping",
                    "status_transitions": _transition(row.status_transitions, "Stopping", now, message),
                    "stop_deadline": deadline,
                }
            conn.execute(jobs_table.update().where(jobs_table.c.id == job_id).values(**values))
            job = _job(row, values)
        if changed:
            self._notify(job)
        if job.owner == self.owner:
            self._ensure_supervisor()
            self._terminate(job)
        elif self._orphaned(job, now):
            self.reconcile()
        return self._get(job_id)

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """Block until the job ends or ``timeout`` seconds pass; returns the job either way."""
        # Real time, not the platform clock: this waits for real processes.
        deadline = None if timeout is None else time.monotonic() + timeout
        next_reconcile = time.monotonic() + self.reconcile_seconds
        while True:
            with self._lock:
                generation = self._generation
            job = self.describe(job_id)
            if job.done:
                return job
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return job
            if job.owner != self.owner and now >= next_reconcile:
                self.reconcile()  # its owner may have died while we wait
                next_reconcile = now + self.reconcile_seconds
            pause = self.poll_seconds if deadline is None else min(self.poll_seconds, deadline - now)
            with self._changed:
                if self._generation == generation:
                    self._changed.wait(pause)

    def logs(self, job_id: str, tail: int | None = None) -> str:
        """The job's output (stdout and stderr), or its last ``tail`` lines."""
        job = self.describe(job_id)
        try:
            text = job.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        if tail is None:
            return text
        lines = text.splitlines(keepends=True)
        return "".join(lines[-tail:]) if tail > 0 else ""

    def follow(self, job_id: str, *, poll_seconds: float = 0.2) -> Iterator[str]:
        """Yield the job's log lines as they are written, until the job has ended."""
        job = self.describe(job_id)
        buffer = b""
        offset = 0
        while True:
            try:
                with open(job.log_path, "rb") as f:
                    f.seek(offset)
                    chunk = f.read()
            except FileNotFoundError:
                chunk = b""
            if chunk:
                offset += len(chunk)
                *lines, buffer = (buffer + chunk).split(b"\n")
                for line in lines:
                    yield line.decode(errors="replace")
                continue
            if job.done:
                if buffer:
                    yield buffer.decode(errors="replace")
                return
            time.sleep(poll_seconds)
            job = self._get(job_id)  # read once more after this, so nothing is missed

    def set_secondary_status(self, job_id: str, status: str, message: str = "") -> Job:
        """Record a service-level step (``Downloading``, ``Training``, ``Uploading``...)
        in the job's secondary status transitions; ignored once the job has ended."""
        now = self.clock.time()
        with self.state.write() as conn:
            row = _locked(conn, job_id)
            if row is None:
                raise ResourceNotFound(f"no job with id {job_id!r}", field="job_id")
            if row.status in TERMINAL:
                return _job(row)
            transitions = [dict(t) for t in row.status_transitions]
            if row.secondary_status == status and transitions:
                transitions[-1]["StatusMessage"] = message
            else:
                transitions = _transition(transitions, status, now, message)
            values = {"secondary_status": status, "status_transitions": transitions}
            conn.execute(jobs_table.update().where(jobs_table.c.id == job_id).values(**values))
            return _job(row, values)

    def on_status_change(self, callback: Listener, *, kind: str | None = None) -> Callable[[], None]:
        """Call ``callback(job)`` each time a job (of ``kind``) enters a status this
        runner sets, including jobs it settles after a restart. Returns an unsubscribe."""
        entry = (kind, callback)
        with self._lock:
            self._listeners.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._listeners:
                    self._listeners.remove(entry)

        return unsubscribe

    def reconcile(self) -> builtins.list[str]:
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
            job = _job(row)
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
        now = self.clock.time()
        with self.state.write() as conn:
            row = _locked(conn, job.id)
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
            job = _job(row, values)
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
            row = _locked(conn, job_id)
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
                "status_transitions": _transition(row.status_transitions, status, ended, message),
            }  # fmt: skip
            result = conn.execute(
                jobs_table.update()
                .where(jobs_table.c.id == job_id, jobs_table.c.status.in_(ACTIVE))
                .values(**values)
            )
            if result.rowcount != 1:
                return None
            job = _job(row, values)
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
            self._terminate(_job(row))

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
        return job.owner is None or silent > self.stale_seconds or _owner_dead(job.owner)

    def _claim(self, job: Job, now: float) -> bool:
        """Take ownership iff nobody changed owner or heartbeat since we looked."""
        t = jobs_table
        seen_owner = t.c.owner.is_(None) if job.owner is None else t.c.owner == job.owner
        seen_beat = t.c.heartbeat_at.is_(None) if job.heartbeat_at is None else t.c.heartbeat_at == job.heartbeat_at
        with self.state.write() as conn:
            result = conn.execute(
                t.update()
                .where(t.c.id == job.id, t.c.status.in_(ACTIVE), seen_owner, seen_beat)
                .values(owner=self.owner, heartbeat_at=now)
            )
        return result.rowcount == 1

    def _ensure_reconciled(self) -> None:
        if not self._reconciled:
            self.reconcile()

    # -- helpers --------------------------------------------------------------------

    def _get(self, job_id: str) -> Job:
        with self.state.read() as conn:
            row = conn.execute(sa.select(jobs_table).where(jobs_table.c.id == job_id)).first()
        if row is None:
            raise ResourceNotFound(f"no job with id {job_id!r}", field="job_id")
        return _job(row)

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


# -- module helpers ----------------------------------------------------------------

_EXCEPTION_LINE = re.compile(
    r"^[\s|+]*((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception|Interrupt|Exit|Failure|Fault)\b(?::.*)?)$"
)
_ERRORISH = re.compile(r"error|exception|fatal|failed|failure|killed|abort|panic|denied|not found", re.IGNORECASE)


def failure_reason_from_log(log_path: Path, exit_code: int | None, *, max_bytes: int = 65536) -> str:
    """SageMaker-style FailureReason: the last error line of the log, else the exit status.

    A Python traceback gives its exception line (``ValueError: bad input``).
    """
    if exit_code is not None and exit_code < 0:
        name = _signal_name(-exit_code)
        hint = " (out of memory, or killed from outside)" if -exit_code == signal.SIGKILL else ""
        return _clip(f"the job's process was killed by {name}{hint}")
    try:
        with open(log_path, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - max_bytes))
            lines = [line.rstrip() for line in f.read().decode(errors="replace").splitlines()]
    except OSError:
        lines = []
    lines = [line for line in lines if line.strip()]
    for line in reversed(lines[-200:]):
        match = _EXCEPTION_LINE.match(line)
        if match:
            return _clip(match.group(1))
    for line in reversed(lines[-20:]):
        if _ERRORISH.search(line):
            return _clip(line.strip())
    reason = f"the job's process exited with code {exit_code}"
    return _clip(f"{reason}; its last output: {lines[-1].strip()}" if lines else reason)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _owner_dead(owner: str) -> bool:
    """True if ``owner`` names a process on this host that no longer runs."""
    parts = owner.rsplit(":", 4)
    if len(parts) != 5 or parts[0] != HOST:
        return False
    host, boot, pid, start, _nonce = parts
    if boot != BOOT_ID:
        return True  # this machine rebooted since
    try:
        return not process_alive(int(pid), None if start == "None" else int(start))
    except ValueError:
        return False


def _transition(transitions: list[dict[str, Any]], status: str, now: float, message: str) -> list[dict[str, Any]]:
    out = [dict(t) for t in transitions]
    if out and out[-1].get("EndTime") is None:
        out[-1]["EndTime"] = now
    end = now if status in TERMINAL else None
    out.append({"Status": status, "StartTime": now, "EndTime": end, "StatusMessage": message})
    return out


def _job(row: Any, changes: dict[str, Any] | None = None) -> Job:
    """The Job a row describes, with ``changes`` (column values just written) applied."""
    return Job.model_validate({**row._mapping, **(changes or {})})


def _locked(conn: sa.Connection, job_id: str) -> Any:
    return conn.execute(sa.select(jobs_table).where(jobs_table.c.id == job_id).with_for_update()).first()


def _check_kind(kind: object) -> str:
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise ValidationError(
            f"kind {kind!r} must be 1-64 lowercase letters, digits or hyphens, starting with a letter", field="kind"
        )
    return kind


def _check_command(command: object) -> list[str]:
    if isinstance(command, str) or not isinstance(command, (list, tuple)) or not command:
        raise ValidationError(
            f"command must be a non-empty list of strings (an argv), got {command!r}", field="command"
        )
    for arg in command:
        if not isinstance(arg, str) or "\0" in arg:
            raise ValidationError(f"command arguments must be strings without NUL, got {arg!r}", field="command")
    return list(command)


def _check_env(env: object) -> dict[str, str]:
    if env is None:
        return {}
    if not isinstance(env, dict):
        raise ValidationError(f"env must be a mapping of strings to strings, got {type(env).__name__}", field="env")
    for key, value in env.items():
        if not isinstance(key, str) or not key or "=" in key or "\0" in key:
            raise ValidationError(f"env name {key!r} must be a non-empty string without '=' or NUL", field="env")
        if not isinstance(value, str) or "\0" in value:
            raise ValidationError(f"env value of {key} must be a string without NUL, got {value!r}", field="env")
    return dict(env)


def _check_spec(spec: object) -> dict[str, Any]:
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise ValidationError(f"spec must be a JSON object, got {type(spec).__name__}", field="spec")
    try:
        json.dumps(spec)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"spec must be JSON-serialisable: {exc}", field="spec") from None
    return spec


def _check_count(value: object, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{field} must be a positive integer, got {value!r}", field=field)
    return value


def _resolve_workdir(job_dir: Path, workdir: str | Path | None) -> Path:
    if workdir is None:
        return job_dir
    path = Path(workdir).expanduser()
    if not path.is_absolute():
        return job_dir / path
    if not path.is_dir():
        raise ValidationError(f"workdir {str(path)!r} is not an existing directory", field="workdir")
    return path
