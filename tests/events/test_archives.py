"""Archives keep the events of a bus; replays send them through the rules again."""

from __future__ import annotations

import pytest
from gf_events_testkit import deploy, entry

from groundfog.core.errors import AlreadyExists, ResourceNotFound, ValidationError

BUS = "arn:groundfog:events:local:000000000000:event-bus/default"


def _archived(events, name):
    return events.describe_archive(name).event_count


def test_archive_and_replay_redeliver_the_events_of_a_time_window(events, calls):
    fn = deploy(events, "fn")
    events.put_rule("r", event_pattern={"source": ["shop"]})
    events.put_targets("r", [{"Id": "t", "Arn": fn}])
    archive = events.create_archive("all-orders", BUS)
    events.put_events([entry({"n": n}, Time=f"2026-01-01T0{n}:00:00Z") for n in (1, 2, 3)])
    assert events.drain(10)
    assert _archived(events, "all-orders") == 3

    replay = events.start_replay(
        "again", archive.archive_arn, "2026-01-01T02:00:00Z", "2026-01-01T04:00:00Z", {"Arn": BUS}
    )

    assert replay.state == "COMPLETED" and replay.events_replayed == 2
    assert events.drain(10)
    received = calls.calls_of("fn")
    replayed = [e for e in received if e.get("replay-name") == "again"]
    assert sorted(e["detail"]["n"] for e in replayed) == [2, 3]
    assert len(received) == 5
    assert _archived(events, "all-orders") == 3  # replayed events are not archived again
    assert events.describe_replay("again").event_last_replayed_time.hour == 3
    assert [r.replay_name for r in events.list_replays()] == ["again"]


def test_an_archive_pattern_chooses_what_is_kept(events):
    events.create_archive("big", BUS, event_pattern={"detail": {"total": [{"numeric": [">=", 100]}]}})
    events.put_events([entry({"total": 5}), entry({"total": 500})])
    assert events.drain(10)
    assert _archived(events, "big") == 1
    assert events.describe_archive("big").size_bytes > 0


def test_replay_filter_arns_limit_the_rules(events, calls):
    a, b = deploy(events, "a"), deploy(events, "b")
    rule_a = events.put_rule("ra", event_pattern={"source": ["shop"]})["RuleArn"]
    events.put_rule("rb", event_pattern={"source": ["shop"]})
    events.put_targets("ra", [{"Id": "t", "Arn": a}])
    events.put_targets("rb", [{"Id": "t", "Arn": b}])
    archive = events.create_archive("arch", BUS)
    events.put_events([entry({"n": 1}, Time="2026-01-01T00:00:00Z")])
    assert events.drain(10)
    events.start_replay("only-a", archive.archive_arn, 0, "2027-01-01T00:00:00Z",
                        {"Arn": BUS, "FilterArns": [rule_a]})
    assert events.drain(10)
    assert len(calls.calls_of("a")) == 2 and len(calls.calls_of("b")) == 1


def test_archive_and_replay_arguments_are_checked(events):
    archive = events.create_archive("arch", BUS)
    with pytest.raises(AlreadyExists):
        events.create_archive("arch", BUS)
    with pytest.raises(ResourceNotFound, match="Event bus nope does not exist"):
        events.create_archive("other", "arn:groundfog:events:local:000000000000:event-bus/nope")
    with pytest.raises(ValidationError, match="event bus ARN"):
        events.create_archive("other", "arn:groundfog:events:local:000000000000:rule/r")
    with pytest.raises(ValidationError, match="EventStartTime must be before EventEndTime"):
        events.start_replay("x", archive.archive_arn, 10, 5, {"Arn": BUS})
    events.create_event_bus("elsewhere")
    with pytest.raises(ValidationError, match="Cross event bus replay"):
        events.start_replay("x", archive.archive_arn, 0, 5,
                            {"Arn": "arn:groundfog:events:local:000000000000:event-bus/elsewhere"})
    with pytest.raises(ValidationError, match="not a rule"):
        events.start_replay("x", archive.archive_arn, 0, 5, {"Arn": BUS, "FilterArns": ["arn:nope"]})
    with pytest.raises(ResourceNotFound):
        events.start_replay("x", "arn:groundfog:events:local:000000000000:archive/none", 0, 5, {"Arn": BUS})
    events.delete_archive("arch")
    assert events.list_archives() == []


def test_replay_times_and_retention_out_of_range_are_validation_errors(events):
    # Found by tests/api/test_api_fuzz.py: these were 500s, and the replay row was
    # written before the answer failed.
    archive = events.create_archive("arch", BUS)
    for start, end in ((0, 1e300), (-1e308, 5), (0, 10**400), (0, "nan"), ("0000-12-31T00:00:00Z", 5)):
        with pytest.raises(ValidationError, match="out of range|not a time") as raised:
            events.start_replay("r", archive.archive_arn, start, end, {"Arn": BUS})
        assert raised.value.field in ("EventStartTime", "EventEndTime")
    assert events.list_replays() == []
    with pytest.raises(ValidationError, match="RetentionDays") as raised:
        events.create_archive("other", BUS, retention_days=2**63)
    assert raised.value.field == "RetentionDays"
    assert [a.archive_name for a in events.list_archives()] == ["arch"]


def test_a_name_prefix_longer_than_any_name_is_a_validation_error(events):
    # Found by tests/api/test_api_fuzz.py: SQLite refuses LIKE patterns over 50,000
    # characters, and that was a 500.
    for list_by_prefix in (events.list_archives, events.list_replays, events.list_event_buses, events.list_rules):
        with pytest.raises(ValidationError, match="NamePrefix must be at most") as raised:
            list_by_prefix(name_prefix="a" * 70_000)
        assert raised.value.field == "NamePrefix"
