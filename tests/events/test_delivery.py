"""Delivery is durable and at least once: retried with backoff, dead-lettered, recovered
after a crash, and immediate on the happy path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from gf_events_testkit import HANDLERS_DIR, deploy, entry

from groundfog.core.clock import ManualClock
from groundfog.events import tables as t


def _outbox_rows(events):
    with events.state.read() as conn:
        return conn.execute(sa.select(t.outbox)).all()


def test_failing_target_is_retried_then_dead_lettered(events, calls):
    bad = deploy(events, "bad", handler="fail")
    events.put_rule("r", event_pattern={"source": ["shop"]})
    events.put_targets("r", [{"Id": "t", "Arn": bad, "RetryPolicy": {"MaximumRetryAttempts": 2}}])

    [sent] = events.put_events([entry({"n": 1})])["Entries"]

    assert events.drain(20, retries=True)
    assert len(calls.calls_of("bad")) == 3  # the first attempt and two retries
    [letter] = events.list_dead_letters()
    assert letter.target_arn == bad and letter.attempts == 3 and letter.target_id == "t"
    assert letter.event_id == sent["EventId"] and letter.rule_arn.endswith(":rule/r")
    assert "target failed on purpose" in letter.error and "gave up after 3 attempts" in letter.error
    assert letter.payload["detail"] == {"n": 1}
    assert _outbox_rows(events) == []


def test_a_target_that_recovers_gets_the_event_once_retries_succeed(events, calls):
    flaky = deploy(events, "flaky", handler="fail_first")
    calls.fail_times("flaky", 2)
    events.put_rule("r", event_pattern={"source": ["shop"]})
    events.put_targets("r", [{"Id": "t", "Arn": flaky}])
    events.put_events([entry({"n": 7})])
    assert events.drain(20, retries=True)
    assert [e["detail"]["n"] for e in calls.calls_of("flaky")] == [7, 7, 7]
    assert events.list_dead_letters() == []


def test_one_failing_target_does_not_redeliver_to_the_others(events, calls):
    good, bad = deploy(events, "good"), deploy(events, "bad", handler="fail")
    events.put_rule("r", event_pattern={"source": ["shop"]})
    events.put_targets("r", [{"Id": "good", "Arn": good},
                             {"Id": "bad", "Arn": bad, "RetryPolicy": {"MaximumRetryAttempts": 3}}])
    events.put_events([entry({"n": 1})])
    assert events.drain(20, retries=True)
    assert len(calls.calls_of("good")) == 1
    assert len(calls.calls_of("bad")) == 4


def test_dead_letters_go_to_the_targets_dead_letter_topic(events, calls, tmp_path):
    bad = deploy(events, "bad", handler="fail")
    dlq = events.topics.create_topic("dlq")
    sink = tmp_path / "dlq.jsonl"
    events.topics.subscribe(dlq.topic_arn, "file", str(sink))
    events.put_rule("r", event_pattern={"source": ["shop"]})
    events.put_targets("r", [{"Id": "t", "Arn": bad, "RetryPolicy": {"MaximumRetryAttempts": 0},
                              "DeadLetterConfig": {"Arn": dlq.topic_arn}}])
    events.put_events([entry({"n": 1})])
    assert events.drain(20, retries=True)
    [line] = sink.read_text().splitlines()
    note = json.loads(line)
    assert json.loads(note["Message"])["detail"] == {"n": 1}
    assert note["MessageAttributes"]["TARGET_ARN"]["Value"] == bad
    assert "target failed on purpose" in note["MessageAttributes"]["ERROR_MESSAGE"]["Value"]


def test_a_deleted_function_target_is_dead_lettered_without_retries(events, calls):
    fn = deploy(events, "gone")
    events.put_rule("r", event_pattern={"source": ["shop"]})
    events.put_targets("r", [{"Id": "t", "Arn": fn}])
    events.delete_function("gone")
    events.put_events([entry({"n": 1})])
    assert events.drain(10, retries=True)
    [letter] = events.list_dead_letters()
    assert letter.attempts == 1 and "Function not found" in letter.error


def test_retries_stop_at_the_maximum_event_age(make_events, calls):
    clock = ManualClock(datetime.now(timezone.utc))
    events = make_events(clock=clock, retry_base_seconds=40.0)
    bad = deploy(events, "bad", handler="fail")
    events.put_rule("r", event_pattern={"source": ["shop"]})
    events.put_targets("r", [{"Id": "t", "Arn": bad, "RetryPolicy": {"MaximumEventAgeInSeconds": 60}}])
    events.put_events([entry({"n": 1})])
    assert events.drain(10)
    assert len(calls.calls_of("bad")) == 1  # the retry waits 32-40 s of (manual) time
    clock.advance(45)
    assert events.drain(10)
    # The second failure would retry after another 64-80 s: past the 60 s event age.
    assert len(calls.calls_of("bad")) == 2
    [letter] = events.list_dead_letters()
    assert "maximum event age of 60 s" in letter.error
    assert _outbox_rows(events) == []


def test_delivery_needs_no_polling_to_happen(make_events, calls):
    # A frozen clock and an hour-long sweep: only the direct wake-up can deliver.
    events = make_events(clock=ManualClock())
    events.dispatcher.sweep_interval = 3600
    fn = deploy(events, "fn")
    events.put_rule("r", event_pattern={"source": ["shop"]})
    events.put_targets("r", [{"Id": "t", "Arn": fn}])
    for n in range(5):
        events.put_events([entry({"n": n})])
        assert len(calls.wait_for("fn", n + 1, timeout=5)) == n + 1


def test_close_delivers_what_is_pending(make_events, calls):
    events = make_events()
    fn = deploy(events, "fn")
    events.put_rule("r", event_pattern={"source": ["shop"]})
    events.put_targets("r", [{"Id": "t", "Arn": fn}])
    for n in range(20):
        events.put_events([entry({"n": n})])
    events.close()
    assert sorted(e["detail"]["n"] for e in calls.calls_of("fn")) == list(range(20))
    assert _outbox_rows(events) == []


CHILD = textwrap.dedent("""
    import json, sys, time
    from groundfog.core.clock import Clock
    from groundfog.core.config import Config
    from groundfog.core.state import StateStore
    from groundfog.events import EventsService

    state = StateStore(sys.argv[1])
    events = EventsService(config=Config(home=sys.argv[2]), state=state, clock=Clock())
    entries = [{"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"n": n})} for n in range(3)]
    events.put_events(entries)
    time.sleep(30)  # the handler kills this process long before
""")


def test_rows_claimed_by_a_process_that_died_are_delivered_by_a_fresh_one(
    make_events, calls, state_url, tmp_path
):
    setup = make_events()
    fn = setup.create_function("crashy", handler="gf_event_handlers:die_in_child", code_path=HANDLERS_DIR)
    setup.put_rule("r", event_pattern={"source": ["shop"]})
    setup.put_targets("r", [{"Id": "t", "Arn": fn.function_arn}])
    setup.close()

    env = {**os.environ, "GF_TEST_DIE": "1"}
    child = subprocess.run([sys.executable, "-c", CHILD, state_url, str(tmp_path / "home")], env=env, timeout=60)
    assert child.returncode == 3  # died inside the handler, mid-delivery
    leased = _outbox_rows(setup)
    assert leased and all(r.status == "leased" for r in leased)
    assert calls.calls_of("crashy") == []

    # A restarted process, once the dead one's lease has expired, delivers everything.
    later = ManualClock(datetime.now(timezone.utc) + timedelta(seconds=301))
    fresh = make_events(clock=later)
    assert fresh.drain(20)
    assert sorted(e["detail"]["n"] for e in calls.calls_of("crashy")) == [0, 1, 2]
    assert _outbox_rows(fresh) == []


def test_unexpired_leases_of_a_live_process_are_left_alone(make_events, calls):
    events = make_events(clock=ManualClock(datetime.now(timezone.utc)))
    fn = deploy(events, "fn")
    events.put_rule("r", event_pattern={"source": ["shop"]})
    events.put_targets("r", [{"Id": "t", "Arn": fn}])
    with events.state.write() as conn:  # as if another process had just claimed an event
        now = events.clock.time()
        conn.execute(t.outbox.insert(), [{
            "kind": "event", "target": "default", "meta": {"first_at": now}, "attempts": 0, "status": "leased",
            "payload": {"id": "x", "source": "shop", "detail-type": "d", "detail": {}},
            "available_at": now, "created_at": now, "lease_owner": "other", "lease_expires_at": now + 300,
        }])
    assert events.drain(5)
    assert calls.calls_of("fn") == []
    events.clock.advance(301)
    assert events.drain(10)
    assert len(calls.calls_of("fn")) == 1
