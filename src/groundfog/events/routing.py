"""The dispatcher's in-memory view of the configuration: compiled, immutable, swapped whole.

``load_snapshot`` reads buses' rules and targets, archives, topics, subscriptions and
functions in the claim transaction whenever the config counter moved, compiling each
pattern and filter policy once; matching an event is then pure in-memory work.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from groundfog.core.errors import ValidationError
from groundfog.core.names import arn
from groundfog.events import tables as t
from groundfog.events.functions import function_spec
from groundfog.events.filter_policy import FilterPolicy
from groundfog.events.patterns import CompiledPattern, compile_pattern

log = logging.getLogger("groundfog.events")


def bus_arn(bus: str) -> str:
    return arn("events", "event-bus", bus)


def rule_arn(bus: str, name: str) -> str:
    """EventBridge's form: ``rule/<name>`` on the default bus, ``rule/<bus>/<name>`` elsewhere."""
    return arn("events", "rule", name if bus == "default" else f"{bus}/{name}")


def topic_arn(name: str) -> str:
    return arn("events", "topic", name)


def iso(epoch: float) -> str:
    """EventBridge's event time format: ``2026-01-01T00:00:00Z``."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class RouteTarget:
    id: str
    arn: str
    spec: dict[str, Any]


@dataclass(frozen=True)
class RouteRule:
    bus: str
    name: str
    arn: str
    pattern: CompiledPattern | None
    enabled: bool
    targets: tuple[RouteTarget, ...]


@dataclass(frozen=True)
class RouteArchive:
    name: str
    pattern: CompiledPattern | None


@dataclass(frozen=True)
class RouteSubscription:
    arn: str
    topic: str
    protocol: str
    endpoint: str
    raw: bool
    policy: FilterPolicy | None


@dataclass(frozen=True)
class Snapshot:
    rules_by_bus: dict[str, tuple[RouteRule, ...]]
    rules_by_arn: dict[str, RouteRule]
    archives_by_bus: dict[str, tuple[RouteArchive, ...]]
    topics: frozenset[str]
    subscriptions_by_topic: dict[str, tuple[RouteSubscription, ...]]
    subscriptions_by_arn: dict[str, RouteSubscription]
    functions: dict[str, tuple[str, str | None, float]]

    def matching_rules(self, bus: str, event: dict[str, Any], only: list[str] | None = None) -> list[RouteRule]:
        """Enabled pattern rules of ``bus`` that match (restricted to ``only`` ARNs if given)."""
        found = []
        for rule in self.rules_by_bus.get(bus, ()):
            if not rule.enabled or rule.pattern is None or (only and rule.arn not in only):
                continue
            if rule.pattern.matches(event):
                found.append(rule)
        return found


def _compiled(text: str | None, what: str) -> CompiledPattern | None:
    if text is None:
        return None
    try:
        return compile_pattern(text)
    except ValidationError as exc:  # stored before a rule change in the pattern language
        log.error("events: %s has a pattern that no longer compiles (%s); it matches nothing", what, exc)
        return compile_pattern({"groundfog-invalid-pattern": [{"exists": True}]})


def subscription_route(row: Any) -> RouteSubscription:
    attrs = row.attributes or {}
    policy = None
    if attrs.get("FilterPolicy"):
        try:
            policy = FilterPolicy(attrs["FilterPolicy"], attrs.get("FilterPolicyScope") or "MessageAttributes")
        except ValidationError as exc:
            log.error("events: subscription %s has an invalid filter policy (%s)", row.arn, exc)
    return RouteSubscription(
        row.arn, row.topic, row.protocol, row.endpoint, str(attrs.get("RawMessageDelivery", "false")) == "true",
        policy,
    )


def load_snapshot(conn: sa.Connection) -> Snapshot:
    targets: dict[tuple[str, str], list[RouteTarget]] = {}
    for row in conn.execute(sa.select(t.targets).order_by(t.targets.c.created_at, t.targets.c.id)):
        targets.setdefault((row.bus, row.rule), []).append(RouteTarget(row.id, row.arn, row.spec))
    by_bus: dict[str, list[RouteRule]] = {}
    by_arn: dict[str, RouteRule] = {}
    for row in conn.execute(sa.select(t.rules).order_by(t.rules.c.bus, t.rules.c.name)):
        the_arn = rule_arn(row.bus, row.name)
        rule = RouteRule(
            row.bus, row.name, the_arn, _compiled(row.event_pattern, f"rule {the_arn}"), row.state == "ENABLED",
            tuple(targets.get((row.bus, row.name), ())),
        )
        by_bus.setdefault(row.bus, []).append(rule)
        by_arn[the_arn] = rule
    archives: dict[str, list[RouteArchive]] = {}
    for row in conn.execute(sa.select(t.archives)):
        archives.setdefault(row.bus, []).append(RouteArchive(row.name, _compiled(row.event_pattern, row.name)))
    subs: dict[str, list[RouteSubscription]] = {}
    subs_by_arn: dict[str, RouteSubscription] = {}
    for row in conn.execute(sa.select(t.subscriptions).order_by(t.subscriptions.c.created_at)):
        sub = subscription_route(row)
        subs.setdefault(row.topic, []).append(sub)
        subs_by_arn[row.arn] = sub
    topics = frozenset(conn.execute(sa.select(t.topics.c.name)).scalars())
    functions = {r.name: function_spec(r) for r in conn.execute(sa.select(t.functions))}
    return Snapshot(
        {k: tuple(v) for k, v in by_bus.items()}, by_arn, {k: tuple(v) for k, v in archives.items()}, topics,
        {k: tuple(v) for k, v in subs.items()}, subs_by_arn, functions,
    )


def event_size(event: dict[str, Any]) -> int:
    return len(json.dumps(event, separators=(",", ":")).encode())
