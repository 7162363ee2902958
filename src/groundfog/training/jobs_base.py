"""What training and processing services share: rows, ownership, drivers, waiting, logs.

The platform that creates a job owns its row and runs its driver in a thread. Owners
heartbeat; a job whose owner died (``kill -9``) or went quiet is claimed by the next
platform that looks (on start, on first use, and every few seconds in the server),
which resumes its driver. A claim is a conditional UPDATE on the owner and heartbeat
it saw, so two live platforms never both drive a job.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from groundfog.core.errors import ResourceNotFound, ValidationError
from groundfog.core.names import validate_name
from groundfog.core.owners import owner_alive, owner_token
from groundfog.core.service import Service
from groundfog.training.driver import Recipe, start_driver
from groundfog.training.tables import jobs, metric_values

if TYPE_CHECKING:
    from groundfog.core.jobs import JobRunner
    from groundfog.metrics import MetricsService
    from groundfog.storage import StorageService

log = logging.getLogger("groundfog.training")

ACTIVE = ("InProgress", "Stopping")
TERMINAL = ("Completed", "Failed", "Stopped")


class JobsBase(Service):
    kind = ""  # training | processing
    heartbeat_seconds = 2.0
    stale_seconds = 15.0
    reconcile_seconds = 5.0

    def __init__(self, *, config, state, clock, storage: "StorageService", metrics: "MetricsService", jobs: "JobRunner") -> None:  # type: ignore[no-untyped-def]
        super().__init__(config=config, state=state, clock=clock)
        self.storage = storage
        self.metrics = metrics
        self.jobs = jobs
        self.owner = owner_token()
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._generation = 0
        self._drivers: dict[str, threading.Thread] = {}
        self._reconciled = False
        self._background: threading.Thread | None = None
        self._listeners: list[Any] = []

    # -- recipes (the subclass says how its kind runs) ------------------------------

    def recipe(self, spec: dict[str, Any]) -> Recipe:
        raise NotImplementedError

    def next_interruption(self, spec: dict[str, Any], running_seconds: float) -> float | None:
        return None

    # -- rows ---------------------------------------------------------------------------

    def job_dir(self, kind: str, name: str) -> Path:
        return self.config.jobs_dir / kind / name

    def _row(self, name: str) -> Any:
        with self.state.read() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.kind == self.kind, jobs.c.name == name)).first()
        if row is None:
            label = "TrainingJobName" if self.kind == "training" else "ProcessingJobName"
            raise ResourceNotFound(f"no {self.kind} job named {name!r}", field=label)
        return row

    def _rows(self, *conditions: Any, limit: int | None = None) -> list[Any]:
        query = sa.select(jobs).where(jobs.c.kind == self.kind, *conditions).order_by(jobs.c.created_at.desc())
        if limit is not None:
            query = query.limit(limit)
        with self.state.read() as conn:
            return list(conn.execute(query))

    def _insert(self, row: dict[str, Any]) -> None:
        with self.state.write() as conn:
            conn.execute(jobs.insert().values(kind=self.kind, owner=self.owner, heartbeat_at=self.clock.time(), **row))
        self._drive(row["name"])

    def _request_stop(self, name: str) -> None:
        self._ensure_reconciled()
        now = self.clock.time()
        with self.state.write() as conn:
            conn.execute(
                jobs.update()
                .where(jobs.c.kind == self.kind, jobs.c.name == name, jobs.c.status == "InProgress")
                .values(status="Stopping", modified_at=now)
            )
        self.changed()

    # -- drivers, ownership --------------------------------------------------------------

    def _drive(self, name: str) -> None:
        with self._lock:
            thread = self._drivers.get(name)
            if thread is not None and thread.is_alive():
                return
            row = self._row(name)
            self._drivers[name] = start_driver(self, self.kind, name, self.recipe(row.spec))
        self._ensure_background()

    def changed(self) -> None:
        with self._changed:
            self._generation += 1
            self._changed.notify_all()

    def ended(self, kind: str, name: str) -> None:
        """Called by a driver once its job has ended."""
        row = self._row(name)
        for listener in list(self._listeners):
            try:
                listener(row)
            except Exception:  # noqa: BLE001 - a listener must not break the driver
                log.exception("listener failed on %s", name)

    def on_job_end(self, callback: Any) -> None:
        """Call ``callback(row)`` when a job driven here ends."""
        self._listeners.append(callback)

    def reconcile(self) -> list[str]:
        """Claim every active job whose owner is gone and resume its driver."""
        self._reconciled = True
        if self.closing.is_set():
            return []
        now = self.clock.time()
        claimed = []
        for row in self._rows(jobs.c.status.in_(ACTIVE)):
            if row.owner == self.owner:
                continue
            alive = owner_alive(row.owner)
            stale = now - (row.heartbeat_at or 0) > self.stale_seconds
            if row.owner is not None and alive is not False and not stale:
                continue
            seen_owner = jobs.c.owner.is_(None) if row.owner is None else jobs.c.owner == row.owner
            seen_beat = jobs.c.heartbeat_at.is_(None) if row.heartbeat_at is None else jobs.c.heartbeat_at == row.heartbeat_at
            with self.state.write() as conn:
                done = conn.execute(
                    jobs.update()
                    .where(jobs.c.kind == self.kind, jobs.c.name == row.name, seen_owner, seen_beat)
                    .values(owner=self.owner, heartbeat_at=now)
                )
            if done.rowcount == 1:
                log.info("resuming %s job %s (its owner is gone)", self.kind, row.name)
                claimed.append(row.name)
                self._drive(row.name)
        return claimed

    def _ensure_reconciled(self) -> None:
        if not self._reconciled:
            self.reconcile()

    def _ensure_background(self) -> None:
        with self._lock:
            if self.closing.is_set() or (self._background is not None and self._background.is_alive()):
                return
            self._background = threading.Thread(target=self._supervise, name=f"groundfog-{self.kind}-supervisor", daemon=True)
            self._background.start()

    def _supervise(self) -> None:
        next_reconcile = time.monotonic() + self.reconcile_seconds
        while not self.closing.wait(self.heartbeat_seconds):
            try:
                with self.state.write() as conn:
                    conn.execute(
                        jobs.update()
                        .where(jobs.c.kind == self.kind, jobs.c.owner == self.owner, jobs.c.status.in_(ACTIVE))
                        .values(heartbeat_at=self.clock.time())
                    )
                if self._serving and time.monotonic() >= next_reconcile:
                    self.reconcile()
                    next_reconcile = time.monotonic() + self.reconcile_seconds
            except Exception:  # noqa: BLE001 - a state-store hiccup must not end supervision
                log.exception("%s supervisor tick failed", self.kind)

    _serving = False

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
        try:
            with self.state.write() as conn:
                conn.execute(
                    jobs.update()
                    .where(jobs.c.kind == self.kind, jobs.c.owner == self.owner, jobs.c.status.in_(ACTIVE))
                    .values(owner=None)
                )
        except Exception:  # noqa: BLE001 - closing must not fail; heartbeats go stale anyway
            log.exception("could not hand over the %s jobs of %s", self.kind, self.owner)

    # -- waiting, logs, metrics ------------------------------------------------------------

    def _wait(self, name: str, timeout: float | None) -> Any:
        self._ensure_reconciled()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                generation = self._generation
            row = self._row(name)
            if row.status in TERMINAL:
                return row
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return row
            if row.owner != self.owner:
                self.reconcile()  # its owner may die while we wait
            pause = 0.5 if deadline is None else min(0.5, deadline - now)
            with self._changed:
                if self._generation == generation:
                    self._changed.wait(pause)

    def _logs(self, name: str, start: int = 0, limit: int = 1 << 20) -> tuple[str, int, bool]:
        row = self._row(name)
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            raise ValidationError(f"start must be a byte offset >= 0, got {start!r}", field="start")
        path = self.job_dir(self.kind, name) / "logs" / "output.log"
        try:
            with open(path, "rb") as f:
                f.seek(start)
                chunk = f.read(limit)
        except FileNotFoundError:
            chunk = b""
        # Whole lines only, unless the job has ended (then everything that is there).
        done = row.status in TERMINAL
        if not done and b"\n" in chunk:
            chunk = chunk[: chunk.rfind(b"\n") + 1]
        elif not done:
            chunk = b""
        return chunk.decode(errors="replace"), start + len(chunk), done and len(chunk) < limit

    def metric_series(self, name: str, metric_name: str | None = None, host: str = "algo-1") -> dict[str, list[float]]:
        """Every value each metric definition matched in the log of ``host``, in order."""
        self._row(name)
        query = sa.select(metric_values).where(metric_values.c.job_name == name, metric_values.c.host == host)
        if metric_name is not None:
            query = query.where(metric_values.c.metric_name == metric_name)
        out: dict[str, list[float]] = {}
        with self.state.read() as conn:
            for row in conn.execute(query.order_by(metric_values.c.metric_name, metric_values.c.step)):
                out.setdefault(row.metric_name, []).append(row.value)
        return out

    def publish_metrics(self, name: str, values: list[dict[str, Any]]) -> None:
        data = [
            {"MetricName": v["metric_name"], "Value": v["value"], "Timestamp": v["timestamp"],
             "Dimensions": [{"Name": "Host", "Value": f"{name}/{v['host']}"}]}
            for v in values
        ]  # fmt: skip
        try:
            for i in range(0, len(data), 1000):
                self.metrics.put_service_metric_data("/aws/sagemaker/TrainingJobs", data[i : i + 1000])
        except Exception:  # noqa: BLE001 - metrics are a view; the job's own record is kept above
            log.exception("could not publish metrics of %s", name)


def check_job_name(value: object, field: str) -> str:
    return validate_name(value, field)
