"""Rules route events from a bus to their targets; targets receive the input they ask for."""

from __future__ import annotations

import json

import pytest
from gf_events_testkit import deploy, entry

from groundfog.core.errors import LimitExceeded, PayloadTooLarge, ResourceInUse, ResourceNotFound, ValidationError


def test_rule_routes_matching_events_to_its_function_target(events, calls):
    fn = deploy(events, "on-order")
    events.put_rule("orders", event_pattern={"source": ["shop"], "detail": {"total": [{"numeric": [">", 10]}]}})
    events.put_targets("orders", [{"Id": "fn", "Arn": fn}])

    result = events.put_events([entry({"total": 25, "sku": "a"}), entry({"total": 5}), entry({"total": 99}, source="x")])

    assert result["FailedEntryCount"] == 0
    assert events.drain(10)
    received = calls.calls_of("on-order")
    assert len(received) == 1
    event = received[0]
    assert event["id"] == result["Entries"][0]["EventId"]
    assert event["source"] == "shop" and event["detail-type"] == "Order Placed"
    assert event["detail"] == {"total": 25, "sku": "a"}
    assert event["account"] == "000000000000" and event["region"] == "local" and event["version"] == "0"


def test_disabled_rule_routes_nothing_until_enabled(events, calls):
    fn = deploy(events, "fn")
    events.put_rule("r", event_pattern={"source": ["shop"]}, state="DISABLED")
    events.put_targets("r", [{"Id": "t", "Arn": fn}])
    events.put_events([entry({"n": 1})])
    assert events.drain(10)
    assert calls.calls_of("fn") == []

    events.enable_rule("r")
    events.put_events([entry({"n": 2})])
    assert [e["detail"]["n"] for e in calls.wait_for("fn", 1)] == [2]
    assert events.describe_rule("r").state == "ENABLED"


def test_a_rule_added_by_another_process_is_routed_by_a_running_dispatcher(make_events, calls):
    server, cli = make_events(), make_events()
    fn = deploy(cli, "fn")
    server.put_events([entry({"n": 0})])  # the server's dispatcher is running and has a snapshot
    assert server.drain(10)

    cli.put_rule("r", event_pattern={"source": ["shop"]})
    cli.put_targets("r", [{"Id": "t", "Arn": fn}])
    server.put_events([entry({"n": 1})])

    assert [e["detail"]["n"] for e in calls.wait_for("fn", 1)] == [1]


def test_events_go_only_to_rules_of_their_bus(events, calls):
    fn = deploy(events, "fn")
    events.create_event_bus("orders")
    events.put_rule("r", event_pattern={"source": ["shop"]}, event_bus_name="orders")
    events.put_targets("r", [{"Id": "t", "Arn": fn}], event_bus_name="orders")

    events.put_events([entry({"bus": "default"}), entry({"bus": "orders"}, EventBusName="orders")])

    assert events.drain(10)
    assert [e["detail"]["bus"] for e in calls.calls_of("fn")] == ["orders"]


def test_input_path_sends_part_of_the_event(events, calls):
    fn = deploy(events, "fn")
    events.put_rule("r", event_pattern={"source": ["shop"]})
    events.put_targets("r", [{"Id": "t", "Arn": fn, "InputPath": "$.detail.object"}])
    events.put_events([entry({"object": {"key": "a.csv", "size": 3}})])
    assert calls.wait_for("fn", 1) == [{"key": "a.csv", "size": 3}]


def test_constant_input_replaces_the_event(events, calls):
    fn = deploy(events, "fn")
    events.put_rule("r", event_pattern={"source": ["shop"]})
    events.put_targets("r", [{"Id": "t", "Arn": fn, "Input": '{"fixed": true}'}])
    events.put_events([entry({"n": 1})])
    assert calls.wait_for("fn", 1) == [{"fixed": True}]


def test_input_transformer_quotes_strings_as_eventbridge_does(events, calls):
    fn = deploy(events, "fn")
    text = deploy(events, "text")
    events.put_rule("r", event_pattern={"source": ["shop"]})
    paths = {"sku": "$.detail.sku", "qty": "$.detail.qty", "tags": "$.detail.tags", "gone": "$.detail.nope"}
    template = (
        '{"sku": <sku>, "qty": <qty>, "tags": <tags>, "line": "<qty> x <sku>", '
        '"rule": <aws.events.rule-name>, "gone": <gone>}'
    )
    events.put_targets("r", [
        {"Id": "json", "Arn": fn, "InputTransformer": {"InputPathsMap": paths, "InputTemplate": template}},
        {"Id": "text", "Arn": text,
         "InputTransformer": {"InputPathsMap": paths, "InputTemplate": "order of <qty> x <sku>"}},
    ])

    events.put_events([entry({"sku": 'say "hi"', "qty": 2, "tags": ["a", "b"]})])

    assert calls.wait_for("fn", 1) == [{
        "sku": 'say "hi"', "qty": 2, "tags": ["a", "b"], "line": '2 x say "hi"', "rule": "r", "gone": None,
    }]
    assert calls.wait_for("text", 1) == ['order of 2 x say "hi"']


def test_input_transformer_can_pass_the_whole_event(events, calls):
    fn = deploy(events, "fn")
    events.put_rule("r", event_pattern={"source": ["shop"]})
    template = '{"original": <aws.events.event.json>, "arn": "<aws.events.rule-arn>"}'
    events.put_targets("r", [{"Id": "t", "Arn": fn, "InputTransformer": {"InputTemplate": template}}])
    result = events.put_events([entry({"n": 1})])
    [received] = calls.wait_for("fn", 1)
    assert received["original"]["id"] == result["Entries"][0]["EventId"]
    assert received["original"]["detail"] == {"n": 1}
    assert received["arn"] == "arn:groundfog:events:local:000000000000:rule/r"


def test_unknown_target_is_refused_naming_its_id_and_arn_and_nothing_changes(events):
    fn = deploy(events, "fn")
    events.put_rule("r", event_pattern={"source": ["shop"]})
    events.put_targets("r", [{"Id": "keep", "Arn": fn}])
    missing = "arn:groundfog:events:local:000000000000:function/nope"

    with pytest.raises(ValidationError) as err:
        events.put_targets("r", [{"Id": "new", "Arn": fn}, {"Id": "bad", "Arn": missing}])

    assert "'bad'" in err.value.message and missing in err.value.message
    assert [t.id for t in events.list_targets_by_rule("r")] == ["keep"]


INVALID_TARGETS = [
    ({"Id": "t", "Arn": "not-an-arn"}, "not a groundfog ARN"),
    ({"Id": "t", "Arn": "arn:groundfog:storage:local:000000000000:bucket/b"}, "not a deliverable target type"),
    ({"Id": "t", "Arn": "{fn}", "Input": "{}", "InputPath": "$.detail"}, "only one of Input"),
    ({"Id": "t", "Arn": "{fn}", "Input": "{not json"}, "not valid JSON"),
    ({"Id": "t", "Arn": "{fn}", "InputPath": "detail.x"}, "JSON path"),
    ({"Id": "t", "Arn": "{fn}", "InputTransformer": {"InputTemplate": '{<k>: 1}', "InputPathsMap": {"k": "$.a"}}},
     "object key"),
    ({"Id": "t", "Arn": "{fn}", "RetryPolicy": {"MaximumRetryAttempts": 186}}, "0-185"),
    ({"Id": "t", "Arn": "{fn}", "DeadLetterConfig": {"Arn": "{fn}"}}, "expected one of: topic"),
    ({"Id": "t", "Arn": "{fn}", "Imput": "{}"}, "Imput"),
    ({"Id": "bad id!", "Arn": "{fn}"}, "Id"),
]


def test_invalid_targets_are_refused_with_the_reason(events):
    fn = deploy(events, "fn")
    events.put_rule("r", event_pattern={"source": ["shop"]})
    for target, words in INVALID_TARGETS:
        target = {k: (v.replace("{fn}", fn) if isinstance(v, str) else v) for k, v in target.items()}
        if "DeadLetterConfig" in target:
            target["DeadLetterConfig"] = {"Arn": fn}
        with pytest.raises(ValidationError, match=words):
            events.put_targets("r", [target])
    assert events.list_targets_by_rule("r") == []


def test_a_rule_takes_at_most_five_targets(events):
    fn = deploy(events, "fn")
    events.put_rule("r", event_pattern={"source": ["shop"]})
    events.put_targets("r", [{"Id": f"t{i}", "Arn": fn} for i in range(5)])
    with pytest.raises(LimitExceeded):
        events.put_targets("r", [{"Id": "t5", "Arn": fn}])
    events.put_targets("r", [{"Id": "t0", "Arn": fn, "Input": "1"}])  # replacing by Id is fine
    assert len(events.list_targets_by_rule("r")) == 5


def test_a_rule_with_targets_cannot_be_deleted(events):
    fn = deploy(events, "fn")
    events.put_rule("r", event_pattern={"source": ["shop"]})
    events.put_targets("r", [{"Id": "t", "Arn": fn}])
    with pytest.raises(ResourceInUse, match="Rule can't be deleted since it has targets"):
        events.delete_rule("r")
    events.remove_targets("r", ["t"])
    events.delete_rule("r")
    with pytest.raises(ResourceNotFound):
        events.describe_rule("r")


def test_put_rule_validates_pattern_schedule_and_bus(events):
    with pytest.raises(ValidationError, match="detail.size"):
        events.put_rule("r", event_pattern={"detail": {"size": [{"numeric": [">", "x"]}]}})
    with pytest.raises(ValidationError, match="exactly one"):
        events.put_rule("r")
    with pytest.raises(ValidationError, match="minutes"):
        events.put_rule("r", schedule_expression="cron(99 * * * ? *)")
    events.create_event_bus("custom")
    with pytest.raises(ValidationError, match="only on the default event bus"):
        events.put_rule("r", schedule_expression="rate(5 minutes)", event_bus_name="custom")
    with pytest.raises(ResourceNotFound, match="Event bus nope does not exist"):
        events.put_rule("r", event_pattern={"source": ["x"]}, event_bus_name="nope")
    assert events.list_rules() == []


def test_rules_are_listed_by_prefix_and_keep_their_pattern_text(events):
    events.put_rule("orders-new", event_pattern='{"source": ["shop"]}', description="new orders")
    events.put_rule("orders-old", event_pattern={"source": ["legacy"]})
    events.put_rule("other", schedule_expression="rate(1 hour)")
    assert [r.name for r in events.list_rules(name_prefix="orders-")] == ["orders-new", "orders-old"]
    rule = events.describe_rule("orders-new")
    assert rule.event_pattern == '{"source": ["shop"]}' and rule.description == "new orders"
    assert rule.arn == "arn:groundfog:events:local:000000000000:rule/orders-new"
    assert events.describe_rule("other").next_fire_time is not None


def test_put_events_takes_at_most_ten_entries(events):
    with pytest.raises(ValidationError, match="less than or equal to 10"):
        events.put_events([entry({"n": i}) for i in range(11)])


def test_oversize_put_events_is_rejected_and_nothing_is_queued(events, calls):
    fn = deploy(events, "fn")
    events.put_rule("r", event_pattern={"source": ["shop"]})
    events.put_targets("r", [{"Id": "t", "Arn": fn}])
    big = {"blob": "x" * (256 * 1024)}
    with pytest.raises(PayloadTooLarge, match="over the limit"):
        events.put_events([entry({"n": 1}), entry(big)])
    with pytest.raises(PayloadTooLarge):
        events.emit("shop", "Order Placed", big)
    assert events.drain(10)
    assert calls.calls_of("fn") == []


def test_put_events_reports_each_bad_entry_like_eventbridge(events):
    result = events.put_events([
        {"DetailType": "t", "Detail": "{}"},
        entry({"ok": 1}),
        {"Source": "s", "DetailType": "t", "Detail": "not json"},
        {"Source": "s", "DetailType": "t", "Detail": "[1, 2]"},
        entry({"ok": 2}, EventBusName="nope"),
    ])
    assert result["FailedEntryCount"] == 4
    codes = [e.get("ErrorCode") for e in result["Entries"]]
    assert codes == ["InvalidArgument", None, "MalformedDetail", "MalformedDetail", "ResourceNotFoundException"]
    assert result["Entries"][0]["ErrorMessage"] == "Parameter Source is not valid. Reason: Source is a required argument."
    assert "EventId" in result["Entries"][1]


def test_entries_with_a_bad_bus_time_or_unstorable_detail_fail_alone(events):
    # Found by tests/api/test_api_fuzz.py: a non-string EventBusName failed the whole
    # request with a 500; an out-of-range Time did too.
    result = events.put_events([
        entry({"ok": 1}, EventBusName=["default"]),
        entry({"ok": 2}, EventBusName={"Name": "default"}),
        entry({"ok": 3}, Time=1e300),
        {"Source": "s", "DetailType": "t", "Detail": '{"a": "\\u0000"}'},
        entry({"ok": 4}),
    ])
    codes = [e.get("ErrorCode") for e in result["Entries"]]
    assert codes == ["InvalidArgument", "InvalidArgument", "InvalidArgument", "MalformedDetail", None]
    assert "EventBusName" in result["Entries"][0]["ErrorMessage"]
    assert result["FailedEntryCount"] == 4


def test_event_time_and_resources_are_kept(events, calls):
    fn = deploy(events, "fn")
    events.put_rule("r", event_pattern={"resources": [{"prefix": "arn:x"}]})
    events.put_targets("r", [{"Id": "t", "Arn": fn}])
    events.put_events([entry({}, Time="2025-03-04T05:06:07Z", Resources=["arn:x:1"])])
    [event] = calls.wait_for("fn", 1)
    assert event["time"] == "2025-03-04T05:06:07Z" and event["resources"] == ["arn:x:1"]


def test_emit_send_and_check_target_serve_other_services(events, calls):
    fn = deploy(events, "fn")
    events.put_rule("r", event_pattern={"source": ["aws.s3"], "detail-type": ["Object Created"]})
    events.put_targets("r", [{"Id": "t", "Arn": fn}])

    event_id = events.emit("aws.s3", "Object Created", {"bucket": {"name": "b"}}, resources=["arn:b"])
    events.send(fn, {"direct": True})

    received = calls.wait_for("fn", 2)
    assert {"direct": True} in received
    assert any(isinstance(e, dict) and e.get("id") == event_id for e in received)
    with pytest.raises(ValidationError, match="no function named 'ghost'"):
        events.check_target("arn:groundfog:events:local:000000000000:function/ghost")
    with pytest.raises(ValidationError, match="expected one of: topic"):
        events.check_target(fn, allowed_types=("topic",))
    with pytest.raises(ResourceNotFound):
        events.emit("aws.s3", "Object Created", {}, bus="missing")


def test_test_event_pattern_is_eventbridges(events):
    event = {"id": "1", "account": "1", "source": "shop", "time": "2026-01-01T00:00:00Z", "region": "x",
             "resources": [], "detail-type": "t", "detail": {"n": 3}}
    assert events.test_event_pattern({"detail": {"n": [{"numeric": [">", 2]}]}}, json.dumps(event)) is True
    assert events.test_event_pattern('{"source": ["other"]}', event) is False
    with pytest.raises(ValidationError, match="mandatory field"):
        events.test_event_pattern({"source": ["shop"]}, {"source": "shop"})
