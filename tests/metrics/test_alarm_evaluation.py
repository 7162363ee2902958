"""Alarm evaluation replays the two tables of CloudWatch's "How alarm state is evaluated
when data is missing": 3 evaluation periods, 5 datapoints retrieved, oldest first;
``0`` does not breach, ``X`` breaches, ``-`` is missing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from metrics_helpers import T0

from groundfog.metrics.evaluation import Point, decide

RETAIN = "retain"
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")
# (datapoints, DatapointsToAlarm, states under missing / ignore / breaching / notBreaching)
DOCS_TABLES = [
    # first table: 3 out of 3
    ("0 - X - X", 3, ("OK", "OK", "OK", "OK")),
    ("0 - - - -", 3, ("OK", "OK", "OK", "OK")),
    ("- - - - -", 3, ("INSUFFICIENT_DATA", RETAIN, "ALARM", "OK")),
    ("0 X X - X", 3, ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("- - - - X", 3, ("INSUFFICIENT_DATA", RETAIN, "ALARM", "OK")),
    ("X - - - -", 3, ("ALARM", RETAIN, "ALARM", "OK")),
    # second table: 2 out of 3
    ("0 - X - X", 2, ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("0 0 X 0 X", 2, ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("0 - X - -", 2, ("OK", "OK", "ALARM", "OK")),
    ("- - - - 0", 2, ("OK", "OK", "ALARM", "OK")),
    ("- - - - X", 2, ("INSUFFICIENT_DATA", RETAIN, "ALARM", "OK")),
]
VALUES = {"0": 1.0, "X": 5.0, "-": None}
THRESHOLD = 4.0
ROW_IDS = [f"{row}|M={m}" for row, m, _ in DOCS_TABLES]


@pytest.mark.parametrize(("row", "m", "states"), DOCS_TABLES, ids=ROW_IDS)
@pytest.mark.parametrize("current", ["OK", "ALARM", "INSUFFICIENT_DATA"])
def test_decision_follows_the_documented_table(row, m, states, current):
    points = [Point(i * 60.0, VALUES[c]) for i, c in enumerate(row.split())]
    for treatment, expected in zip(TREATMENTS, states):
        decision = decide(points, m=m, n=3, threshold=THRESHOLD, operator="GreaterThanOrEqualToThreshold",
                          treat_missing_data=treatment, current_state=current)
        assert (decision.state or RETAIN) == expected, treatment


def test_alarms_follow_the_documented_table(metrics, clock):
    clock.advance(10 * 60 + 30)  # now is 00:10:30; the newest period is 00:10-00:11
    newest = T0 + timedelta(minutes=10)
    for i, (row, m, _) in enumerate(DOCS_TABLES):  # each row on its own metric
        data = [
            {"MetricName": f"Errors{i}", "Value": VALUES[c], "Timestamp": newest - timedelta(minutes=4 - slot, seconds=-1)}
            for slot, c in enumerate(row.split()) if VALUES[c] is not None
        ]
        if data:
            metrics.put_metric_data("App", data)
        for treatment in TREATMENTS:
            # ignore may keep the state: start it from OK and from ALARM so that shows
            for before in ("OK", "ALARM") if treatment == "ignore" else ("INSUFFICIENT_DATA",):
                name = f"{i}-{treatment}-{before}"
                metrics.put_metric_alarm(name, f"Errors{i}", "App", statistic="Maximum", period=60,
                                         evaluation_periods=3, datapoints_to_alarm=m, threshold=THRESHOLD,
                                         comparison_operator="GreaterThanOrEqualToThreshold",
                                         treat_missing_data=treatment)
                if before != "INSUFFICIENT_DATA":
                    metrics.set_alarm_state(name, before, "test setup")

    metrics.evaluate_alarms()

    states_now = {a.alarm_name: a.state_value for a in metrics.describe_alarms()}
    for i, (row, m, states) in enumerate(DOCS_TABLES):
        for treatment, expected in zip(TREATMENTS, states):
            for before in ("OK", "ALARM") if treatment == "ignore" else ("INSUFFICIENT_DATA",):
                want = before if expected == RETAIN else expected
                assert states_now[f"{i}-{treatment}-{before}"] == want, (row, m, treatment, before)
