"""The documents alarms produce: the notification sent to action topics, and history data.

``alarm_message`` has the shape CloudWatch publishes to SNS, quirks included (the
trigger's ``Statistic`` in capitals, its dimensions as lowercase ``name``/``value``),
so handlers written for CloudWatch alarm notifications read it unchanged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from groundfog.core.names import ACCOUNT, REGION
from groundfog.metrics.models import AlarmStateChange, MetricAlarm

_STATISTIC_NAMES = {"SampleCount": "SAMPLE_COUNT", "Average": "AVERAGE", "Sum": "SUM", "Minimum": "MINIMUM",
                    "Maximum": "MAXIMUM"}


def alarm_message(change: AlarmStateChange) -> dict[str, Any]:
    """The payload sent to each action topic of the new state."""
    alarm = change.alarm
    trigger: dict[str, Any] = {
        "MetricName": alarm.metric_name,
        "Namespace": alarm.namespace,
        "StatisticType": "Statistic" if alarm.statistic else "ExtendedStatistic",
    }
    if alarm.statistic:
        trigger["Statistic"] = _STATISTIC_NAMES[alarm.statistic]
    else:
        trigger["ExtendedStatistic"] = alarm.extended_statistic
    trigger.update(
        {
            "Unit": alarm.unit,
            "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions],
            "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
            "DatapointsToAlarm": alarm.datapoints_to_alarm or alarm.evaluation_periods,
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": alarm.threshold,
            "TreatMissingData": alarm.treat_missing_data,
            "EvaluateLowSampleCountPercentile": "",
        }
    )
    return {
        "AlarmName": alarm.alarm_name,
        "AlarmDescription": alarm.alarm_description,
        "AWSAccountId": ACCOUNT,
        "AlarmConfigurationUpdatedTimestamp": _time(alarm.alarm_configuration_updated_timestamp),
        "NewStateValue": change.new_state_value,
        "NewStateReason": change.new_state_reason,
        "StateChangeTime": _time(change.state_change_time),
        "Region": REGION,
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": change.old_state_value,
        "OKActions": alarm.ok_actions,
        "AlarmActions": alarm.alarm_actions,
        "InsufficientDataActions": alarm.insufficient_data_actions,
        "Trigger": trigger,
    }


def alarm_subject(name: str, message: dict[str, Any]) -> str:
    """The SNS Subject CloudWatch gives an alarm's notification, at most 100 characters.

    >>> alarm_subject("cpu-high", {"NewStateValue": "ALARM", "Region": "local"})
    'ALARM: "cpu-high" in local'
    """
    subject = f'{message.get("NewStateValue", "ALARM")}: "{name}" in {message.get("Region", REGION)}'
    return subject if len(subject) <= 100 else subject[:97] + "..."


def configuration_data(alarm: MetricAlarm, kind: str) -> dict[str, Any]:
    """History data of a ``ConfigurationUpdate`` (kind ``Create`` or ``Update``)."""
    config = alarm.model_dump(
        mode="json",
        by_alias=True,
        exclude={"state_value", "state_reason", "state_reason_data", "state_updated_timestamp"},
    )
    return {"version": "1.0", "type": kind, f"{kind.lower()}dAlarm": config}


def state_update_data(row: Any, new_state: str, reason: str, data: dict[str, Any] | None) -> dict[str, Any]:
    """History data of a ``StateUpdate``: the old state and the new one, with reasons."""
    new: dict[str, Any] = {"stateValue": new_state, "stateReason": reason}
    if data is not None:
        new["stateReasonData"] = data
    return {
        "version": "1.0",
        "oldState": {"stateValue": row.state_value, "stateReason": row.state_reason},
        "newState": new,
    }


def _time(value: datetime) -> str:
    """CloudWatch's notification time format: ``2026-01-01T00:03:00.000+0000``."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}" + value.strftime("%z")
