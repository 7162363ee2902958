"""The platform wires the events service in: ``platform.events`` and ``platform.topics``."""

from __future__ import annotations

import json


def test_platform_exposes_events_and_topics_that_deliver(platform, tmp_path):
    assert platform.topics is platform.events.topics
    topic = platform.topics.create_topic("alarms")
    path = tmp_path / "alarms.jsonl"
    platform.topics.subscribe(topic.topic_arn, "file", str(path))
    platform.events.check_target(topic.topic_arn, allowed_types=("topic",))
    platform.events.send(topic.topic_arn, {"AlarmName": "latency"})
    platform.events.put_rule("all", event_pattern={"source": [{"prefix": ""}]})
    platform.events.put_targets("all", [{"Id": "t", "Arn": topic.topic_arn, "InputPath": "$.detail"}])
    platform.events.emit("groundfog.test", "Ping", {"n": 1})
    assert platform.events.drain(10)
    messages = [json.loads(json.loads(line)["Message"]) for line in path.read_text().splitlines()]
    assert sorted(messages, key=str) == [{"AlarmName": "latency"}, {"n": 1}]
