"""Per-variant endpoint metrics (namespace ``AWS/SageMaker``), aggregated in memory on
the request path and published once a second, as SageMaker's endpoints publish them.

Every flush sends, for each (endpoint, variant) with activity since the last one:
``Invocations``, ``Invocation4XXErrors``, ``Invocation5XXErrors`` (0 included, so an
alarm on their Sum sees 0 rather than missing data), ``InvocationsPerInstance``,
``ModelLatency`` and ``OverheadLatency`` (statistic sets, microseconds) and
``ModelSetupTime`` when a worker started; all high-resolution, dimensions
``EndpointName`` and ``VariantName``.

>>> sent = []
>>> metrics = InvocationMetrics(sent.extend, now=lambda: 1_800_000_000.0)
>>> metrics.record("churn", "AllTraffic", status=200, model_us=850.0, overhead_us=120.0)
>>> metrics.flush()
>>> [(d["MetricName"], d.get("Value")) for d in sent][:4]
[('Invocations', 1.0), ('Invocation4XXErrors', 0.0), ('Invocation5XXErrors', 0.0), ('InvocationsPerInstance', 1.0)]
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from groundfog.serving.flushing import PeriodicFlusher

log = logging.getLogger(__name__)

Put = Callable[[list[dict[str, Any]]], None]
MAX_ENTRIES_PER_PUT = 1000  # CloudWatch's PutMetricData limit


@dataclass(slots=True)
class _Window:
    """One variant's activity since the last published flush."""

    invocations: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    model_count: int = 0
    model_sum: float = 0.0
    model_min: float = math.inf
    model_max: float = -math.inf
    overhead_sum: float = 0.0  # every invocation has an overhead sample: its count is `invocations`
    overhead_min: float = math.inf
    overhead_max: float = -math.inf
    setups_us: list[float] = field(default_factory=list)

    def add(self, other: "_Window") -> None:
        self.invocations += other.invocations
        self.errors_4xx += other.errors_4xx
        self.errors_5xx += other.errors_5xx
        self.model_count += other.model_count
        self.model_sum += other.model_sum
        self.model_min = min(self.model_min, other.model_min)
        self.model_max = max(self.model_max, other.model_max)
        self.overhead_sum += other.overhead_sum
        self.overhead_min = min(self.overhead_min, other.overhead_min)
        self.overhead_max = max(self.overhead_max, other.overhead_max)
        self.setups_us.extend(other.setups_us)


class InvocationMetrics(PeriodicFlusher):
    thread_name = "groundfog-serving-metrics"

    """Aggregates invocations per (endpoint, variant) and publishes them through
    ``put(metric_data)`` every ``flush_seconds`` (``start``), on ``flush`` and on
    ``close``. Data a failed ``put`` could not publish is kept and merged into the
    next flush, so no count is lost."""

    def __init__(self, put: Put, *, flush_seconds: float = 1.0, now: Callable[[], float] = time.time) -> None:
        self.put = put
        super().__init__(flush_seconds)
        self.now = now
        self._windows: dict[tuple[str, str], _Window] = {}
        self._instances: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()  # guards _windows and _instances
        self._flushing = threading.Lock()  # one flush at a time, so each count is published once

    def record(self, endpoint: str, variant: str, *, status: int, model_us: float | None, overhead_us: float) -> None:
        """Count one invocation and its status; ``model_us`` is None when the model gave
        no time (the worker failed or timed out)."""
        key = (endpoint, variant)
        with self._lock:
            w = self._windows.get(key)
            if w is None:
                w = self._windows[key] = _Window()
            w.invocations += 1
            if status >= 500:
                w.errors_5xx += 1
            elif status >= 400:
                w.errors_4xx += 1
            if model_us is not None:
                w.model_count += 1
                w.model_sum += model_us
                if model_us < w.model_min:
                    w.model_min = model_us
                if model_us > w.model_max:
                    w.model_max = model_us
            w.overhead_sum += overhead_us
            if overhead_us < w.overhead_min:
                w.overhead_min = overhead_us
            if overhead_us > w.overhead_max:
                w.overhead_max = overhead_us

    def set_instances(self, endpoint: str, variant: str, count: int) -> None:
        """The variant's current instance count, for ``InvocationsPerInstance`` (at least 1)."""
        with self._lock:
            self._instances[endpoint, variant] = max(1, count)

    def record_setup(self, endpoint: str, variant: str, seconds: float) -> None:
        """One worker's time to load its model and become ready (``ModelSetupTime``)."""
        with self._lock:
            w = self._windows.get((endpoint, variant))
            if w is None:
                w = self._windows[endpoint, variant] = _Window()
            w.setups_us.append(seconds * 1e6)


    def flush(self) -> None:
        """Publish the activity since the last flush; what ``put`` refuses waits for the next."""
        with self._flushing:
            with self._lock:
                windows, self._windows = self._windows, {}
                instances = {key: self._instances.get(key, 1) for key in windows}
            if not windows:
                return
            timestamp = self.now()
            failed: dict[tuple[str, str], _Window] = {}
            error: Exception | None = None
            for batch in _batches(windows, instances, timestamp):
                try:
                    self.put([entry for _, entries in batch for entry in entries])
                except Exception as exc:  # noqa: BLE001 - keep the counts for the next flush
                    error = exc
                    failed.update((key, windows[key]) for key, _ in batch)
            if failed:
                self._keep(failed)
                log.warning("endpoint metrics of %d variants not published, kept for the next flush: %r",
                            len(failed), error)  # fmt: skip


    def _keep(self, failed: dict[tuple[str, str], _Window]) -> None:
        with self._lock:
            for key, old in failed.items():
                newer = self._windows.get(key)
                if newer is not None:
                    old.add(newer)
                self._windows[key] = old



def _batches(windows: dict[tuple[str, str], _Window], instances: dict[tuple[str, str], int],
             timestamp: float) -> list[list[tuple[tuple[str, str], list[dict[str, Any]]]]]:  # fmt: skip
    """The entries of every variant, in puts of at most ``MAX_ENTRIES_PER_PUT`` entries;
    a variant's entries stay in one put, so a failed put keeps whole variants."""
    batches: list[list[tuple[tuple[str, str], list[dict[str, Any]]]]] = [[]]
    size = 0
    for key, w in windows.items():
        entries = _entries(key, w, instances[key], timestamp)
        if size + len(entries) > MAX_ENTRIES_PER_PUT and batches[-1]:
            batches.append([])
            size = 0
        batches[-1].append((key, entries))
        size += len(entries)
    return batches


def _entries(key: tuple[str, str], w: _Window, instances: int, timestamp: float) -> list[dict[str, Any]]:
    endpoint, variant = key
    dims = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]

    def metric(name: str, unit: str, **value: Any) -> dict[str, Any]:
        return {"MetricName": name, "Dimensions": dims, "Timestamp": timestamp, "Unit": unit,
                "StorageResolution": 1, **value}  # fmt: skip

    entries = []
    if w.invocations:
        entries += [
            metric("Invocations", "Count", Value=float(w.invocations)),
            metric("Invocation4XXErrors", "Count", Value=float(w.errors_4xx)),
            metric("Invocation5XXErrors", "Count", Value=float(w.errors_5xx)),
            metric("InvocationsPerInstance", "Count", Value=w.invocations / instances),
            metric("OverheadLatency", "Microseconds", StatisticValues={
                "SampleCount": float(w.invocations), "Sum": w.overhead_sum, "Minimum": w.overhead_min,
                "Maximum": w.overhead_max}),
        ]  # fmt: skip
    if w.model_count:
        entries.append(metric("ModelLatency", "Microseconds", StatisticValues={
            "SampleCount": float(w.model_count), "Sum": w.model_sum, "Minimum": w.model_min,
            "Maximum": w.model_max}))  # fmt: skip
    entries += [metric("ModelSetupTime", "Microseconds", Value=us) for us in w.setups_us]
    return entries
