"""Schedule rules fire Scheduled Events at their fire times, once each, across restarts."""

from __future__ import annotations

from datetime import datetime, timezone

from gf_events_testkit import deploy

from groundfog.core.clock import ManualClock
from groundfog.events import tables as t

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _times(calls, name):
    return [e["time"] for e in calls.calls_of(name)]


def test_rate_rule_fires_at_each_fire_time(make_events, calls):
    clock = ManualClock(START)
    events = make_events(clock=clock)
    fn = deploy(events, "tick")
    arn = events.put_rule("every5", schedule_expression="rate(5 minutes)")["RuleArn"]
    events.put_targets("every5", [{"Id": "t", "Arn": fn}])

    assert events.run_due_schedules() == 0
    clock.advance(12 * 60)
    assert events.run_due_schedules() == 2
    assert events.drain(10)

    # Deliveries run concurrently: the two events may arrive in either order.
    received = sorted(calls.calls_of("tick"), key=lambda e: e["time"])
    assert [e["time"] for e in received] == ["2026-01-01T00:05:00Z", "2026-01-01T00:10:00Z"]
    first = received[0]
    assert first["source"] == "aws.events" and first["detail-type"] == "Scheduled Event"
    assert first["detail"] == {} and first["resources"] == [arn]
    assert events.describe_rule("every5").next_fire_time == datetime(2026, 1, 1, 0, 15, tzinfo=timezone.utc)


def test_a_restart_neither_fires_twice_nor_skips(make_events, calls):
    clock = ManualClock(START)
    first = make_events(clock=clock)
    fn = deploy(first, "tick")
    first.put_rule("hourly", schedule_expression="cron(0 * * * ? *)")
    first.put_targets("hourly", [{"Id": "t", "Arn": fn}])
    clock.advance(3600 + 60)
    assert first.run_due_schedules() == 1
    first.close()

    restarted = make_events(clock=clock)
    assert restarted.run_due_schedules() == 0  # 01:00 was fired before the restart
    clock.advance(3600)
    assert restarted.run_due_schedules() == 1
    assert restarted.drain(10)
    assert _times(calls, "tick") == ["2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z"]


def test_two_processes_running_schedules_fire_each_time_once(make_events, calls):
    clock = ManualClock(START)
    a, b = make_events(clock=clock), make_events(clock=clock)
    fn = deploy(a, "tick")
    a.put_rule("r", schedule_expression="rate(1 minute)")
    a.put_targets("r", [{"Id": "t", "Arn": fn}])
    clock.advance(3 * 60)
    assert a.run_due_schedules() + b.run_due_schedules() == 3
    assert a.drain(10) and b.drain(10)
    assert len(calls.calls_of("tick")) == 3


def test_a_disabled_schedule_does_not_fire_and_enabling_does_not_catch_up(make_events, calls):
    clock = ManualClock(START)
    events = make_events(clock=clock)
    fn = deploy(events, "tick")
    events.put_rule("r", schedule_expression="rate(10 minutes)", state="DISABLED")
    events.put_targets("r", [{"Id": "t", "Arn": fn}])
    clock.advance(3600)
    assert events.run_due_schedules() == 0
    events.enable_rule("r")
    assert events.run_due_schedules() == 0
    clock.advance(10 * 60)
    assert events.run_due_schedules() == 1
    assert events.drain(10)
    assert _times(calls, "tick") == ["2026-01-01T01:10:00Z"]


def test_changing_the_description_keeps_the_schedule(make_events):
    clock = ManualClock(START)
    events = make_events(clock=clock)
    events.put_rule("r", schedule_expression="rate(1 hour)")
    clock.advance(30 * 60)
    events.put_rule("r", schedule_expression="rate(1 hour)", description="now documented")
    assert events.describe_rule("r").next_fire_time == datetime(2026, 1, 1, 1, tzinfo=timezone.utc)


def test_the_schedule_loop_fires_in_the_background(make_events, calls):
    events = make_events()  # the real clock: rate(1 minute) fires on the minute
    fn = deploy(events, "tick")
    events.put_rule("r", schedule_expression="rate(1 minute)")
    events.put_targets("r", [{"Id": "t", "Arn": fn}])
    # Pretend the next fire time has come: move it to the past.
    with events.state.write() as conn:
        conn.execute(t.rules.update().values(next_fire_at=events.clock.time() - 1))
    events.start_background()
    assert calls.wait_for("tick", 1, timeout=10)
