"""The events service's tables: configuration, the durable outbox, archives, dead letters.

Configuration tables (buses, rules, targets, functions, topics, subscriptions,
archives) are read by every process's dispatcher through an in-memory snapshot;
``events_counters.config`` is bumped in the same transaction as any change to them,
so a dispatcher sees a rule changed by another process (CLI vs server) at its next
claim.

``events_outbox`` holds work not yet done, one row per unit:

    kind      target             payload                  done when
    event     bus name           the EventBridge event    matched, and every target tried
    delivery  target ARN         the (transformed) input  the target accepted it
    publish   topic ARN          the SNS notification     every subscription tried

A row is ``pending`` (claimable once ``available_at`` has passed) or ``leased`` by one
dispatcher until ``lease_expires_at``; an expired lease is anybody's. Rows are deleted
when done; failures spawn ``delivery`` rows with a later ``available_at``.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from groundfog.core.state import Migration, RowId, Timestamp, create_tables, metadata, register_migrations

_ARN = sa.String(1600)

buses = sa.Table(
    "events_buses",
    metadata,
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("description", sa.String(512)),
    sa.Column("created_at", Timestamp, nullable=False),
)

rules = sa.Table(
    "events_rules",
    metadata,
    sa.Column("bus", sa.String(256), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("event_pattern", sa.Text),
    sa.Column("schedule_expression", sa.String(256)),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("description", sa.String(512)),
    sa.Column("created_at", Timestamp, nullable=False),
    # Schedule rules only: the next fire time not yet fired (compare-and-set on firing).
    sa.Column("next_fire_at", Timestamp),
)

targets = sa.Table(
    "events_targets",
    metadata,
    sa.Column("bus", sa.String(256), primary_key=True),
    sa.Column("rule", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("arn", _ARN, nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),  # the Target model, by alias
    sa.Column("created_at", Timestamp, nullable=False),
)

functions = sa.Table(
    "events_functions",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("handler", sa.String(512), nullable=False),
    sa.Column("code_path", sa.String(4096)),
    sa.Column("description", sa.String(256)),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("timeout_seconds", sa.Float, nullable=True),  # None: Lambda's default
)

topics = sa.Table(
    "events_topics",
    metadata,
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("created_at", Timestamp, nullable=False),
)

subscriptions = sa.Table(
    "events_subscriptions",
    metadata,
    sa.Column("arn", _ARN, primary_key=True),
    sa.Column("topic", sa.String(256), nullable=False, index=True),
    sa.Column("protocol", sa.String(16), nullable=False),
    sa.Column("endpoint", sa.String(4096), nullable=False),
    sa.Column("attributes", sa.JSON, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)

counters = sa.Table(
    "events_counters",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

outbox = sa.Table(
    "events_outbox",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("target", _ARN, nullable=False),
    sa.Column("payload", sa.JSON),
    sa.Column("meta", sa.JSON, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("available_at", Timestamp, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("lease_owner", sa.String(64)),
    sa.Column("lease_expires_at", Timestamp),
    sa.Index("ix_events_outbox_due", "status", "available_at"),
)

dead_letters = sa.Table(
    "events_dead_letters",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("target_arn", _ARN, nullable=False),
    sa.Column("payload", sa.JSON),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("event_id", sa.String(64)),
    sa.Column("rule_arn", _ARN),
    sa.Column("target_id", sa.String(64)),
    sa.Column("failed_at", Timestamp, nullable=False),
)

archives = sa.Table(
    "events_archives",
    metadata,
    sa.Column("name", sa.String(48), primary_key=True),
    sa.Column("bus", sa.String(256), nullable=False),
    sa.Column("event_pattern", sa.Text),
    sa.Column("description", sa.String(512)),
    sa.Column("retention_days", sa.Integer, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)

archive_events = sa.Table(
    "events_archive_events",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("archive", sa.String(48), nullable=False),
    sa.Column("event_time", Timestamp, nullable=False),
    sa.Column("event", sa.JSON, nullable=False),
    sa.Column("size_bytes", sa.Integer, nullable=False),
    sa.Column("archived_at", Timestamp, nullable=False),
    sa.Index("ix_events_archive_events_time", "archive", "event_time"),
)

replays = sa.Table(
    "events_replays",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("archive", sa.String(48), nullable=False),
    sa.Column("description", sa.String(512)),
    sa.Column("destination", sa.JSON, nullable=False),
    sa.Column("event_start_time", Timestamp, nullable=False),
    sa.Column("event_end_time", Timestamp, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("state_reason", sa.String(512)),
    sa.Column("events_replayed", sa.Integer, nullable=False),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("ended_at", Timestamp),
    sa.Column("last_event_time", Timestamp),
)

_ALL = (
    buses, rules, targets, functions, topics, subscriptions, counters, outbox, dead_letters,
    archives, archive_events, replays,
)


def _initial(op: Any) -> None:
    create_tables(*_ALL)(op)
    conn = op.get_bind()
    conn.execute(counters.insert().values(name="config", value=0))
    # Every account has the default bus; it cannot be deleted.
    conn.execute(buses.insert().values(name="default", description=None, created_at=time.time()))


def _add_function_timeouts(op: Any) -> None:
    # The 0001 tables are created from the current definitions, which already have it.
    existing = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("events_functions")}
    if "timeout_seconds" not in existing:
        op.add_column("events_functions", sa.Column("timeout_seconds", sa.Float, nullable=True))


register_migrations(
    Migration("events", "0001_initial", _initial),
    Migration("events", "0002_function_timeouts", _add_function_timeouts),
)


def bump_config(conn: sa.Connection) -> None:
    """Tell every dispatcher (any process) that rules/targets/topics/... changed."""
    conn.execute(counters.update().where(counters.c.name == "config").values(value=counters.c.value + 1))
