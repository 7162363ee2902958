"""``groundfog metrics`` and ``groundfog alarms`` on the embedded platform."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from groundfog.cli.main import app


def runner(tmp_path, monkeypatch, state_url=None):
    monkeypatch.setenv("GROUNDFOG_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GROUNDFOG_URL", raising=False)
    if state_url:
        monkeypatch.setenv("GROUNDFOG_STATE_URL", state_url)
    else:
        monkeypatch.delenv("GROUNDFOG_STATE_URL", raising=False)
    cli = CliRunner()
    return lambda *args: cli.invoke(app, list(args))


@pytest.fixture
def run(tmp_path, state_url, monkeypatch):
    """The CLI on each state backend."""
    return runner(tmp_path, monkeypatch, state_url)


@pytest.fixture
def run_embedded(tmp_path, monkeypatch):
    """The CLI on the embedded default (SQLite in GROUNDFOG_HOME)."""
    return runner(tmp_path, monkeypatch)


def test_put_metric_data_then_get_metric_statistics_as_json(run):
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    stamp = (now + timedelta(seconds=5)).isoformat()
    put = run("metrics", "put-metric-data", "--namespace", "App", "--metric-name", "Latency", "--value", "12.5",
              "--unit", "Milliseconds", "--dimensions", "Host=a", "--timestamp", stamp, "--json")
    assert put.exit_code == 0, put.output
    more = [{"MetricName": "Latency", "Values": [7.5, 30.0], "Counts": [2, 1], "Unit": "Milliseconds",
             "Dimensions": [{"Name": "Host", "Value": "a"}], "Timestamp": stamp}]
    assert run("metrics", "put-metric-data", "--namespace", "App", "--metric-data", json.dumps(more)).exit_code == 0

    got = run("metrics", "get-metric-statistics", "--namespace", "App", "--metric-name", "Latency",
              "--dimensions", "Host=a", "--start-time", (now - timedelta(hours=1)).isoformat(),
              "--end-time", (now + timedelta(hours=1)).isoformat(), "--period", "60",
              "--statistics", "SampleCount,Sum,Maximum", "--statistics", "Average", "--extended-statistics", "p50",
              "--json")

    assert got.exit_code == 0, got.output
    assert json.loads(got.stdout) == {
        "Label": "Latency",
        "Datapoints": [{"Timestamp": now.isoformat().replace("+00:00", "Z"), "SampleCount": 4.0, "Sum": 57.5,
                        "Maximum": 30.0, "Average": 14.375, "ExtendedStatistics": {"p50": 7.5},
                        "Unit": "Milliseconds"}],
    }
    listed = json.loads(run("metrics", "list-metrics", "--json").stdout)
    assert listed == {"Metrics": [{"Namespace": "App", "MetricName": "Latency",
                                   "Dimensions": [{"Name": "Host", "Value": "a"}]}]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metric-data", "[{bad"], "error: --metric-data is not valid JSON"),
        (["--metric-name", "Latency", "--value", "nan"], "error: MetricData[0].Value: nan is not supported"),
        (["--metric-name", "Latency", "--value", "1", "--dimensions", "Host"], "error: --dimensions: expected Name=Value"),
    ],
)
def test_malformed_input_exits_non_zero_with_one_line(run_embedded, args, message):
    result = run_embedded("metrics", "put-metric-data", "--namespace", "App", *args)

    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_alarms_round_trip(run):
    created = run("alarms", "put-metric-alarm", "--alarm-name", "slow", "--namespace", "App", "--metric-name",
                  "Latency", "--statistic", "Maximum", "--period", "60", "--evaluation-periods", "1",
                  "--threshold", "100", "--comparison-operator", "GreaterThanThreshold", "--json")
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["StateValue"] == "INSUFFICIENT_DATA"

    assert run("alarms", "set-alarm-state", "--alarm-name", "slow", "--state-value", "ALARM",
               "--state-reason", "drill").exit_code == 0
    alarms = json.loads(run("alarms", "describe-alarms", "--state-value", "ALARM", "--json").stdout)
    assert [(a["AlarmName"], a["StateReason"]) for a in alarms["MetricAlarms"]] == [("slow", "drill")]
    history = json.loads(run("alarms", "describe-alarm-history", "--alarm-name", "slow", "--json").stdout)
    assert [h["HistoryItemType"] for h in history["AlarmHistoryItems"]] == ["StateUpdate", "ConfigurationUpdate"]

    assert run("alarms", "delete-alarms", "slow").exit_code == 0
    missing = run("alarms", "delete-alarms", "slow")
    assert missing.exit_code == 3 and missing.stderr == "error: alarm 'slow' does not exist\n"
