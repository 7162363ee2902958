"""``groundfog events ...`` and ``groundfog topics ...``: thin commands, AWS CLI names,
one-line errors with a non-zero exit code."""

from __future__ import annotations

import json

import pytest
from gf_events_testkit import HANDLERS_DIR
from typer.testing import CliRunner

from groundfog.cli import common
from groundfog.events.cli import app as events_app
from groundfog.events.topics_cli import app as topics_app

EVENT = {"id": "1", "account": "1", "source": "shop", "time": "2026-01-01T00:00:00Z", "region": "x",
         "resources": [], "detail-type": "Order", "detail": {"total": 12}}


class _Process:
    """What ``platform()`` gives a CLI process: its own services on the shared state store."""

    def __init__(self, events) -> None:
        self.events, self.topics = events, events.topics

    def close(self) -> None:
        self.events.close()


@pytest.fixture
def cli(make_events, monkeypatch):
    runner = CliRunner()

    def run(app, *args: str):
        monkeypatch.setattr(common, "_platform", _Process(make_events()))
        return runner.invoke(app, list(args))

    return run


def test_test_event_pattern_prints_the_result_like_the_aws_cli(cli):
    result = cli(events_app, "test-event-pattern", "--event-pattern", '{"detail": {"total": [{"numeric": [">", 10]}]}}',
                 "--event", json.dumps(EVENT), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"Result": True}
    result = cli(events_app, "test-event-pattern", "--event-pattern", '{"source": ["other"]}',
                 "--event", json.dumps(EVENT), "--json")
    assert json.loads(result.stdout) == {"Result": False}


def test_put_rule_with_a_malformed_pattern_fails_in_one_line_naming_the_field(cli):
    result = cli(events_app, "put-rule", "--name", "r", "--event-pattern", '{"detail": {"total": [{"numeric": [">"]}]}}')
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "detail.total" in lines[0]
    result = cli(events_app, "put-rule", "--name", "r", "--event-pattern", "{not json")
    assert result.exit_code != 0 and "--event-pattern is not valid JSON" in result.stderr


def test_put_rule_with_a_malformed_cron_fails_in_one_line(cli):
    result = cli(events_app, "put-rule", "--name", "r", "--schedule-expression", "cron(0 25 * * ? *)")
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "hours" in lines[0]
    assert cli(events_app, "list-rules", "--json").stdout.strip() == "[]"


def test_rules_targets_and_events_from_the_command_line(cli, calls, tmp_path):
    created = cli(events_app, "create-function", "--name", "fn", "--handler", "gf_event_handlers:record",
                  "--code-path", HANDLERS_DIR, "--json")
    assert created.exit_code == 0, created.output
    fn_arn = json.loads(created.stdout)["FunctionArn"]
    assert cli(events_app, "put-rule", "--name", "r", "--event-pattern", '{"source": ["shop"]}').exit_code == 0
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps([{"Id": "t", "Arn": fn_arn, "InputPath": "$.detail"}]))
    assert cli(events_app, "put-targets", "--rule", "r", "--targets", f"file://{targets}").exit_code == 0

    entries = [{"Source": "shop", "DetailType": "Order", "Detail": '{"n": 1}'}]
    put = cli(events_app, "put-events", "--entries", json.dumps(entries), "--json")

    assert put.exit_code == 0, put.output
    assert json.loads(put.stdout)["FailedEntryCount"] == 0
    assert calls.calls_of("fn") == [{"n": 1}]  # delivered before the command returned
    [listed] = json.loads(cli(events_app, "list-targets", "--rule", "r", "--json").stdout)
    assert (listed["Id"], listed["Arn"], listed["InputPath"]) == ("t", fn_arn, "$.detail")
    assert json.loads(cli(events_app, "describe-rule", "--name", "r", "--json").stdout)["State"] == "ENABLED"
    deleted = cli(events_app, "delete-rule", "--name", "r")
    assert deleted.exit_code == 4 and "has targets" in deleted.stderr
    invoked = cli(events_app, "invoke", "--name", "fn", "--payload", '{"x": 1}', "--json")
    assert json.loads(invoked.stdout)["seen"] == {"x": 1}


def test_unknown_targets_fail_with_the_target_named(cli):
    assert cli(events_app, "put-rule", "--name", "r", "--event-pattern", '{"source": ["shop"]}').exit_code == 0
    bad = [{"Id": "lost", "Arn": "arn:groundfog:events:local:000000000000:function/ghost"}]
    result = cli(events_app, "put-targets", "--rule", "r", "--targets", json.dumps(bad))
    assert result.exit_code == 2 and "'lost'" in result.stderr and "function/ghost" in result.stderr


def test_topics_from_the_command_line(cli, tmp_path):
    created = cli(topics_app, "create", "alerts", "--json")
    assert created.exit_code == 0, created.output
    path = tmp_path / "alerts.jsonl"
    sub = cli(topics_app, "subscribe", "alerts", "--protocol", "file", "--endpoint", str(path),
              "--attributes", '{"FilterPolicy": {"level": ["high"]}}', "--json")
    assert sub.exit_code == 0, sub.output
    for level in ("high", "low"):
        published = cli(topics_app, "publish", "alerts", "--message", f"disk {level}",
                        "--message-attributes", json.dumps({"level": level}), "--json")
        assert "MessageId" in json.loads(published.stdout)
    assert [json.loads(line)["Message"] for line in path.read_text().splitlines()] == ["disk high"]
    listed = json.loads(cli(topics_app, "list-subscriptions", "--topic", "alerts", "--json").stdout)
    assert [s["Endpoint"] for s in listed] == [str(path)]
    missing = cli(topics_app, "publish", "nope", "--message", "x")
    assert missing.exit_code == 3 and "Topic does not exist" in missing.stderr
