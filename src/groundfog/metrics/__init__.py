"""Metrics and alarms (CloudWatch): publish datapoints, read statistics, alarm on them.

>>> from groundfog.metrics import MetricsService, MetricAlarm
"""

from groundfog.metrics.models import (
    AlarmHistoryItem,
    AlarmStateChange,
    Datapoint,
    Dimension,
    Metric,
    MetricAlarm,
    MetricStatistics,
)
from groundfog.metrics.service import MetricsService

__all__ = [
    "AlarmHistoryItem",
    "AlarmStateChange",
    "Datapoint",
    "Dimension",
    "Metric",
    "MetricAlarm",
    "MetricStatistics",
    "MetricsService",
]
