"""CloudWatch's resources and vocabularies: metrics, datapoints, alarms, history.

Fields are snake_case; each has the PascalCase alias CloudWatch users know
(``OKActions`` keeps its odd capitals), so ``model_dump(by_alias=True)`` gives
CloudWatch's own response shapes.

>>> Dimension(Name="EndpointName", Value="churn").model_dump(by_alias=True)
{'Name': 'EndpointName', 'Value': 'churn'}
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_serializer
from pydantic.alias_generators import to_pascal

UNITS = (
    "Seconds", "Microseconds", "Milliseconds",
    "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
    "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
    "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
    "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
    "Count/Second", "None",
)
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
# operator -> (what a breaching datapoint "was", the comparison)
COMPARISON_OPERATORS: dict[str, tuple[str, Any]] = {
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda v, t: v >= t),
    "GreaterThanThreshold": ("greater than", lambda v, t: v > t),
    "LessThanThreshold": ("less than", lambda v, t: v < t),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda v, t: v <= t),
}
TREAT_MISSING_DATA = ("missing", "notBreaching", "breaching", "ignore")
OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
STATE_VALUES = (OK, ALARM, INSUFFICIENT_DATA)
HISTORY_ITEM_TYPES = ("ConfigurationUpdate", "StateUpdate", "Action")


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, alias_generator=to_pascal)


class Dimension(_Model):
    """One name/value pair; a metric is identified by all of its dimensions together."""

    name: str
    value: str


class Metric(_Model):
    """A metric as ``list_metrics`` reports it."""

    namespace: str
    metric_name: str
    dimensions: list[Dimension] = Field(default_factory=list)


class Datapoint(_Model):
    """One period's statistics; only the statistics asked for are present."""

    timestamp: datetime
    sample_count: float | None = None
    average: float | None = None
    sum: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    extended_statistics: dict[str, float] | None = None
    unit: str = "None"

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: Any) -> dict[str, Any]:
        return {k: v for k, v in handler(self).items() if v is not None}


class MetricStatistics(_Model):
    """What ``get_metric_statistics`` returns: ``{Label, Datapoints}``, oldest first."""

    label: str
    datapoints: list[Datapoint] = Field(default_factory=list)


class MetricAlarm(_Model):
    """An alarm on one metric, with its current state."""

    alarm_name: str
    alarm_arn: str
    alarm_description: str | None = None
    alarm_configuration_updated_timestamp: datetime
    actions_enabled: bool = True
    ok_actions: list[str] = Field(default_factory=list, alias="OKActions")
    alarm_actions: list[str] = Field(default_factory=list)
    insufficient_data_actions: list[str] = Field(default_factory=list)
    state_value: str = INSUFFICIENT_DATA
    state_reason: str = ""
    state_reason_data: dict[str, Any] | None = None
    state_updated_timestamp: datetime
    metric_name: str
    namespace: str
    statistic: str | None = None
    extended_statistic: str | None = None
    dimensions: list[Dimension] = Field(default_factory=list)
    period: int
    unit: str | None = None
    evaluation_periods: int
    datapoints_to_alarm: int | None = None
    threshold: float
    comparison_operator: str
    treat_missing_data: str = "missing"


class AlarmHistoryItem(_Model):
    """One entry of an alarm's history: a configuration change, a state change, or an action."""

    alarm_name: str
    alarm_type: str = "MetricAlarm"
    timestamp: datetime
    history_item_type: str
    history_summary: str
    history_data: dict[str, Any] = Field(default_factory=dict)


class AlarmStateChange(_Model):
    """What state listeners receive (and ``evaluate_alarms`` returns) for each transition."""

    alarm_name: str
    alarm_arn: str
    old_state_value: str
    new_state_value: str
    new_state_reason: str
    state_change_time: datetime
    alarm: MetricAlarm
