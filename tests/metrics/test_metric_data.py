"""Publishing datapoints and reading their statistics, as CloudWatch does."""

from __future__ import annotations

import math
import random
import statistics
from datetime import timedelta

import pytest
from metrics_helpers import T0, T0_TS

from groundfog.core.errors import ValidationError

HOUR = {"start_time": T0 - timedelta(hours=1), "end_time": T0 + timedelta(hours=1)}
ALL = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"]


def nearest_rank(values: list[float], p: float) -> float:
    """The textbook nearest-rank percentile, written independently of the service."""
    ordered = sorted(values)
    if p == 0:
        return ordered[0]
    rank = math.ceil(round(p * len(ordered) / 100, 9))
    return ordered[rank - 1]


def test_statistics_per_period_match_an_independent_computation(metrics, clock):
    rng = random.Random(20260101)
    expected: dict[int, list[float]] = {}
    entries = []
    for minute in range(6):
        for _ in range(rng.randint(1, 40)):
            value = round(rng.uniform(0, 500), 3)
            expected.setdefault(minute, []).append(value)
            entries.append({"MetricName": "Latency", "Value": value, "Unit": "Milliseconds",
                            "Timestamp": T0_TS + minute * 60 + rng.uniform(0, 59.9)})
    # a Values/Counts entry weighs each value by its count
    entries.append({"MetricName": "Latency", "Values": [7.0, 900.0], "Counts": [3, 2], "Unit": "Milliseconds",
                    "Timestamp": T0_TS + 2 * 60 + 5})
    expected[2] += [7.0, 7.0, 7.0, 900.0, 900.0]
    rng.shuffle(entries)
    metrics.put_metric_data("App", entries)

    percentiles = ["p0", "p10", "p50", "p90", "p99", "p99.9", "p100"]
    result = metrics.get_metric_statistics(
        "App", "Latency", start_time=T0 + timedelta(seconds=30), end_time=T0 + timedelta(minutes=6), period=60,
        statistics=ALL, extended_statistics=percentiles,
    )

    assert result.label == "Latency"
    # StartTime 00:00:30 rounds down to 00:00:00, so every minute is a whole period
    assert [d.timestamp for d in result.datapoints] == [T0 + timedelta(minutes=m) for m in range(6)]
    for point in result.datapoints:
        values = expected[int((point.timestamp - T0).total_seconds() // 60)]
        assert point.sample_count == len(values)
        assert point.sum == pytest.approx(math.fsum(values))
        assert point.average == pytest.approx(statistics.fmean(values))
        assert point.minimum == min(values)
        assert point.maximum == max(values)
        assert point.unit == "Milliseconds"
        assert point.extended_statistics == {p: nearest_rank(values, float(p[1:])) for p in percentiles}


def test_longer_periods_pool_the_datapoints_they_cover(metrics):
    values = [float(v) for v in range(1, 13)]  # one a minute for 12 minutes
    metrics.put_metric_data("App", [{"MetricName": "Jobs", "Value": v, "Timestamp": T0_TS + i * 60}
                                    for i, v in enumerate(values)])

    result = metrics.get_metric_statistics("App", "Jobs", **HOUR, period=300, statistics=["Sum", "SampleCount"])

    assert [(d.timestamp, d.sum, d.sample_count) for d in result.datapoints] == [
        (T0, sum(values[0:5]), 5),
        (T0 + timedelta(minutes=5), sum(values[5:10]), 5),
        (T0 + timedelta(minutes=10), sum(values[10:12]), 2),
    ]


def test_periods_start_at_the_start_time_rounded_down_to_the_minute(metrics):
    metrics.put_metric_data("App", [
        {"MetricName": "Jobs", "Value": 1.0, "Timestamp": T0_TS + 30},   # before 00:01, excluded
        {"MetricName": "Jobs", "Value": 2.0, "Timestamp": T0_TS + 60},   # first period
        {"MetricName": "Jobs", "Value": 4.0, "Timestamp": T0_TS + 359},  # first period (00:01-00:06)
        {"MetricName": "Jobs", "Value": 8.0, "Timestamp": T0_TS + 360},  # second period
    ])

    result = metrics.get_metric_statistics(
        "App", "Jobs", start_time=T0 + timedelta(seconds=90), end_time=T0 + timedelta(minutes=30), period=300,
        statistics=["Sum"],
    )

    assert [(d.timestamp, d.sum) for d in result.datapoints] == [
        (T0 + timedelta(minutes=1), 6.0),
        (T0 + timedelta(minutes=6), 8.0),
    ]


def test_end_time_is_exclusive_and_only_asked_statistics_are_returned(metrics):
    metrics.put_metric_data("App", [{"MetricName": "Jobs", "Value": 1.0, "Timestamp": T0_TS},
                                    {"MetricName": "Jobs", "Value": 5.0, "Timestamp": T0_TS + 60}])

    result = metrics.get_metric_statistics("App", "Jobs", start_time=T0, end_time=T0 + timedelta(minutes=1),
                                           period=60, statistics=["Maximum"])

    assert [d.model_dump(by_alias=True) for d in result.datapoints] == [
        {"Timestamp": T0, "Maximum": 1.0, "Unit": "None"}
    ]


def test_statistic_sets_give_every_statistic_but_percentiles(metrics):
    metrics.put_metric_data("App", [
        {"MetricName": "Size", "Timestamp": T0_TS,
         "StatisticValues": {"SampleCount": 4, "Sum": 10.0, "Minimum": 1.0, "Maximum": 4.0}},
        # a set holding one distinct value can give percentiles, as CloudWatch documents
        {"MetricName": "Size", "Timestamp": T0_TS + 60,
         "StatisticValues": {"SampleCount": 3, "Sum": 6.0, "Minimum": 2.0, "Maximum": 2.0}},
    ])

    result = metrics.get_metric_statistics("App", "Size", **HOUR, period=60, statistics=ALL,
                                           extended_statistics=["p50"])

    first, second = result.datapoints
    assert (first.sample_count, first.sum, first.average, first.minimum, first.maximum) == (4, 10.0, 2.5, 1.0, 4.0)
    assert first.extended_statistics is None
    assert second.extended_statistics == {"p50": 2.0}


def test_periods_with_negative_values_have_no_percentiles(metrics):
    metrics.put_metric_data("App", [{"MetricName": "Delta", "Value": v, "Timestamp": T0_TS} for v in (-1.0, 3.0)])

    (point,) = metrics.get_metric_statistics("App", "Delta", **HOUR, period=60, statistics=["Sum"],
                                             extended_statistics=["p50"]).datapoints

    assert point.sum == 2.0 and point.extended_statistics is None


def test_statistics_are_for_the_exact_dimension_set_in_any_order(metrics):
    def put(value: float, **dims: str) -> None:
        metrics.put_metric_data("App", [{"MetricName": "Errors", "Value": value, "Timestamp": T0_TS,
                                         "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()]}])

    put(1.0)
    put(10.0, Host="a")
    put(100.0, Host="b")
    put(1000.0, Host="a", Disk="x")

    def total(dims: list[dict[str, str]] | None) -> list[float]:
        stats = metrics.get_metric_statistics("App", "Errors", dims, **HOUR, period=60, statistics=["Sum"])
        return [d.sum for d in stats.datapoints]

    assert total(None) == [1.0]
    assert total([{"Name": "Host", "Value": "a"}]) == [10.0]
    assert total([{"Name": "Host", "Value": "b"}]) == [100.0]
    assert total([{"Name": "Disk", "Value": "x"}, {"Name": "Host", "Value": "a"}]) == [1000.0]
    assert total([{"Name": "Host", "Value": "c"}]) == []
    assert metrics.get_metric_statistics("Other", "Errors", **HOUR, period=60, statistics=["Sum"]).datapoints == []


def test_each_unit_gets_its_own_datapoints_unless_one_is_asked_for(metrics):
    metrics.put_metric_data("App", [{"MetricName": "Load", "Value": 2.0, "Unit": "Count", "Timestamp": T0_TS},
                                    {"MetricName": "Load", "Value": 3.0, "Unit": "Seconds", "Timestamp": T0_TS}])

    both = metrics.get_metric_statistics("App", "Load", **HOUR, period=60, statistics=["Sum"])
    seconds = metrics.get_metric_statistics("App", "Load", **HOUR, period=60, statistics=["Sum"], unit="Seconds")

    assert sorted((d.unit, d.sum) for d in both.datapoints) == [("Count", 2.0), ("Seconds", 3.0)]
    assert [(d.unit, d.sum) for d in seconds.datapoints] == [("Seconds", 3.0)]


def test_timestamps_default_to_now_and_accept_iso_strings(metrics, clock):
    clock.advance(125)
    metrics.put_metric_data("App", [{"MetricName": "Hits", "Value": 1.0},
                                    {"MetricName": "Hits", "Value": 2.0, "Timestamp": "2026-01-01T00:00:10Z"}])

    stats = metrics.get_metric_statistics("App", "Hits", **HOUR, period=60, statistics=["Sum"])

    assert [(d.timestamp, d.sum) for d in stats.datapoints] == [(T0, 2.0), (T0 + timedelta(minutes=2), 1.0)]


def test_list_metrics_filters_by_namespace_name_and_dimensions(metrics):
    metrics.put_metric_data("App", [
        {"MetricName": "Errors", "Value": 1, "Dimensions": [{"Name": "Host", "Value": "a"}]},
        {"MetricName": "Errors", "Value": 1, "Dimensions": [{"Name": "Host", "Value": "b"}]},
        {"MetricName": "Latency", "Value": 1},
    ])
    metrics.put_metric_data("Batch", [{"MetricName": "Errors", "Value": 1}])

    def names(**filters) -> list[tuple]:
        return [(m.namespace, m.metric_name, [(d.name, d.value) for d in m.dimensions])
                for m in metrics.list_metrics(**filters)]

    assert names() == [("App", "Errors", [("Host", "a")]), ("App", "Errors", [("Host", "b")]),
                       ("App", "Latency", []), ("Batch", "Errors", [])]
    assert names(namespace="Batch") == [("Batch", "Errors", [])]
    assert names(metric_name="Latency") == [("App", "Latency", [])]
    assert names(dimensions=[{"Name": "Host"}]) == [("App", "Errors", [("Host", "a")]), ("App", "Errors", [("Host", "b")])]
    assert names(dimensions=[{"Name": "Host", "Value": "b"}]) == [("App", "Errors", [("Host", "b")])]


GOOD = {"MetricName": "Latency", "Value": 1.0}
BAD_ENTRIES = [
    ({"MetricName": "Latency", "Value": float("nan")}, "MetricData[1].Value", "not supported"),
    ({"MetricName": "Latency", "Value": float("inf")}, "MetricData[1].Value", "not supported"),
    ({"MetricName": "Latency", "Value": 2.0**361}, "MetricData[1].Value", "out of range"),
    ({"MetricName": "Latency", "Value": "fast"}, "MetricData[1].Value", "must be a number"),
    ({"Value": 1.0}, "MetricData[1].MetricName", "1-255 characters"),
    ({"Metricname": "Latency", "Value": 1.0}, "MetricData[1].Metricname", "unknown key"),
    ({"MetricName": "Latency"}, "MetricData[1]", "exactly one of Value, Values or StatisticValues"),
    ({"MetricName": "Latency", "Value": 1.0, "Values": [1.0]}, "MetricData[1]", "exactly one of"),
    ({"MetricName": "Latency", "Value": 1.0, "Unit": "Parsecs"}, "MetricData[1].Unit", "not a CloudWatch unit"),
    ({"MetricName": "Latency", "Value": 1.0, "StorageResolution": 30}, "MetricData[1].StorageResolution", "1 (high"),
    ({"MetricName": "Latency", "Value": 1.0, "Timestamp": T0_TS - 15 * 86400}, "MetricData[1].Timestamp", "two weeks"),
    ({"MetricName": "Latency", "Value": 1.0, "Timestamp": T0_TS + 3 * 3600}, "MetricData[1].Timestamp", "two hours"),
    ({"MetricName": "Latency", "Value": 1.0, "Timestamp": "yesterday"}, "MetricData[1].Timestamp", "ISO 8601"),
    # Found by tests/api/test_api_fuzz.py (these were 500s): numbers beyond any float,
    # times beyond any datetime.
    ({"MetricName": "Latency", "Value": 10**400}, "MetricData[1].Value", "out of range"),
    ({"MetricName": "Latency", "Values": [1.0], "Counts": [10**400]}, "MetricData[1].Counts[0]", "out of range"),
    ({"MetricName": "Latency", "Value": 1.0, "Timestamp": -1e308}, "MetricData[1].Timestamp", "out of range"),
    ({"MetricName": "Latency", "Value": 1.0, "Timestamp": 10**400}, "MetricData[1].Timestamp", "out of range"),
    ({"MetricName": "Latency", "Value": 1.0, "Timestamp": "nan"}, "MetricData[1].Timestamp", "out of range"),
    ({"MetricName": "Latency", "Values": [1.0, 2.0], "Counts": [1]}, "MetricData[1].Counts", "one count per value"),
    ({"MetricName": "Latency", "Values": [1.0, float("nan")]}, "MetricData[1].Values[1]", "not supported"),
    ({"MetricName": "Latency", "Values": [1.0] * 151}, "MetricData[1].Values", "at most 150"),
    ({"MetricName": "Latency", "StatisticValues": {"SampleCount": 2, "Minimum": 1, "Maximum": 2}},
     "MetricData[1].StatisticValues.Sum", "required"),
    ({"MetricName": "Latency", "StatisticValues": {"SampleCount": 2, "Sum": 3, "Minimum": 5, "Maximum": 2}},
     "MetricData[1].StatisticValues.Minimum", "greater than Maximum"),
    ({"MetricName": "Latency", "Value": 1.0, "Dimensions": [{"Name": f"d{i}", "Value": "v"} for i in range(31)]},
     "MetricData[1].Dimensions", "at most 30"),
    ({"MetricName": "Latency", "Value": 1.0, "Dimensions": [{"Name": "Host", "Value": "a"}, {"Name": "Host", "Value": "b"}]},
     "MetricData[1].Dimensions[1].Name", "given twice"),
    ({"MetricName": "Latency", "Value": 1.0, "Dimensions": [{"Name": "Host", "Value": ""}]},
     "MetricData[1].Dimensions[0].Value", "1-1024 characters"),
]


def test_a_bad_entry_is_named_by_index_and_field_and_nothing_is_stored(metrics):
    # One database per backend for all cases: each case must leave the store empty.
    for entry, field, message in BAD_ENTRIES:
        with pytest.raises(ValidationError) as caught:
            metrics.put_metric_data("App", [GOOD, entry, GOOD])
        assert caught.value.field == field, entry
        assert str(caught.value).startswith(field) and message in str(caught.value), str(caught.value)
        assert metrics.list_metrics() == [], entry


BAD_NAMESPACES = [("AWS/EC2", "reserved"), ("", "non-empty"), (":app", "may contain only"), ("App!", "may contain only"),
                  ("x" * 256, "at most 255")]


def test_namespaces_follow_cloudwatch_rules(metrics):
    for namespace, message in BAD_NAMESPACES:
        with pytest.raises(ValidationError, match=message) as caught:
            metrics.put_metric_data(namespace, [GOOD])
        assert caught.value.field == "Namespace"
    assert metrics.list_metrics() == []


def test_at_most_1000_entries_per_request(metrics):
    with pytest.raises(ValidationError, match="at most 1000") as caught:
        metrics.put_metric_data("App", [GOOD] * 1001)
    assert caught.value.field == "MetricData"
    metrics.put_metric_data("App", [GOOD] * 1000)
    assert len(metrics.list_metrics()) == 1


def test_groundfog_services_may_publish_under_aws_namespaces(metrics):
    metrics.put_service_metric_data("AWS/SageMaker", [{"MetricName": "Invocations", "Value": 1.0}])
    assert [m.namespace for m in metrics.list_metrics()] == ["AWS/SageMaker"]


BAD_REQUESTS = [
    ({"period": 7}, "Period", "1, 5, 10, 20, 30 or a multiple of 60"),
    ({"period": 90}, "Period", "multiple of 60"),
    ({"period": 1, "start_time": T0 - timedelta(hours=3)}, "Period", "at most 1440"),
    ({"start_time": T0 + timedelta(hours=2)}, "StartTime", "earlier than EndTime"),
    ({"statistics": ["Median"]}, "Statistics[0]", "not a statistic"),
    ({"statistics": None, "extended_statistics": ["p101"]}, "ExtendedStatistics[0]", "p0 to p100"),
    ({"statistics": None}, "Statistics", "at least one"),
    ({"unit": "Parsecs"}, "Unit", "not a CloudWatch unit"),
    ({"dimensions": [{"Name": "Host"}]}, "Dimensions[0].Value", "1-1024 characters"),
]


def test_statistics_requests_are_validated(metrics):
    for changes, field, message in BAD_REQUESTS:
        request = {"namespace": "App", "metric_name": "Latency", **HOUR, "period": 60, "statistics": ["Sum"], **changes}
        with pytest.raises(ValidationError, match=message) as caught:
            metrics.get_metric_statistics(**request)
        assert caught.value.field == field
