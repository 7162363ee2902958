"""Metrics and alarms (CloudWatch): publish datapoints, read statistics, alarm on them.

>>> from groundfog.metrics import MetricsService, MetricAlarm
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from groundfog.core.lazy import lazy_exports

_EXPORTS = {
    "AlarmHistoryItem": "groundfog.metrics.models",
    "AlarmStateChange": "groundfog.metrics.models",
    "Datapoint": "groundfog.metrics.models",
    "Dimension": "groundfog.metrics.models",
    "Metric": "groundfog.metrics.models",
    "MetricAlarm": "groundfog.metrics.models",
    "MetricStatistics": "groundfog.metrics.models",
    "MetricsService": "groundfog.metrics.service",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from groundfog.metrics.models import AlarmHistoryItem, AlarmStateChange, Datapoint, Dimension, Metric, MetricAlarm, MetricStatistics
    from groundfog.metrics.service import MetricsService
