"""``groundfog metrics ...`` and ``groundfog alarms ...``, shaped like ``aws cloudwatch``.

    groundfog metrics put-metric-data --namespace App --metric-name Latency --value 12.5 --unit Milliseconds
    groundfog metrics get-metric-statistics --namespace App --metric-name Latency \\
        --start-time 2026-01-01T00:00:00Z --end-time 2026-01-01T01:00:00Z --period 300 --statistics Average,p99
    groundfog alarms put-metric-alarm --alarm-name slow --namespace App --metric-name Latency \\
        --statistic Average --period 60 --evaluation-periods 3 --threshold 100 \\
        --comparison-operator GreaterThanThreshold --alarm-actions arn:groundfog:events:local:000000000000:topic/ops

``--dimensions`` takes ``Name=Value,Name=Value`` or a JSON list of ``{Name, Value}``;
``--metric-data`` takes JSON (or ``file://path``) as ``aws cloudwatch`` does.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from groundfog.cli.common import JsonOption, command, output, parse_json_option, platform
from groundfog.core.errors import ValidationError

metrics_app = typer.Typer(help="Metric data and statistics (CloudWatch).", no_args_is_help=True)
alarms_app = typer.Typer(help="Alarms on metrics (CloudWatch).", no_args_is_help=True)

Opt = typer.Option
Names = Annotated[list[str], typer.Argument(help="Alarm names.")]
Dimensions = Annotated[str | None, Opt(help="Name=Value,Name=Value or a JSON list of {Name, Value}.")]
Actions = Annotated[list[str] | None, Opt(help="Topic ARN; repeat for more.")]


def _dimensions(text: str | None, *, values_required: bool = True) -> list[dict[str, Any]] | None:
    if text is None:
        return None
    if text.lstrip().startswith(("[", "file://")):
        return parse_json_option(text, "--dimensions")
    dims: list[dict[str, Any]] = []
    for part in text.split(","):
        name, sep, value = part.partition("=")
        if not sep and values_required:
            raise ValidationError(f"--dimensions: expected Name=Value pairs separated by commas, got {part!r}",
                                  field="--dimensions")
        dims.append({"Name": name.strip(), "Value": value} if sep else {"Name": name.strip()})
    return dims


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


@metrics_app.command("put-metric-data")
@command
def put_metric_data(
    namespace: Annotated[str, Opt(help="The metric's namespace (not AWS/...).")],
    metric_name: Annotated[str | None, Opt(help="One datapoint's metric (or use --metric-data).")] = None,
    value: Annotated[float | None, Opt(help="The datapoint's value.")] = None,
    unit: Annotated[str | None, Opt(help="Seconds, Milliseconds, Count, Percent, ...")] = None,
    dimensions: Dimensions = None,
    timestamp: Annotated[str | None, Opt(help="ISO 8601 time or epoch seconds (default: now).")] = None,
    storage_resolution: Annotated[int | None, Opt(help="1 (high resolution) or 60.")] = None,
    metric_data: Annotated[str | None, Opt(help="JSON list of MetricDatum (or file://path).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Publish datapoints (PutMetricData)."""
    if metric_data is not None:
        data = parse_json_option(metric_data, "--metric-data")
    else:
        if metric_name is None or value is None:
            raise ValidationError("give --metric-name and --value, or --metric-data", field="--metric-data")
        datum = {"MetricName": metric_name, "Value": value, "Unit": unit, "Dimensions": _dimensions(dimensions),
                 "Timestamp": timestamp, "StorageResolution": storage_resolution}
        data = [{k: v for k, v in datum.items() if v is not None}]
    platform().metrics.put_metric_data(namespace=namespace, metric_data=data)
    if as_json:
        output({}, as_json=True)


@metrics_app.command("get-metric-statistics")
@command
def get_metric_statistics(
    namespace: Annotated[str, Opt(help="The metric's namespace.")],
    metric_name: Annotated[str, Opt(help="The metric's name.")],
    start_time: Annotated[str, Opt(help="ISO 8601 time or epoch seconds (inclusive).")],
    end_time: Annotated[str, Opt(help="ISO 8601 time or epoch seconds (exclusive).")],
    period: Annotated[int, Opt(help="Seconds per datapoint: 1, 5, 10, 20, 30 or a multiple of 60.")],
    statistics: Annotated[list[str] | None, Opt(help="SampleCount, Average, Sum, Minimum, Maximum, or pNN.N.")] = None,
    extended_statistics: Annotated[list[str] | None, Opt(help="Percentiles such as p50, p99, p99.9.")] = None,
    dimensions: Dimensions = None,
    unit: Annotated[str | None, Opt(help="Only data published with this unit.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Statistics per period (GetMetricStatistics); --statistics also accepts percentiles."""
    names = _split(statistics)
    percentiles = [s for s in names if s.startswith("p")] + _split(extended_statistics)
    result = platform().metrics.get_metric_statistics(
        namespace=namespace, metric_name=metric_name, dimensions=_dimensions(dimensions), start_time=start_time,
        end_time=end_time, period=period, statistics=[s for s in names if not s.startswith("p")] or None,
        extended_statistics=percentiles or None, unit=unit,
    )
    if as_json:
        output(result, as_json=True)
        return
    columns = ["Timestamp", *[s for s in names if not s.startswith("p")], "ExtendedStatistics", "Unit"]
    output(result.datapoints, as_json=False, columns=columns, title=result.label)


@metrics_app.command("list-metrics")
@command
def list_metrics(
    namespace: Annotated[str | None, Opt(help="Only this namespace.")] = None,
    metric_name: Annotated[str | None, Opt(help="Only metrics of this name.")] = None,
    dimensions: Annotated[str | None, Opt(help="Name or Name=Value filters, comma-separated.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Published metrics (ListMetrics)."""
    found = platform().metrics.list_metrics(
        namespace=namespace, metric_name=metric_name, dimensions=_dimensions(dimensions, values_required=False)
    )
    if as_json:
        output({"Metrics": found}, as_json=True)
    else:
        output(found, as_json=False, columns=["Namespace", "MetricName", "Dimensions"])


@alarms_app.command("put-metric-alarm")
@command
def put_metric_alarm(
    alarm_name: Annotated[str, Opt(help="The alarm's name.")],
    namespace: Annotated[str, Opt(help="The watched metric's namespace.")],
    metric_name: Annotated[str, Opt(help="The watched metric's name.")],
    period: Annotated[int, Opt(help="Seconds per datapoint: 10, 20, 30 or a multiple of 60.")],
    evaluation_periods: Annotated[int, Opt(help="N: how many recent datapoints are evaluated.")],
    threshold: Annotated[float, Opt(help="The value compared against.")],
    comparison_operator: Annotated[str, Opt(help="GreaterThanOrEqualToThreshold, GreaterThanThreshold, "
                                                 "LessThanThreshold or LessThanOrEqualToThreshold.")],
    statistic: Annotated[str | None, Opt(help="SampleCount, Average, Sum, Minimum or Maximum.")] = None,
    extended_statistic: Annotated[str | None, Opt(help="A percentile such as p99.")] = None,
    dimensions: Dimensions = None,
    datapoints_to_alarm: Annotated[int | None, Opt(help="M: how many of the N must breach (default N).")] = None,
    treat_missing_data: Annotated[str, Opt(help="missing, notBreaching, breaching or ignore.")] = "missing",
    alarm_actions: Actions = None,
    ok_actions: Actions = None,
    insufficient_data_actions: Actions = None,
    actions_enabled: Annotated[bool, Opt("--actions-enabled/--no-actions-enabled")] = True,
    alarm_description: Annotated[str | None, Opt(help="Free text.")] = None,
    unit: Annotated[str | None, Opt(help="Only data published with this unit.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create or update an alarm (PutMetricAlarm)."""
    alarm = platform().metrics.put_metric_alarm(
        alarm_name=alarm_name, metric_name=metric_name, namespace=namespace, period=period,
        evaluation_periods=evaluation_periods, threshold=threshold, comparison_operator=comparison_operator,
        statistic=statistic, extended_statistic=extended_statistic, dimensions=_dimensions(dimensions),
        datapoints_to_alarm=datapoints_to_alarm, treat_missing_data=treat_missing_data,
        alarm_actions=_split(alarm_actions), ok_actions=_split(ok_actions),
        insufficient_data_actions=_split(insufficient_data_actions), actions_enabled=actions_enabled,
        alarm_description=alarm_description, unit=unit,
    )
    output(alarm, as_json=as_json)


@alarms_app.command("describe-alarms")
@command
def describe_alarms(
    alarm_names: Annotated[list[str] | None, Opt(help="Only these alarms; repeat or comma-separate.")] = None,
    alarm_name_prefix: Annotated[str | None, Opt(help="Only alarms whose names start so.")] = None,
    state_value: Annotated[str | None, Opt(help="OK, ALARM or INSUFFICIENT_DATA.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Alarms and their states (DescribeAlarms)."""
    found = platform().metrics.describe_alarms(
        alarm_names=_split(alarm_names) or None, alarm_name_prefix=alarm_name_prefix, state_value=state_value
    )
    if as_json:
        output({"MetricAlarms": found}, as_json=True)
    else:
        columns = ["AlarmName", "StateValue", "Namespace", "MetricName", "ComparisonOperator", "Threshold"]
        output(found, as_json=False, columns=columns)


@alarms_app.command("delete-alarms")
@command
def delete_alarms(alarm_names: Names, as_json: JsonOption = False) -> None:
    """Delete alarms (DeleteAlarms); nothing is deleted if any name is unknown."""
    platform().metrics.delete_alarms(alarm_names=alarm_names)
    if as_json:
        output({}, as_json=True)


@alarms_app.command("set-alarm-state")
@command
def set_alarm_state(
    alarm_name: Annotated[str, Opt(help="The alarm.")],
    state_value: Annotated[str, Opt(help="OK, ALARM or INSUFFICIENT_DATA.")],
    state_reason: Annotated[str, Opt(help="Why (recorded in the history).")],
    as_json: JsonOption = False,
) -> None:
    """Set an alarm's state until its next evaluation (SetAlarmState)."""
    platform().metrics.set_alarm_state(alarm_name=alarm_name, state_value=state_value, state_reason=state_reason)
    if as_json:
        output({}, as_json=True)


@alarms_app.command("describe-alarm-history")
@command
def describe_alarm_history(
    alarm_name: Annotated[str | None, Opt(help="Only this alarm.")] = None,
    history_item_type: Annotated[str | None, Opt(help="ConfigurationUpdate, StateUpdate or Action.")] = None,
    start_date: Annotated[str | None, Opt(help="ISO 8601 time or epoch seconds.")] = None,
    end_date: Annotated[str | None, Opt(help="ISO 8601 time or epoch seconds.")] = None,
    max_records: Annotated[int, Opt(help="At most this many items (1-100).")] = 100,
    as_json: JsonOption = False,
) -> None:
    """An alarm's history, newest first (DescribeAlarmHistory)."""
    items = platform().metrics.describe_alarm_history(
        alarm_name=alarm_name, history_item_type=history_item_type, start_date=start_date, end_date=end_date,
        max_records=max_records,
    )
    if as_json:
        output({"AlarmHistoryItems": items}, as_json=True)
    else:
        output(items, as_json=False, columns=["Timestamp", "AlarmName", "HistoryItemType", "HistorySummary"])


@alarms_app.command("enable-alarm-actions")
@command
def enable_alarm_actions(alarm_names: Names, as_json: JsonOption = False) -> None:
    """Run these alarms' actions on state changes again (EnableAlarmActions)."""
    platform().metrics.enable_alarm_actions(alarm_names=alarm_names)
    if as_json:
        output({}, as_json=True)


@alarms_app.command("disable-alarm-actions")
@command
def disable_alarm_actions(alarm_names: Names, as_json: JsonOption = False) -> None:
    """Keep evaluating these alarms but run no actions (DisableAlarmActions)."""
    platform().metrics.disable_alarm_actions(alarm_names=alarm_names)
    if as_json:
        output({}, as_json=True)
