"""Alarm definitions, actions, manual state, history and the background evaluator."""

from __future__ import annotations

import threading

import pytest
from metrics_helpers import T0

from groundfog.core.errors import ResourceNotFound, ValidationError
from groundfog.core.service import operations_of
from groundfog.metrics import MetricsService


def latency_alarm(metrics, name="slow", **changes):
    config = dict(statistic="Maximum", period=60, evaluation_periods=1, threshold=4.0,
                  comparison_operator="GreaterThanOrEqualToThreshold")
    return metrics.put_metric_alarm(name, "Latency", "App", **{**config, **changes})


def put(metrics, *values, dims=None):
    entry = {"Dimensions": dims} if dims else {}
    metrics.put_metric_data("App", [{"MetricName": "Latency", "Value": v, **entry} for v in values])


def test_every_cloudwatch_operation_is_exposed():
    assert set(operations_of(MetricsService.__new__(MetricsService))) >= {
        "PutMetricData", "GetMetricStatistics", "ListMetrics", "PutMetricAlarm", "DescribeAlarms", "DeleteAlarms",
        "SetAlarmState", "DescribeAlarmHistory", "EnableAlarmActions", "DisableAlarmActions", "EvaluateAlarms",
    }


def test_a_new_alarm_starts_with_insufficient_data(metrics, bus):
    alarm = latency_alarm(metrics, alarm_actions=[bus.topic("ops")], alarm_description="p99 too high")

    assert alarm.state_value == "INSUFFICIENT_DATA"
    assert alarm.alarm_arn == "arn:groundfog:metrics:local:000000000000:alarm/slow"
    assert alarm.alarm_actions == [bus.topic("ops")]
    assert alarm.state_updated_timestamp == T0
    assert metrics.describe_alarms() == [alarm]
    assert alarm.model_dump(by_alias=True)["OKActions"] == []


def test_putting_an_existing_alarm_replaces_its_configuration_but_keeps_its_state(metrics):
    latency_alarm(metrics)
    metrics.set_alarm_state("slow", "ALARM", "testing")

    updated = latency_alarm(metrics, threshold=9.0, evaluation_periods=5)

    assert (updated.threshold, updated.evaluation_periods, updated.state_value) == (9.0, 5, "ALARM")
    assert [h.history_summary for h in metrics.describe_alarm_history("slow", history_item_type="ConfigurationUpdate")] == [
        'Alarm "slow" updated', 'Alarm "slow" created',
    ]


def test_an_unknown_action_is_rejected_by_name_and_nothing_is_created(metrics, bus):
    known = bus.topic("ops")
    unknown = "arn:groundfog:events:local:000000000000:topic/nope"

    with pytest.raises(ValidationError) as caught:
        latency_alarm(metrics, alarm_actions=[known, unknown])

    assert caught.value.field == "AlarmActions[1]"
    assert unknown in str(caught.value)
    assert metrics.describe_alarms() == []


BAD_DEFINITIONS = [
    ({"period": 45}, "Period"),
    ({"extended_statistic": "p99"}, "Statistic"),
    ({"statistic": None}, "Statistic"),
    ({"statistic": None, "extended_statistic": "p200"}, "ExtendedStatistic"),
    ({"statistic": "Median"}, "Statistic"),
    ({"datapoints_to_alarm": 2}, "DatapointsToAlarm"),
    ({"evaluation_periods": 0}, "EvaluationPeriods"),
    ({"evaluation_periods": 1441}, "EvaluationPeriods"),
    ({"comparison_operator": "GreaterThan"}, "ComparisonOperator"),
    ({"treat_missing_data": "zero"}, "TreatMissingData"),
    ({"threshold": float("nan")}, "Threshold"),
    ({"dimensions": [{"Name": "Host"}]}, "Dimensions[0].Value"),
    ({"unit": "Parsecs"}, "Unit"),
    ({"alarm_actions": ["arn:x"] * 6}, "AlarmActions"),
]


def test_alarm_definitions_are_validated(metrics):
    for changes, field in BAD_DEFINITIONS:
        with pytest.raises(ValidationError) as caught:
            latency_alarm(metrics, **changes)
        assert caught.value.field == field, changes
    assert metrics.describe_alarms() == []


def test_actions_are_sent_on_state_changes_only(metrics, clock, bus):
    on_alarm, on_ok = bus.topic("pager"), bus.topic("chat")
    host = [{"Name": "Host", "Value": "a"}]
    latency_alarm(metrics, alarm_actions=[on_alarm], ok_actions=[on_ok], dimensions=host, evaluation_periods=3,
                  datapoints_to_alarm=2)

    for value in (1.0, 5.0, 6.0):  # OK at once; ALARM when 2 of the last 3 minutes breach
        put(metrics, value, dims=host)
        clock.advance(60)
    put(metrics, 7.0, dims=host)
    metrics.evaluate_alarms()
    metrics.evaluate_alarms()

    assert [m["NewStateValue"] for m in bus.to(on_ok)] == ["OK"]
    (message,) = bus.to(on_alarm)
    assert message["AlarmName"] == "slow"
    assert (message["OldStateValue"], message["NewStateValue"]) == ("OK", "ALARM")
    assert message["NewStateReason"] == (
        "Threshold Crossed: 2 out of the last 3 datapoints [6.0 (01/01/26 00:02:00), 5.0 (01/01/26 00:01:00)] were "
        "greater than or equal to the threshold (4.0) (minimum 2 datapoints for OK -> ALARM transition)."
    )
    assert message["StateChangeTime"] == "2026-01-01T00:02:00.000+0000"
    assert message["Trigger"] == {
        "MetricName": "Latency", "Namespace": "App", "StatisticType": "Statistic", "Statistic": "MAXIMUM",
        "Unit": None, "Dimensions": [{"value": "a", "name": "Host"}], "Period": 60, "EvaluationPeriods": 3,
        "DatapointsToAlarm": 2, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "Threshold": 4.0,
        "TreatMissingData": "missing", "EvaluateLowSampleCountPercentile": "",
    }


def test_with_missing_data_a_lone_breach_is_not_enough_to_alarm(metrics, clock, bus):
    topic = bus.topic("pager")
    latency_alarm(metrics, alarm_actions=[topic], evaluation_periods=3, datapoints_to_alarm=2)
    put(metrics, 5.0)  # 1 breaching datapoint, 2 unknown: cannot tell yet
    assert metrics.describe_alarms()[0].state_value == "INSUFFICIENT_DATA"
    clock.advance(60)
    put(metrics, 1.0)  # 1 of 2 real datapoints is fine: OK
    assert metrics.describe_alarms()[0].state_value == "OK"
    clock.advance(60)
    put(metrics, 6.0)

    (message,) = bus.to(topic)
    assert message["NewStateReason"] == (
        "Threshold Crossed: 2 out of the last 3 datapoints [6.0 (01/01/26 00:02:00), 5.0 (01/01/26 00:00:00)] were "
        "greater than or equal to the threshold (4.0) (minimum 2 datapoints for OK -> ALARM transition)."
    )


def test_put_metric_data_evaluates_only_the_alarms_watching_that_metric(metrics):
    latency_alarm(metrics, "on-latency")
    metrics.put_metric_alarm("on-errors", "Errors", "App", statistic="Sum", period=60, evaluation_periods=1,
                             threshold=1.0, comparison_operator="GreaterThanThreshold",
                             treat_missing_data="breaching")

    put(metrics, 9.0)

    assert {a.alarm_name: a.state_value for a in metrics.describe_alarms()} == {
        "on-errors": "INSUFFICIENT_DATA",  # would be ALARM (missing = breaching) once evaluated
        "on-latency": "ALARM",
    }


def test_disabled_actions_are_not_sent_but_state_still_changes(metrics, bus):
    topic = bus.topic("pager")
    latency_alarm(metrics, alarm_actions=[topic], ok_actions=[topic])
    metrics.disable_alarm_actions(["slow"])

    put(metrics, 9.0)
    assert metrics.describe_alarms()[0].state_value == "ALARM"
    assert bus.sent == []

    metrics.enable_alarm_actions(["slow"])
    metrics.set_alarm_state("slow", "OK", "all clear")
    assert [m["NewStateValue"] for m in bus.to(topic)] == ["OK"]


def test_set_alarm_state_lasts_until_the_next_evaluation(metrics, bus):
    pager, chat = bus.topic("pager"), bus.topic("chat")
    latency_alarm(metrics, alarm_actions=[pager], ok_actions=[chat])
    put(metrics, 1.0)  # OK

    metrics.set_alarm_state("slow", "ALARM", "testing the pager")
    alarm = metrics.describe_alarms()[0]
    assert (alarm.state_value, alarm.state_reason) == ("ALARM", "testing the pager")
    assert bus.to(pager)[0]["NewStateReason"] == "testing the pager"

    (change,) = metrics.evaluate_alarms()
    assert (change.old_state_value, change.new_state_value) == ("ALARM", "OK")
    assert [m["NewStateValue"] for m in bus.to(chat)] == ["OK", "OK"]


def test_set_alarm_state_checks_its_input(metrics):
    latency_alarm(metrics)
    with pytest.raises(ValidationError) as caught:
        metrics.set_alarm_state("slow", "RED", "nope")
    assert caught.value.field == "StateValue"
    with pytest.raises(ResourceNotFound):
        metrics.set_alarm_state("missing", "OK", "nope")


def test_history_records_configuration_state_changes_and_actions_newest_first(metrics, clock, bus):
    topic = bus.topic("pager")
    latency_alarm(metrics, alarm_actions=[topic])
    clock.advance(30)
    put(metrics, 9.0)

    items = metrics.describe_alarm_history("slow")

    assert [(i.history_item_type, i.history_summary) for i in items] == [
        ("Action", f"Successfully executed action {topic}"),
        ("StateUpdate", "Alarm updated from INSUFFICIENT_DATA to ALARM"),
        ("ConfigurationUpdate", 'Alarm "slow" created'),
    ]
    state = items[1].history_data
    assert state["oldState"] == {"stateValue": "INSUFFICIENT_DATA", "stateReason": "Unchecked: Initial alarm creation"}
    assert state["newState"]["stateValue"] == "ALARM"
    assert state["newState"]["stateReasonData"]["evaluatedDatapoints"][0]["value"] == 9.0
    assert [i.history_item_type for i in metrics.describe_alarm_history("slow", history_item_type="StateUpdate")] == [
        "StateUpdate"
    ]
    assert len(metrics.describe_alarm_history("slow", start_date=T0.isoformat(), end_date=T0.isoformat())) == 1


def test_a_failing_action_is_recorded_and_does_not_undo_the_change(metrics, bus):
    good, broken = bus.topic("pager"), bus.topic("flaky")
    latency_alarm(metrics, alarm_actions=[broken, good])
    bus.broken.add(broken)

    put(metrics, 9.0)

    assert metrics.describe_alarms()[0].state_value == "ALARM"
    assert len(bus.to(good)) == 1
    summaries = [i.history_summary for i in metrics.describe_alarm_history("slow", history_item_type="Action")]
    assert f"Failed to execute action {broken}. Received error: topic {broken} is unavailable" in summaries


def test_describe_alarms_filters_by_names_prefix_and_state(metrics):
    for name in ("api-latency", "api-errors", "batch-latency"):
        latency_alarm(metrics, name)
    metrics.set_alarm_state("api-errors", "ALARM", "test")

    def names(**filters):
        return [a.alarm_name for a in metrics.describe_alarms(**filters)]

    assert names() == ["api-errors", "api-latency", "batch-latency"]
    assert names(alarm_names=["batch-latency", "nope"]) == ["batch-latency"]
    assert names(alarm_name_prefix="api-") == ["api-errors", "api-latency"]
    assert names(state_value="ALARM") == ["api-errors"]
    assert names(alarm_name_prefix="api-", state_value="INSUFFICIENT_DATA") == ["api-latency"]
    with pytest.raises(ValidationError):
        metrics.describe_alarms(state_value="RED")


def test_deleting_an_unknown_alarm_deletes_nothing(metrics):
    latency_alarm(metrics, "a")
    latency_alarm(metrics, "b")

    with pytest.raises(ResourceNotFound, match="'c'"):
        metrics.delete_alarms(["a", "c"])
    assert [a.alarm_name for a in metrics.describe_alarms()] == ["a", "b"]

    metrics.delete_alarms(["a"])
    assert [a.alarm_name for a in metrics.describe_alarms()] == ["b"]
    assert metrics.describe_alarm_history("a")[0].history_summary == 'Alarm "a" deleted'


def test_alarm_name_lists_and_prefixes_are_bounded(metrics):
    # Found by tests/api/test_api_fuzz.py: a list longer than the store's bind-parameter
    # limit, or a prefix longer than its LIKE-pattern limit, was a 500.
    latency_alarm(metrics, "a")
    for operation in (metrics.delete_alarms, metrics.enable_alarm_actions, metrics.disable_alarm_actions,
                      lambda names: metrics.describe_alarms(alarm_names=names),
                      lambda names: metrics.evaluate_alarms(alarm_names=names)):
        with pytest.raises(ValidationError, match="at most 100 alarm names") as raised:
            operation(["a"] * 101)
        assert raised.value.field == "AlarmNames"
    with pytest.raises(ValidationError, match="at most 255") as raised:
        metrics.describe_alarms(alarm_name_prefix="a" * 70_000)
    assert raised.value.field == "AlarmNamePrefix"
    for bad_time in (1e300, 10**400, "9999-99-99"):
        with pytest.raises(ValidationError) as raised:
            metrics.describe_alarm_history(start_date=bad_time)
        assert raised.value.field == "StartDate"
    assert [a.alarm_name for a in metrics.describe_alarms()] == ["a"]


def test_state_listeners_hear_every_change_even_when_one_fails(metrics):
    heard = []

    def broken(change):
        raise RuntimeError("listener bug")

    metrics.add_state_listener(broken)
    metrics.add_state_listener(heard.append)
    latency_alarm(metrics)

    put(metrics, 9.0)
    metrics.set_alarm_state("slow", "OK", "manual")

    assert [(c.alarm_name, c.old_state_value, c.new_state_value) for c in heard] == [
        ("slow", "INSUFFICIENT_DATA", "ALARM"),
        ("slow", "ALARM", "OK"),
    ]
    assert heard[0].alarm.state_value == "ALARM"
    metrics.remove_state_listener(heard.append)


def test_two_evaluators_on_one_store_announce_a_transition_once(metrics, store, clock, bus, tmp_path):
    topic = bus.topic("pager")
    other = MetricsService(config=metrics.config, state=store, clock=clock, bus=bus)
    latency_alarm(metrics, alarm_actions=[topic])
    put(metrics, 9.0)  # evaluated (and announced) by the first service

    assert other.evaluate_alarms() == [] and metrics.evaluate_alarms() == []
    assert len(bus.to(topic)) == 1


def test_the_background_loop_evaluates_alarms_until_closed(metrics, clock):
    put(metrics, 9.0)
    latency_alarm(metrics)  # created after the data, so not yet evaluated
    changed = threading.Event()
    metrics.add_state_listener(lambda change: changed.set())
    metrics._poll_seconds = 0.01

    metrics.start_background()
    try:
        assert changed.wait(timeout=10)
        assert metrics.describe_alarms()[0].state_value == "ALARM"
        changed.clear()
        clock.advance(10 * 60)  # every datapoint ages out of the range: INSUFFICIENT_DATA
        assert changed.wait(timeout=10)
    finally:
        metrics.close()
    assert metrics._thread is None
    assert metrics.describe_alarms()[0].state_value == "INSUFFICIENT_DATA"
