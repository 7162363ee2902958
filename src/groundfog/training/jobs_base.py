"""What training and processing services share: rows, drivers, waiting, logs, metrics.

Ownership (who drives a job, claims after a crash, heartbeats) comes from
``driven.DrivenService``; the job's steps from ``driver.Driver`` and a ``Recipe``.
"""

from __future__ import annotations

import logging
import os
from abc import abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from groundfog.core.errors import ResourceNotFound, ValidationError
from groundfog.core.paging import list_named
from groundfog.core.serialize import to_jsonable
from groundfog.core.driven import ACTIVE, TERMINAL, DrivenService
from groundfog.training.driver import Driver, Recipe
from groundfog.training.tables import jobs, metric_values

if TYPE_CHECKING:
    from collections.abc import Callable

    from groundfog.core.bus import Bus
    from groundfog.core.jobs import JobRunner
    from groundfog.metrics import MetricsService
    from groundfog.storage import StorageService

log = logging.getLogger("groundfog.training")

__all__ = ["ACTIVE", "TERMINAL", "JobsBase"]


class JobsBase(DrivenService):
    kind = ""  # training | processing
    table = jobs

    detail_type = ""  # of the EventBridge event a status change emits

    def __init__(self, *, config, state, clock, storage: "StorageService", metrics: "MetricsService", jobs: "JobRunner", bus: "Bus | None" = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(config=config, state=state, clock=clock)
        self.storage = storage
        self.metrics = metrics
        self.jobs = jobs
        self.bus = bus

    def _scope(self) -> list[Any]:
        return [jobs.c.kind == self.kind]

    def _driver(self, name: str) -> "Callable[[], None]":
        return Driver(self, self.kind, name, self.recipe(self._row(name).spec)).run

    # -- recipes (the subclass says how its kind runs) ------------------------------

    @abstractmethod
    def recipe(self, spec: dict[str, Any]) -> Recipe:
        """How a job of this kind runs."""

    def next_interruption(self, spec: dict[str, Any], running_seconds: float) -> float | None:
        return None

    @abstractmethod
    def _describe(self, row: Any) -> dict[str, Any]:
        """The job as SageMaker's Describe* operation shows it."""

    def emit_state_change(self, row: Any) -> None:
        """SageMaker's ``... Job State Change`` event for ``row`` (as it is, or is about to be)."""
        if self.bus is None:
            return
        try:
            detail = to_jsonable(self._describe(row))
            self.bus.emit("aws.sagemaker", self.detail_type, detail, resources=[row.arn])
        except Exception:  # noqa: BLE001 - the job's own record stands; the event is a notification
            log.exception("could not emit the state change of %s", row.name)

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

    def _rows(self, *conditions: Any) -> list[Any]:
        query = sa.select(jobs).where(jobs.c.kind == self.kind, *conditions).order_by(jobs.c.created_at.desc())
        with self.state.read() as conn:
            return list(conn.execute(query))

    def _insert(self, row: dict[str, Any]) -> None:
        with self.state.write() as conn:
            conn.execute(jobs.insert().values(kind=self.kind, owner=self.owner, heartbeat_at=self.clock.time(), **row))
        self.emit_state_change(self._row(row["name"]))
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

    # -- waiting, logs, metrics ------------------------------------------------------------

    def _wait(self, name: str, timeout: float | None) -> Any:
        return self._wait_until_done(lambda: self._row(name), timeout)

    # -- what the operations of both kinds share -------------------------------------------

    def _stop(self, name: str) -> None:
        self._row(name)
        self._request_stop(name)

    def _wait_and_describe(self, name: str, timeout: float | None) -> dict[str, Any]:
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 <= timeout <= 86400):
            raise ValidationError("timeout must be a number of seconds from 0 to 86400", field="timeout")
        return self._describe(self._wait(name, timeout))

    def _log_page(self, name: str, start: int) -> dict[str, Any]:
        text, next_start, done = self._logs(name, start)
        return {"Text": text, "NextStart": next_start, "Done": done}

    def _listed(self, status_equals: str | None, name_contains: str | None, max_results: int, *conditions: Any,
                sort_by: str = "CreationTime", sort_order: str = "Descending",
                next_token: str | None = None) -> tuple[list[Any], str | None]:  # fmt: skip
        """The page of rows a List*Jobs call asks for, newest first by default, and the
        token of the next page; its arguments checked."""
        self._ensure_reconciled()
        conditions = [jobs.c.kind == self.kind, *conditions]
        if status_equals is not None:
            if status_equals not in (*ACTIVE, *TERMINAL):
                raise ValidationError(f"StatusEquals must be one of {', '.join((*ACTIVE, *TERMINAL))}", field="StatusEquals")
            conditions.append(jobs.c.status == status_equals)
        with self.state.read() as conn:
            return list_named(conn, jobs, name_contains=name_contains, max_results=max_results, sort_by=sort_by,
                              sort_order=sort_order, next_token=next_token, where=tuple(conditions),
                              sort_keys=("Name", "CreationTime", "Status"),
                              maximum=1000)  # SageMaker's 100, and room for a console  # fmt: skip

    def _logs(self, name: str, start: int = 0, limit: int = 1 << 20) -> tuple[str, int, bool]:
        self._ensure_reconciled()  # a job nobody drives would show a log that never grows
        row = self._row(name)
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            raise ValidationError(f"start must be a byte offset >= 0, got {start!r}", field="start")
        path = self.job_dir(self.kind, name) / "logs" / "output.log"
        try:
            with open(path, "rb") as f:
                start = min(start, os.fstat(f.fileno()).st_size)  # past the end: nothing new yet
                f.seek(start)
                chunk = f.read(limit)
        except FileNotFoundError:
            chunk, start = b"", 0
        # Whole lines only, unless the job has ended (then everything that is there) or
        # a line is longer than a whole page (then it comes in pieces).
        done = row.status in TERMINAL
        if not done and b"\n" in chunk:
            chunk = chunk[: chunk.rfind(b"\n") + 1]
        elif not done and len(chunk) < limit:
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
