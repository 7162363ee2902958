"""Endpoint metrics published into the real metrics service and read back as a user
would: statistics, and an alarm on the 5XX errors."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from groundfog import Platform
from groundfog.serving.invocation_metrics import InvocationMetrics

NS = "AWS/SageMaker"


@pytest.fixture
def gf(tmp_path: Path) -> Iterator[Platform]:
    p = Platform(home=tmp_path)
    yield p
    p.close()


def dims(endpoint: str, variant: str) -> list[dict[str, str]]:
    return [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]


def stats(gf: Platform, metric: str, variant: str = "A", endpoint: str = "churn"):
    """The one datapoint of ``metric`` over the last half hour and the next."""
    now = time.time()
    result = gf.metrics.get_metric_statistics(
        NS, metric, dims(endpoint, variant), start_time=now - 1800, end_time=now + 1800, period=3600,
        statistics=["Sum", "SampleCount", "Average", "Minimum", "Maximum"],
    )
    assert len(result.datapoints) <= 1
    return result.datapoints[0] if result.datapoints else None


def test_entries_have_cloudwatchs_shape() -> None:
    sent: list[dict] = []
    metrics = InvocationMetrics(sent.extend, now=lambda: 1_800_000_000.0)
    metrics.set_instances("churn", "A", 2)
    metrics.record("churn", "A", status=200, model_us=800.0, overhead_us=100.0)
    metrics.record("churn", "A", status=503, model_us=None, overhead_us=300.0)
    metrics.record_setup("churn", "A", 1.5)
    metrics.flush()
    by_name = {d["MetricName"]: d for d in sent}
    assert list(by_name) == ["Invocations", "Invocation4XXErrors", "Invocation5XXErrors", "InvocationsPerInstance",
                             "OverheadLatency", "ModelLatency", "ModelSetupTime"]  # fmt: skip
    for d in sent:
        assert d["Dimensions"] == dims("churn", "A")
        assert d["Timestamp"] == 1_800_000_000.0 and d["StorageResolution"] == 1
    assert by_name["Invocations"]["Value"] == 2 and by_name["Invocations"]["Unit"] == "Count"
    assert (by_name["Invocation4XXErrors"]["Value"], by_name["Invocation5XXErrors"]["Value"]) == (0, 1)
    assert by_name["InvocationsPerInstance"]["Value"] == 1.0
    assert by_name["ModelLatency"]["StatisticValues"] == {"SampleCount": 1, "Sum": 800, "Minimum": 800, "Maximum": 800}
    assert by_name["OverheadLatency"]["StatisticValues"] == {"SampleCount": 2, "Sum": 400, "Minimum": 100,
                                                             "Maximum": 300}  # fmt: skip
    assert by_name["ModelSetupTime"] == {**by_name["ModelSetupTime"], "Unit": "Microseconds", "Value": 1_500_000}
    sent.clear()
    metrics.flush()
    assert sent == []  # no activity, nothing to say


def test_counts_and_latencies_from_many_threads_add_up(gf: Platform) -> None:
    metrics = InvocationMetrics(lambda data: gf.metrics.put_service_metric_data(NS, data))
    metrics.set_instances("churn", "A", 4)
    statuses = [200, 200, 200, 404, 500, 503]

    def call(t: int) -> None:
        for i in range(600):
            status = statuses[i % len(statuses)]
            model_us = None if status == 503 else float(100 + i % 10)
            metrics.record("churn", "A", status=status, model_us=model_us, overhead_us=50.0 + t)
            metrics.record("churn", "B", status=200, model_us=1000.0, overhead_us=10.0)
            if i == 300 and t == 0:
                metrics.flush()  # a flush in the middle: its counts must add up with the rest

    threads = [threading.Thread(target=call, args=(t,)) for t in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    metrics.flush()

    assert stats(gf, "Invocations").sum == 3600
    assert stats(gf, "Invocation4XXErrors").sum == 600
    assert stats(gf, "Invocation5XXErrors").sum == 1200
    assert stats(gf, "InvocationsPerInstance").sum == 900
    model = stats(gf, "ModelLatency")
    assert model.sample_count == 3000  # the 503s had no model time
    timed = [100 + i % 10 for i in range(600) if statuses[i % len(statuses)] != 503]
    assert model.average == pytest.approx(sum(timed) / len(timed)) and (model.minimum, model.maximum) == (100, 109)
    assert model.unit == "Microseconds"
    overhead = stats(gf, "OverheadLatency")
    assert overhead.sample_count == 3600 and overhead.average == pytest.approx(52.5)
    assert (overhead.minimum, overhead.maximum) == (50, 55)
    assert stats(gf, "Invocations", "B").sum == 3600
    b_errors = stats(gf, "Invocation5XXErrors", "B")
    assert b_errors is not None and b_errors.sum == 0  # published as 0, not missing


def test_a_failed_put_loses_no_counts(gf: Platform, caplog) -> None:
    failing = [True]

    def put(data: list[dict]) -> None:
        if failing[0]:
            raise ConnectionError("metrics store unreachable")
        gf.metrics.put_service_metric_data(NS, data)

    metrics = InvocationMetrics(put)
    for _ in range(5):
        metrics.record("churn", "A", status=200, model_us=10.0, overhead_us=1.0)
    metrics.flush()
    assert "not published" in caplog.text
    assert stats(gf, "Invocations") is None
    failing[0] = False
    for _ in range(3):
        metrics.record("churn", "A", status=400, model_us=30.0, overhead_us=1.0)
    metrics.flush()
    assert stats(gf, "Invocations").sum == 8
    assert stats(gf, "Invocation4XXErrors").sum == 3
    model = stats(gf, "ModelLatency")
    assert (model.sample_count, model.sum, model.maximum) == (8, 140, 30)


def test_model_setup_time_is_published_in_microseconds(gf: Platform) -> None:
    metrics = InvocationMetrics(lambda data: gf.metrics.put_service_metric_data(NS, data))
    metrics.record_setup("churn", "A", 2.5)
    metrics.record_setup("churn", "A", 0.5)
    metrics.flush()
    setup = stats(gf, "ModelSetupTime")
    assert (setup.sample_count, setup.maximum, setup.minimum) == (2, 2_500_000, 500_000)
    assert stats(gf, "Invocations") is None  # a setup alone is no invocation


def test_alarm_on_5xx_errors_fires_after_a_flush_with_5xx(gf: Platform) -> None:
    alarm = gf.metrics.put_metric_alarm(
        "churn-5xx", "Invocation5XXErrors", NS, dimensions=dims("churn", "A"), statistic="Sum", period=10,
        evaluation_periods=1, threshold=0.0, comparison_operator="GreaterThanThreshold",
    )
    assert alarm.state_value == "INSUFFICIENT_DATA"
    metrics = InvocationMetrics(lambda data: gf.metrics.put_service_metric_data(NS, data), flush_seconds=0.05)
    metrics.start()
    metrics.record("churn", "A", status=200, model_us=5.0, overhead_us=1.0)
    metrics.flush()
    assert gf.metrics.describe_alarms(["churn-5xx"])[0].state_value == "OK"  # a 0 was published
    metrics.record("churn", "A", status=502, model_us=None, overhead_us=1.0)
    deadline = time.monotonic() + 5
    while gf.metrics.describe_alarms(["churn-5xx"])[0].state_value != "ALARM" and time.monotonic() < deadline:
        time.sleep(0.02)
    metrics.close()
    assert gf.metrics.describe_alarms(["churn-5xx"])[0].state_value == "ALARM"
