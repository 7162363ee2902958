"""Alarms on the real platform: actions publish to real topics."""

from __future__ import annotations

import json

import pytest

from groundfog.core.errors import ValidationError


def test_an_alarm_action_publishes_to_a_real_topic(platform, tmp_path):
    topic = platform.topics.create_topic("ops")
    sink = tmp_path / "alarms.jsonl"
    platform.topics.subscribe(topic.topic_arn, "file", str(sink))
    platform.metrics.put_metric_alarm(
        "slow", "Latency", "App", statistic="Maximum", period=60, evaluation_periods=1, threshold=100.0,
        comparison_operator="GreaterThanThreshold", alarm_actions=[topic.topic_arn],
    )

    platform.metrics.put_metric_data("App", [{"MetricName": "Latency", "Value": 250.0, "Unit": "Milliseconds"}])
    assert platform.events.drain(20)

    [line] = sink.read_text().splitlines()
    notification = json.loads(line)
    assert notification["TopicArn"] == topic.topic_arn
    assert notification["Subject"] == 'ALARM: "slow" in local'  # CloudWatch's subject line
    message = json.loads(notification["Message"])
    assert (message["AlarmName"], message["OldStateValue"], message["NewStateValue"]) == (
        "slow", "INSUFFICIENT_DATA", "ALARM",
    )
    assert message["NewStateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoint [250.0 (")
    assert message["Trigger"]["MetricName"] == "Latency" and message["Trigger"]["Threshold"] == 100.0


def test_alarm_actions_must_name_existing_topics(platform):
    platform.topics.create_topic("ops")
    with pytest.raises(ValidationError) as caught:
        platform.metrics.put_metric_alarm(
            "slow", "Latency", "App", statistic="Maximum", period=60, evaluation_periods=1, threshold=1.0,
            comparison_operator="GreaterThanThreshold",
            alarm_actions=["arn:groundfog:events:local:000000000000:topic/ops",
                           "arn:groundfog:events:local:000000000000:topic/nope"],
        )
    assert caught.value.field == "AlarmActions[1]" and "nope" in str(caught.value)
    assert platform.metrics.describe_alarms() == []
