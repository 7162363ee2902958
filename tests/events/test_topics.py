"""Topics deliver each message to every subscription whose filter policy matches:
over real HTTP, to files, to functions."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from gf_events_testkit import deploy, entry

from groundfog.core.errors import Conflict, ResourceNotFound, ValidationError


class Receiver:
    """A real HTTP server on 127.0.0.1 that records POSTs; answers ``statuses`` in turn, then 200."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[tuple[dict, str]] = []
        self.statuses = list(statuses or [])
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                with receiver.arrived:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.requests.append((dict(self.headers), body))
                    receiver.arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float = 10.0) -> list[tuple[dict, str]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_http_subscription_receives_the_sns_envelope(events, receiver):
    topic = events.topics.create_topic("orders")
    sub = events.topics.subscribe(topic.topic_arn, "http", receiver.url)
    message_id = events.topics.publish(topic.topic_arn, "hello", subject="greeting",
                                       message_attributes={"store": "s1", "price": 12})["MessageId"]
    [(headers, body)] = receiver.wait(1)
    note = json.loads(body)
    assert note["Type"] == "Notification" and note["MessageId"] == message_id
    assert note["TopicArn"] == topic.topic_arn and note["Subject"] == "greeting" and note["Message"] == "hello"
    assert note["Timestamp"].endswith("Z")
    assert note["MessageAttributes"] == {"store": {"Type": "String", "Value": "s1"},
                                         "price": {"Type": "Number", "Value": "12"}}
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-subscription-arn"] == sub.subscription_arn


def test_raw_message_delivery_posts_the_message_itself(events, receiver):
    topic = events.topics.create_topic("raw")
    events.topics.subscribe(topic.topic_arn, "http", receiver.url, {"RawMessageDelivery": "true"})
    events.topics.publish(topic.topic_arn, '{"k": 1}')
    [(headers, body)] = receiver.wait(1)
    assert body == '{"k": 1}' and headers["x-amz-sns-rawdelivery"] == "true"


def test_http_errors_are_retried_until_the_endpoint_accepts(events):
    receiver = Receiver(statuses=[500, 503])
    try:
        topic = events.topics.create_topic("flaky")
        events.topics.subscribe(topic.topic_arn, "http", receiver.url)
        events.topics.publish(topic.topic_arn, "persist")
        assert events.drain(20, retries=True)
        assert [json.loads(body)["Message"] for _, body in receiver.requests] == ["persist"] * 3
    finally:
        receiver.close()


def test_file_subscription_appends_json_lines(events, tmp_path):
    topic = events.topics.create_topic("log")
    path = tmp_path / "out" / "log.jsonl"
    events.topics.subscribe(topic.topic_arn, "file", str(path))
    for n in range(3):
        events.topics.publish(topic.topic_arn, f"m{n}")
    assert events.drain(10)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted(line["Message"] for line in lines) == ["m0", "m1", "m2"]


def test_function_subscription_gets_the_sns_lambda_event(events, calls):
    fn = deploy(events, "on-note")
    topic = events.topics.create_topic("t")
    sub = events.topics.subscribe(topic.topic_arn, "lambda", fn)
    events.topics.publish(topic.topic_arn, "hi", message_attributes={"k": "v"})
    [event] = calls.wait_for("on-note", 1)
    [record] = event["Records"]
    assert record["EventSource"] == "aws:sns" and record["EventSubscriptionArn"] == sub.subscription_arn
    assert record["Sns"]["Message"] == "hi" and record["Sns"]["MessageAttributes"]["k"]["Value"] == "v"


def test_filter_policy_on_message_attributes(events, calls):
    fn = deploy(events, "big-orders")
    topic = events.topics.create_topic("orders")
    policy = {"store": "s1", "price": [{"numeric": [">=", 100]}], "kind": [{"anything-but": "test"}],
              "region": [{"prefix": "eu-"}]}
    events.topics.subscribe(topic.topic_arn, "function", fn, {"FilterPolicy": policy})

    def publish(message, **attributes):
        events.topics.publish(topic.topic_arn, message, message_attributes=attributes)

    publish("yes", store="s1", price=150, kind="real", region="eu-west-1")
    publish("cheap", store="s1", price=5, kind="real", region="eu-west-1")
    publish("test", store="s1", price=150, kind="test", region="eu-west-1")
    publish("us", store="s1", price=150, kind="real", region="us-east-1")
    publish("no-attributes")
    assert events.drain(10)
    assert [e["Records"][0]["Sns"]["Message"] for e in calls.calls_of("big-orders")] == ["yes"]


def test_filter_policy_on_the_message_body(events, calls):
    fn = deploy(events, "eu")
    topic = events.topics.create_topic("body")
    events.topics.subscribe(topic.topic_arn, "function", fn, {
        "FilterPolicy": json.dumps({"order": {"region": ["eu"], "lines": {"sku": [{"exists": True}]}}}),
        "FilterPolicyScope": "MessageBody",
    })
    for body in ({"order": {"region": "eu", "lines": [{"sku": "a"}]}}, {"order": {"region": "us"}}):
        events.topics.publish(topic.topic_arn, json.dumps(body))
    events.topics.publish(topic.topic_arn, "not json")
    assert events.drain(10)
    [event] = calls.calls_of("eu")
    assert json.loads(event["Records"][0]["Sns"]["Message"])["order"]["region"] == "eu"


def test_filter_policies_are_checked_when_subscribing(events, tmp_path):
    topic = events.topics.create_topic("t")
    path = str(tmp_path / "x.jsonl")
    with pytest.raises(ValidationError, match="FilterPolicy: price"):
        events.topics.subscribe(topic.topic_arn, "file", path, {"FilterPolicy": {"price": [{"numeric": ["<"]}]}})
    with pytest.raises(ValidationError, match="nested keys need FilterPolicyScope MessageBody"):
        events.topics.subscribe(topic.topic_arn, "file", path, {"FilterPolicy": {"a": {"b": ["c"]}}})
    with pytest.raises(ValidationError, match="Protocol"):
        events.topics.subscribe(topic.topic_arn, "email", "me@example.com")
    with pytest.raises(ValidationError, match="http:// URL"):
        events.topics.subscribe(topic.topic_arn, "http", "ftp://x")
    with pytest.raises(ValidationError, match="no function named"):
        events.topics.subscribe(topic.topic_arn, "function", "missing")
    with pytest.raises(ValidationError, match="unknown attribute ''") as raised:  # named, even when ""
        events.topics.subscribe(topic.topic_arn, "file", path, {"": "x"})
    assert raised.value.field == "Attributes"
    assert events.topics.list_subscriptions() == []


def test_a_file_endpoint_that_cannot_be_a_path_is_a_validation_error(events):
    # Found by tests/api/test_api_fuzz.py: "~nosuchuser" made expanduser raise, a 500.
    topic = events.topics.create_topic("t")
    for endpoint in ("~gf-no-such-user/alerts.jsonl", "file://~gf-no-such-user/x", "/tmp/a\x00b"):
        with pytest.raises(ValidationError) as raised:
            events.topics.subscribe(topic.topic_arn, "file", endpoint)
        assert raised.value.field == "Endpoint"
    assert events.topics.list_subscriptions() == []


def test_topics_are_idempotent_and_deleting_one_removes_its_subscriptions(events, tmp_path):
    first = events.topics.create_topic("alerts")
    assert events.topics.create_topic("alerts") == first
    sub = events.topics.subscribe(first.topic_arn, "file", str(tmp_path / "a.jsonl"))
    assert events.topics.subscribe(first.topic_arn, "file", str(tmp_path / "a.jsonl")) == sub
    with pytest.raises(Conflict):
        events.topics.subscribe(first.topic_arn, "file", str(tmp_path / "a.jsonl"), {"RawMessageDelivery": True})
    assert [s.subscription_arn for s in events.topics.list_subscriptions_by_topic("alerts")] == [sub.subscription_arn]
    events.topics.delete_topic(first.topic_arn)
    assert events.topics.list_topics() == [] and events.topics.list_subscriptions() == []
    with pytest.raises(ResourceNotFound):
        events.topics.publish(first.topic_arn, "x")
    with pytest.raises(ResourceNotFound):
        events.topics.unsubscribe(sub.subscription_arn)


def test_a_rule_can_target_a_topic(events, tmp_path):
    topic = events.topics.create_topic("from-rules")
    path = tmp_path / "rules.jsonl"
    events.topics.subscribe(topic.topic_arn, "file", str(path), {"RawMessageDelivery": "true"})
    events.put_rule("r", event_pattern={"source": ["shop"]})
    events.put_targets("r", [{"Id": "t", "Arn": topic.topic_arn, "InputPath": "$.detail"}])
    events.put_events([entry({"order": 1})])
    assert events.drain(10)
    assert [json.loads(line) for line in path.read_text().splitlines()] == [{"order": 1}]


def test_send_to_a_topic_publishes(events, tmp_path):
    topic = events.topics.create_topic("alarms")
    path = tmp_path / "alarms.jsonl"
    events.topics.subscribe(topic.topic_arn, "file", str(path))
    events.send(topic.topic_arn, {"AlarmName": "high-latency"})
    assert events.drain(10)
    [line] = path.read_text().splitlines()
    assert json.loads(json.loads(line)["Message"]) == {"AlarmName": "high-latency"}


def test_publish_checks_its_message(events):
    topic = events.topics.create_topic("t")
    with pytest.raises(ValidationError, match="Message"):
        events.topics.publish(topic.topic_arn, "")
    with pytest.raises(ValidationError, match="not a number"):
        events.topics.publish(topic.topic_arn, "m", message_attributes={"n": {"DataType": "Number", "StringValue": "x"}})
    with pytest.raises(ValidationError, match="Subject"):
        events.topics.publish(topic.topic_arn, "m", subject="x" * 101)


def test_filter_policy_operators_follow_sns(events, calls):
    fn = deploy(events, "picky")
    topic = events.topics.create_topic("ops")
    policy = {
        "$or": [{"file": [{"suffix": ".csv"}]}, {"team": [{"equals-ignore-case": "ML"}]}],
        "env": [{"anything-but": {"prefix": "dev"}}],
        "internal": [{"exists": False}],
    }
    events.topics.subscribe(topic.topic_arn, "function", fn, {"FilterPolicy": policy})
    cases = {
        "csv": {"file": "a.csv", "env": "prod"},
        "team": {"team": "ml", "env": "prod"},
        "dev": {"file": "a.csv", "env": "dev-1"},
        "internal": {"file": "a.csv", "env": "prod", "internal": "yes"},
        "neither": {"file": "a.txt", "team": "web", "env": "prod"},
    }
    for message, attributes in cases.items():
        events.topics.publish(topic.topic_arn, message, message_attributes=attributes)
    assert events.drain(10)
    assert sorted(e["Records"][0]["Sns"]["Message"] for e in calls.calls_of("picky")) == ["csv", "team"]


def test_string_array_attributes_match_any_element(events, calls):
    fn = deploy(events, "tags")
    topic = events.topics.create_topic("tagged")
    events.topics.subscribe(topic.topic_arn, "function", fn, {"FilterPolicy": {"tags": ["urgent"]}})
    events.topics.publish(topic.topic_arn, "yes", message_attributes={"tags": ["low", "urgent"]})
    events.topics.publish(topic.topic_arn, "no", message_attributes={
        "tags": {"DataType": "String.Array", "StringValue": '["low"]'}})
    assert events.drain(10)
    assert [e["Records"][0]["Sns"]["Message"] for e in calls.calls_of("tags")] == ["yes"]
