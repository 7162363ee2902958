"""The job runner: long-running work as rows with a lifecycle, processes, and logs.

Training, processing, transform, tuning, monitoring and pipeline steps are all jobs:
a row in ``core_jobs`` whose status goes ``Pending → InProgress → Completed | Failed |
Stopped`` (with ``Stopping`` between a stop request and the end), a working directory
under ``<home>/jobs/<kind>/<name>/`` with the log at ``logs/output.log``, and a process
started by an executor (``core.executors``). The owning service keeps what it needs
in ``spec`` and hears each status through ``on_status_change``.

>>> runner = JobRunner(config=config, state=state, clock=Clock())            # doctest: +SKIP
>>> job = runner.submit("processing", "count-words", ["python", "count.py"])  # doctest: +SKIP
>>> runner.wait(job.id, timeout=60).status                                    # doctest: +SKIP
'Completed'

The runner is built from small modules, each importing only the ones before it:
``job_models`` (Job, statuses), ``job_tables`` (``core_jobs`` and its migration),
``failure_reason`` (a failed job's FailureReason), ``job_supervision`` (processes,
heartbeats, claims, reconciliation: how supervision survives the platform), and this
module, the public operations. The names callers use are re-exported here.
"""

from __future__ import annotations

import builtins
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from groundfog.core.errors import ResourceInUse, ResourceNotFound, ServiceUnavailable, ValidationError
from groundfog.core.failure_reason import LOST, NEVER_STARTED, failure_reason_from_log
from groundfog.core.job_models import ACTIVE, TERMINAL, Job, Listener, StatusTransition, with_transition
from groundfog.core.job_supervision import JobSupervisor
from groundfog.core.job_tables import job_from_row, jobs_table, lock_job_row
from groundfog.core.names import validate_name
from groundfog.core.paths import user_path

__all__ = [
    "ACTIVE",
    "LOST",
    "NEVER_STARTED",
    "TERMINAL",
    "Job",
    "JobRunner",
    "StatusTransition",
    "failure_reason_from_log",
    "jobs_table",
]

_KIND = re.compile(r"^[a-z][a-z0-9-]{0,63}$")


class JobRunner(JobSupervisor):
    """Submits, supervises, stops and reconciles jobs; supervision (``reconcile``,
    ``start_background``, ``close``) comes from ``JobSupervisor``."""

    name = "jobs"

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

        >>> runner.submit("training", "xgb-1", ["python", "train.py"], env={"EPOCHS": "3"}).status  # doctest: +SKIP
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
            "status_transitions": with_transition([], "Starting", now, "Preparing the job's working directory"),
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
        return job_from_row(row)

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
            return [job_from_row(row) for row in conn.execute(query)]

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
            row = lock_job_row(conn, job_id)
            if row is None:
                raise ResourceNotFound(f"no job with id {job_id!r}", field="job_id")
            if row.status in TERMINAL:
                return job_from_row(row)
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
                    "status_transitions": with_transition(row.status_transitions, "Stopping", now, message),
                    "stop_deadline": deadline,
                }
            conn.execute(jobs_table.update().where(jobs_table.c.id == job_id).values(**values))
            job = job_from_row(row, values)
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
            row = lock_job_row(conn, job_id)
            if row is None:
                raise ResourceNotFound(f"no job with id {job_id!r}", field="job_id")
            if row.status in TERMINAL:
                return job_from_row(row)
            transitions = [dict(t) for t in row.status_transitions]
            if row.secondary_status == status and transitions:
                transitions[-1]["StatusMessage"] = message
            else:
                transitions = with_transition(transitions, status, now, message)
            values = {"secondary_status": status, "status_transitions": transitions}
            conn.execute(jobs_table.update().where(jobs_table.c.id == job_id).values(**values))
            return job_from_row(row, values)

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


# -- module helpers ----------------------------------------------------------------


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
    path = user_path(workdir, "workdir")
    if not path.is_absolute():
        return job_dir / path
    if not path.is_dir():
        raise ValidationError(f"workdir {str(path)!r} is not an existing directory", field="workdir")
    return path
