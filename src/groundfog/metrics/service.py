"""The metrics service (CloudWatch): metric data and statistics; alarms come from ``alarms``.

>>> m = platform.metrics                                                                          # doctest: +SKIP
>>> m.put_metric_data("App", [{"MetricName": "Latency", "Value": 12.5, "Unit": "Milliseconds"}])  # doctest: +SKIP
>>> m.get_metric_statistics("App", "Latency", start_time="2026-01-01T00:00:00Z",                  # doctest: +SKIP
...     end_time="2026-01-01T01:00:00Z", period=300, statistics=["Average"]).datapoints[0].average
12.5

Choices where CloudWatch's documentation is silent or where groundfog differs:

- Raw datapoints are kept as published (StorageResolution is recorded, not used to
  coarsen them), so any period down to one second works on any metric.
- ``statistics`` and ``extended_statistics`` may be given together (CloudWatch asks for
  one or the other); datapoints come back oldest first.
- With no ``unit``, each unit published for the metric gets its own datapoints per
  period, as in CloudWatch; with a ``unit``, only data published with it counts.
- ``list_metrics`` lists every metric ever published (CloudWatch: the last two weeks).
- Percentiles are weighted nearest-rank (see ``statistics``); alarm evaluation follows
  CloudWatch's M-out-of-N rules as ``evaluation`` documents.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from groundfog.core.bus import Bus
from groundfog.core.clock import Clock
from groundfog.core.config import Config
from groundfog.core.service import Service, operation
from groundfog.core.state import StateStore
from groundfog.core.times import epoch_seconds
from groundfog.metrics.alarms import AlarmOperations
from groundfog.metrics.models import STATISTICS, AlarmStateChange, Datapoint, Dimension, Metric, MetricStatistics
from groundfog.metrics.statistics import aggregate
from groundfog.metrics.tables import alarms, datapoints, series
from groundfog.metrics.validation import (
    Dims,
    canonical,
    dims_hash,
    fail,
    parse_dimensions,
    parse_metric_data,
    parse_metric_name,
    parse_namespace,
    parse_percentile,
    parse_statistic,
    parse_unit,
)

log = logging.getLogger(__name__)
MAX_DATAPOINTS = 1440
StateListener = Callable[[AlarmStateChange], None]
TimeArg = datetime | float | str


class MetricsService(AlarmOperations, Service):
    """CloudWatch metrics and alarms on the platform's state store."""

    name = "metrics"

    def __init__(
        self, *, config: Config, state: StateStore, clock: Clock, bus: Bus, evaluation_interval: float = 10.0
    ) -> None:
        super().__init__(config=config, state=state, clock=clock)
        self.bus = bus
        self.evaluation_interval = evaluation_interval
        self._listeners: list[StateListener] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._poll_seconds = 0.5

    # -- metric data -------------------------------------------------------------

    @operation
    def put_metric_data(self, namespace: str, metric_data: list[dict[str, Any]]) -> None:
        """Publish datapoints (CloudWatch ``PutMetricData``); alarms on them are evaluated at once.

        Each entry has ``MetricName``, optional ``Dimensions`` [{Name, Value}],
        ``Timestamp`` (default now), ``Unit``, ``StorageResolution``, and exactly one of
        ``Value``, ``Values`` (+ ``Counts``) or ``StatisticValues``.
        """
        self._put(parse_namespace(namespace), metric_data)

    def put_service_metric_data(self, namespace: str, metric_data: list[dict[str, Any]]) -> None:
        """``put_metric_data`` for groundfog's own services, which may use ``AWS/`` namespaces
        (``AWS/SageMaker``) as AWS services do. Not exposed over the API or the CLI."""
        self._put(parse_namespace(namespace, allow_reserved=True), metric_data)

    def _put(self, namespace: str, metric_data: list[dict[str, Any]]) -> None:
        now = self.clock.time()
        rows = parse_metric_data(metric_data, now)
        keys = {(r.metric_name, r.dims) for r in rows}
        with self.state.write() as conn:
            ids = self._series_ids(conn, namespace, keys, now)
            conn.execute(
                datapoints.insert(),
                [
                    {
                        "series_id": ids[r.metric_name, r.dims], "timestamp": r.timestamp, "unit": r.unit,
                        "value": r.value, "sample_count": r.sample_count, "sum": r.sum, "minimum": r.minimum,
                        "maximum": r.maximum, "storage_resolution": r.storage_resolution,
                    }
                    for r in rows
                ],
            )
        self._evaluate_watching(namespace, {(name, dims_hash(dims)) for name, dims in keys})

    def _series_ids(self, conn: Connection, namespace: str, keys: set[tuple[str, Dims]], now: float) -> dict:
        """``{(metric name, dims): series id}``, creating the series not seen before."""
        wanted = {(name, dims_hash(dims)): (name, dims) for name, dims in keys}
        query = sa.select(series.c.id, series.c.metric_name, series.c.dims_hash).where(
            series.c.namespace == namespace, series.c.metric_name.in_(sorted({name for name, _ in keys}))
        )

        def known() -> dict[tuple[str, Dims], int]:
            rows = conn.execute(query)
            return {wanted[r.metric_name, r.dims_hash]: r.id for r in rows if (r.metric_name, r.dims_hash) in wanted}

        ids = known()
        new = [
            {"namespace": namespace, "metric_name": name, "dims_hash": h, "dimensions": [list(d) for d in dims],
             "created_at": now}
            for (name, h), (_, dims) in wanted.items() if (name, dims) not in ids
        ]
        if new:
            # Another writer may create the same series meanwhile (PostgreSQL): keep theirs.
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            unique = ["namespace", "metric_name", "dims_hash"]
            conn.execute(insert(series).on_conflict_do_nothing(index_elements=unique), new)
            ids = known()
        return ids

    def _series_id(self, conn: Connection, namespace: str, metric_name: str, key: str) -> int | None:
        query = sa.select(series.c.id).where(
            series.c.namespace == namespace, series.c.metric_name == metric_name, series.c.dims_hash == key
        )
        return conn.execute(query).scalar_one_or_none()

    @operation
    def get_metric_statistics(
        self,
        namespace: str,
        metric_name: str,
        dimensions: list[dict[str, Any]] | None = None,
        *,
        start_time: TimeArg,
        end_time: TimeArg,
        period: int,
        statistics: list[str] | None = None,
        extended_statistics: list[str] | None = None,
        unit: str | None = None,
    ) -> MetricStatistics:
        """Statistics of one metric per period (CloudWatch ``GetMetricStatistics``).

        ``dimensions`` must be exactly the published dimension set. ``start_time`` is
        inclusive, ``end_time`` exclusive; periods start at ``start_time`` rounded down
        as CloudWatch does (to the minute when under 15 days old, to 5 minutes under 63
        days, to the hour beyond; to the period itself for periods under a minute).
        """
        namespace = parse_namespace(namespace, allow_reserved=True)
        metric_name = parse_metric_name(metric_name)
        key = dims_hash(canonical(parse_dimensions(dimensions, "Dimensions")))
        stats = [parse_statistic(s, f"Statistics[{i}]") for i, s in enumerate(statistics or [])]
        extended = {s: parse_percentile(s, f"ExtendedStatistics[{i}]") for i, s in enumerate(extended_statistics or [])}
        if not stats and not extended:
            raise fail("Statistics", f"give at least one of Statistics ({', '.join(STATISTICS)}) or ExtendedStatistics")
        if len(stats) > 5 or len(extended) > 10:
            raise fail("Statistics", "at most 5 Statistics and 10 ExtendedStatistics may be asked for")
        unit = None if unit is None else parse_unit(unit)
        if isinstance(period, bool) or not isinstance(period, int) or period < 1:
            raise fail("Period", f"must be a whole number of seconds, at least 1, got {period!r}")
        if period < 60 and period not in (1, 5, 10, 20, 30) or period >= 60 and period % 60:
            raise fail("Period", f"must be 1, 5, 10, 20, 30 or a multiple of 60, got {period}")
        start, end = epoch_seconds(start_time, "StartTime"), epoch_seconds(end_time, "EndTime")
        if start >= end:
            raise fail("StartTime", "must be earlier than EndTime")
        origin = _round_start(start, period, self.clock.time())
        if math.ceil((end - origin) / period) > MAX_DATAPOINTS:
            raise fail(
                "Period",
                f"the request would return {math.ceil((end - origin) / period)} datapoints; at most {MAX_DATAPOINTS} "
                "are allowed: narrow the time range or lengthen the period",
            )
        with self.state.read() as conn:
            series_id = self._series_id(conn, namespace, metric_name, key)
            periods = (
                []
                if series_id is None
                else aggregate(conn, series_id, origin=origin, end=end, period=period, unit=unit, percentiles=extended)
            )
        points = []
        for p in periods:
            values: dict[str, Any] = {_snake(s): p.value(s) for s in stats}
            if extended:
                values["extended_statistics"] = p.percentiles or None
            points.append(Datapoint(timestamp=datetime.fromtimestamp(p.start, timezone.utc), unit=p.unit, **values))
        return MetricStatistics(label=metric_name, datapoints=points)

    @operation
    def list_metrics(
        self,
        namespace: str | None = None,
        metric_name: str | None = None,
        dimensions: list[dict[str, Any]] | None = None,
    ) -> list[Metric]:
        """Published metrics (CloudWatch ``ListMetrics``); ``dimensions`` filters are
        ``{Name}`` (has the dimension) or ``{Name, Value}`` (has it with that value)."""
        filters = parse_dimensions(dimensions, "Dimensions", values_required=False)
        query = sa.select(series.c.namespace, series.c.metric_name, series.c.dimensions)
        if namespace is not None:
            query = query.where(series.c.namespace == parse_namespace(namespace, allow_reserved=True))
        if metric_name is not None:
            query = query.where(series.c.metric_name == parse_metric_name(metric_name))
        with self.state.read() as conn:
            rows = conn.execute(query).all()
        found = []
        for r in rows:
            dims = dict(map(tuple, r.dimensions))
            if all(name in dims and (value is None or dims[name] == value) for name, value in filters):
                found.append(Metric(namespace=r.namespace, metric_name=r.metric_name,
                                    dimensions=[Dimension(name=n, value=v) for n, v in r.dimensions]))
        return sorted(found, key=lambda m: (m.namespace, m.metric_name, [(d.name, d.value) for d in m.dimensions]))

    # -- background evaluation and listeners --------------------------------------

    def add_state_listener(self, callback: StateListener) -> StateListener:
        """Call ``callback(change)`` on every alarm state change this service makes,
        in the thread that made it; returns the callback (usable as a decorator)."""
        self._listeners.append(callback)
        return callback

    def remove_state_listener(self, callback: StateListener) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    def _evaluate_watching(self, namespace: str, keys: set[tuple[str, str]]) -> None:
        query = sa.select(alarms).where(
            alarms.c.namespace == namespace, alarms.c.metric_name.in_({name for name, _ in keys})
        )
        with self.state.read() as conn:
            watching = [r for r in conn.execute(query) if (r.metric_name, r.dims_hash) in keys]
        now = self.clock.time()
        for row in watching:
            self._evaluate_alarm(row, now)

    def start_background(self) -> None:
        """Evaluate every alarm now and then every ``evaluation_interval`` seconds of the clock."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="groundfog-metrics-alarms", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        due = self.clock.time()
        first = True
        while not self._stop.is_set():
            now = self.clock.time()
            if now >= due:
                try:
                    # First pass: whatever a crashed process recorded but never sent;
                    # later: only what has waited long enough that its sender is gone.
                    self.deliver_pending_actions(older_than=0.0 if first else PENDING_GRACE)
                    first = False
                    self.evaluate_alarms()
                except Exception:  # noqa: BLE001 - the loop must outlive one bad evaluation
                    log.exception("alarm evaluation failed")
                due = now + self.evaluation_interval
            self._stop.wait(min(self._poll_seconds, self.evaluation_interval))

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None


PENDING_GRACE = 30.0  # seconds an unsent alarm action waits before another process sends it


def _round_start(start: float, period: int, now: float) -> float:
    if period < 60:
        step = period
    else:
        age = now - start
        step = 60 if age < 15 * 86400 else 300 if age < 63 * 86400 else 3600
    return math.floor(start / step) * step


def _snake(statistic: str) -> str:
    return {"SampleCount": "sample_count"}.get(statistic, statistic.lower())

