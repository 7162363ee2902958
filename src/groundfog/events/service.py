"""The events service: EventBridge buses, rules and targets, Lambda-like functions,
SNS-like topics, archives and replays, all delivered through one durable outbox.

>>> events = EventsService(config=config, state=state, clock=Clock())  # doctest: +SKIP
>>> fn = events.create_function("audit", handler="shop.audit:handler")  # doctest: +SKIP
>>> events.put_rule("uploads", event_pattern={"source": ["aws.s3"]})    # doctest: +SKIP
>>> events.put_targets("uploads", [{"Id": "audit", "Arn": fn.function_arn}])  # doctest: +SKIP
>>> events.put_events([{"Source": "aws.s3", "DetailType": "Object Created",
...                     "Detail": '{"key": "a"}'}])  # doctest: +SKIP
{'FailedEntryCount': 0, 'Entries': [{'EventId': '...'}]}
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from groundfog.core.errors import PayloadTooLarge, ResourceNotFound, ValidationError
from groundfog.core.names import ACCOUNT, REGION, name_from_arn
from groundfog.core.service import Service, operation
from groundfog.core.text import check_text
from groundfog.core.times import epoch_seconds
from groundfog.events import tables as t
from groundfog.events.archives import ArchiveOperations
from groundfog.events.delivery import Dispatcher, Failure, Outcome, attempt, outbox_row
from groundfog.events.functions import FunctionOperations, FunctionRegistry
from groundfog.events.models import DeadLetter
from groundfog.events.routing import Snapshot, event_size, iso, load_snapshot
from groundfog.events.rules import RuleOperations, bus_name
from groundfog.events.schedules import ScheduleRunner
from groundfog.events.targets import TargetRegistry, parse_arn, shape_input
from groundfog.events.topics import TopicsService

MAX_ENTRIES = 10


def entry_size(entry: dict[str, Any]) -> int:
    """PutEvents entry size as AWS documents it: Time 14 bytes, then the UTF-8 bytes of
    Source, DetailType, Detail and each of Resources."""

    def n(value: Any) -> int:
        if value is None:
            return 0
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        return len(text.encode("utf-8"))

    size = 14 if entry.get("Time") is not None else 0
    size += n(entry.get("Source")) + n(entry.get("DetailType")) + n(entry.get("Detail"))
    resources = entry.get("Resources")
    return size + (sum(n(r) for r in resources) if isinstance(resources, list) else 0)


def _entry_error(code: str, message: str) -> dict[str, str]:
    return {"ErrorCode": code, "ErrorMessage": message}


def _missing(field: str) -> dict[str, str]:
    return _entry_error("InvalidArgument", f"Parameter {field} is not valid. Reason: {field} is a required argument.")


class EventsService(RuleOperations, FunctionOperations, ArchiveOperations, Service):
    """EventBridge + Lambda-like functions; ``self.topics`` is the SNS-like half.

    Implements ``groundfog.core.bus.Bus`` for the other services. ``retry_base_seconds``
    scales the retry backoff (tests shrink it); ``lease_seconds`` is how long a claimed
    outbox row stays with this process before another may take it over.
    """

    name = "events"

    def __init__(
        self, *, config: Any, state: Any, clock: Any, retry_base_seconds: float = 1.0,
        lease_seconds: float = 300.0, workers: int = 4,
    ) -> None:
        super().__init__(config=config, state=state, clock=clock)
        self.targets = TargetRegistry()
        self.functions = FunctionRegistry(state)
        self.topics = TopicsService(config=config, state=state, clock=clock, events=self)
        self.dispatcher = Dispatcher(
            state=state, clock=clock,
            handlers={"event": self._process_event, "delivery": self._process_delivery,
                      "publish": self.topics.process_publish},
            load_snapshot=self._load_snapshot, on_dead_letter=self._dead_letter_rows,
            workers=workers, lease_seconds=lease_seconds, retry_base=retry_base_seconds,
        )
        self.schedules = ScheduleRunner(state=state, clock=clock, wake_dispatcher=self.dispatcher.wake,
                                        purge=self.purge_archives)
        self.register_target_type("events", "function", self.functions.invoke_arn, self.functions.exists)
        self.register_target_type("events", "topic", self.topics.publish_from_target, self.topics.topic_exists)
        self.targets.register("events", "subscription", self.topics.deliver, self.topics.subscription_exists,
                              hidden=True)
        self.register_target_type("events", "event-bus", self._forward_to_bus, self._bus_exists)

    def register_target_type(
        self, service: str, resource_type: str, invoker: Callable[[str, Any], None], exists: Callable[[str], bool]
    ) -> None:
        """Make ``arn:groundfog:<service>:...:<resource_type>/<name>`` a valid target.

        ``invoker(arn, payload)`` delivers (raise to have it retried; raise
        ``ResourceNotFound`` when the resource is gone, to dead-letter at once);
        ``exists(arn)`` is checked when a rule or a ``send`` names the target.
        """
        self.targets.register(service, resource_type, invoker, exists)

    # ---- the Bus protocol ----------------------------------------------------------

    def emit(
        self, source: str, detail_type: str, detail: dict[str, Any], *, resources: Sequence[str] = (),
        bus: str = "default",
    ) -> str:
        """Put one event on a bus (durable on return); returns its id."""
        if not isinstance(detail, dict):
            raise ValidationError(f"detail must be a JSON object, got {type(detail).__name__}", field="Detail")
        entry = {"Source": source, "DetailType": detail_type, "Detail": detail, "Resources": list(resources)}
        size = entry_size(entry)
        if size > self.config.max_event_bytes:
            raise PayloadTooLarge(f"event is {size} bytes; the maximum is {self.config.max_event_bytes}", field="Detail")
        event = self._event(source, detail_type, detail, list(resources), self.clock.time())
        now = self.clock.time()
        with self.state.write() as conn:
            self._require_bus(conn, bus_name(bus))
            conn.execute(t.outbox.insert(), [outbox_row("event", bus_name(bus), event, {"first_at": now}, now=now)])
        self.dispatcher.wake()
        return event["id"]

    def send(self, target_arn: str, payload: dict[str, Any], *, subject: str | None = None) -> str:
        """Deliver ``payload`` to one target (function, topic, ...) without rules; returns an
        id. ``subject`` is the SNS Subject when the target is a topic."""
        parsed = self.check_target(target_arn)
        if parsed.key == "events:topic":
            message = payload if isinstance(payload, str) else json.dumps(payload)
            return self.topics.publish(target_arn, message, subject=subject)["MessageId"]
        delivery_id = str(uuid.uuid4())
        now = self.clock.time()
        with self.state.write() as conn:
            conn.execute(t.outbox.insert(), [
                outbox_row("delivery", target_arn, payload, {"event_id": delivery_id, "first_at": now}, now=now)
            ])
        self.dispatcher.wake()
        return delivery_id

    def check_target(self, target_arn: str, *, allowed_types: Sequence[str] = ()) -> Any:
        """Raise ``ValidationError`` unless the ARN names an existing, deliverable target."""
        return self.targets.check(target_arn, field="TargetArn", allowed_types=allowed_types)

    # ---- PutEvents -----------------------------------------------------------------

    @operation
    def put_events(self, entries: list[dict]) -> dict:
        """PutEvents: up to 10 entries; each gets an ``EventId`` or an ``ErrorCode``.

        Entries carry ``Source``, ``DetailType``, ``Detail`` (a JSON object, as text),
        optionally ``Resources``, ``Time`` and ``EventBusName`` (name or ARN). The
        accepted ones are in the outbox, in one transaction, when this returns.
        """
        if not isinstance(entries, list) or not entries:
            raise ValidationError("Entries must be a list of 1-10 entries", field="Entries")
        if len(entries) > MAX_ENTRIES:
            raise ValidationError(
                f"1 validation error detected: Value at 'entries' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_ENTRIES} (got {len(entries)})",
                field="Entries",
            )
        total = sum(entry_size(e) for e in entries if isinstance(e, dict))
        if total > self.config.max_event_bytes:
            raise PayloadTooLarge(
                f"Total size of the entries in the request is over the limit: {total} bytes "
                f"(the maximum is {self.config.max_event_bytes})",
                field="Entries",
            )
        now = self.clock.time()
        results: list[dict[str, str]] = []
        rows: list[dict[str, Any]] = []
        with self.state.write() as conn:
            # A bad EventBusName fails its own entry (in _entry_event), not the request.
            refs = [e.get("EventBusName") for e in entries if isinstance(e, dict)]
            wanted = {bus_name(ref) for ref in refs if ref is None or isinstance(ref, str)}
            buses = set(conn.execute(sa.select(t.buses.c.name).where(t.buses.c.name.in_(wanted))).scalars())
            for entry in entries:
                event, bus = self._entry_event(entry, now, buses)
                if bus is None:
                    results.append(event)
                    continue
                rows.append(outbox_row("event", bus, event, {"first_at": now}, now=now))
                results.append({"EventId": event["id"]})
            if rows:
                conn.execute(t.outbox.insert(), rows)
        if rows:
            self.dispatcher.wake()
        return {"FailedEntryCount": len(entries) - len(rows), "Entries": results}

    def _entry_event(self, entry: Any, now: float, buses: set[str]) -> tuple[dict[str, Any], str | None]:
        if not isinstance(entry, dict):
            return _entry_error("InvalidArgument", "Each entry must be an object"), None
        for field in ("Source", "DetailType", "Detail"):
            if not entry.get(field):
                return _missing(field), None
        source, detail_type, detail = entry["Source"], entry["DetailType"], entry["Detail"]
        if not isinstance(source, str) or len(source) > 256:
            return _entry_error("InvalidArgument", "Parameter Source is not valid. Reason: at most 256 characters."), None
        if not isinstance(detail_type, str) or len(detail_type) > 128:
            return _entry_error(
                "InvalidArgument", "Parameter DetailType is not valid. Reason: at most 128 characters."), None
        if isinstance(detail, str):
            try:
                detail = json.loads(detail)
            except ValueError:
                detail = None
        if not isinstance(detail, dict):
            return _entry_error("MalformedDetail", "Detail is malformed."), None
        try:
            check_text(detail, "Detail")  # JSON text can escape what no store takes (\u0000)
        except ValidationError as exc:
            return _entry_error("MalformedDetail", f"Detail is malformed: {exc}"), None
        resources = entry.get("Resources") or []
        if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
            return _entry_error("InvalidArgument", "Parameter Resources is not valid. Reason: a list of strings."), None
        when = now
        if entry.get("Time") is not None:
            try:
                when = epoch_seconds(entry["Time"], "Time")
            except ValidationError:
                return _entry_error("InvalidArgument", f"Parameter Time is not valid: {entry['Time']!r}"), None
        try:
            bus = bus_name(entry.get("EventBusName"))
        except ValidationError as exc:
            return _entry_error("InvalidArgument", f"Parameter EventBusName is not valid. Reason: {exc}"), None
        if bus not in buses:
            return _entry_error("ResourceNotFoundException", f"Event bus {bus} does not exist."), None
        return self._event(source, detail_type, detail, resources, when), bus

    @staticmethod
    def _event(source: str, detail_type: str, detail: dict, resources: list[str], when: float) -> dict[str, Any]:
        return {
            "version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type, "source": source,
            "account": ACCOUNT, "time": iso(when), "region": REGION, "resources": resources, "detail": detail,
        }

    # ---- delivery (called by the dispatcher) ---------------------------------------

    def _load_snapshot(self, conn: sa.Connection) -> Snapshot:
        snapshot = load_snapshot(conn)
        self.functions.refresh(snapshot.functions)
        return snapshot

    def _process_event(self, row: Any, snapshot: Snapshot) -> Outcome:
        event, meta = row.payload, row.meta
        outcome = Outcome()
        if meta.get("schedule_rule"):
            rule = snapshot.rules_by_arn.get(meta["schedule_rule"])
            rules = [rule] if rule is not None else []
        else:
            rules = snapshot.matching_rules(row.target, event, meta.get("filter_rules"))
            if "replay-name" not in event:
                self._archive(row, snapshot, outcome)
        first_at = float(meta.get("first_at", row.created_at))
        for rule in rules:
            for target in rule.targets:
                spec = target.spec
                tmeta = {
                    "event_id": event.get("id"), "rule_arn": rule.arn, "target_id": target.id, "first_at": first_at,
                    "retry": spec.get("RetryPolicy"), "dead_letter_arn": (spec.get("DeadLetterConfig") or {}).get("Arn"),
                }
                try:
                    payload = shape_input(spec, event, rule.arn, rule.name, first_at)
                except Exception as exc:  # cannot shape it now, cannot later: straight to dead letters
                    outcome.failures.append(Failure(target.arn, event, tmeta, 1, f"input: {exc}", permanent=True))
                    continue
                failure = attempt(self.targets.invoke, target.arn, payload, tmeta, 0)
                if failure is not None:
                    outcome.failures.append(failure)
        return outcome

    def _archive(self, row: Any, snapshot: Snapshot, outcome: Outcome) -> None:
        event = row.payload
        for archive in snapshot.archives_by_bus.get(row.target, ()):
            if archive.pattern is None or archive.pattern.matches(event):
                when = epoch_seconds(event.get("time", row.created_at), "time")
                outcome.inserts.append((t.archive_events, {
                    "archive": archive.name, "event_time": when, "event": event, "size_bytes": event_size(event),
                    "archived_at": self.clock.time(),
                }))

    def _process_delivery(self, row: Any, snapshot: Snapshot) -> Outcome:
        failure = attempt(self.targets.invoke, row.target, row.payload, row.meta, row.attempts)
        return Outcome(failures=[failure] if failure else [])

    def _dead_letter_rows(self, failure: Failure, now: float) -> list[dict[str, Any]]:
        """Also publish to the target's DeadLetterConfig topic, with AWS's attributes."""
        dlq = failure.meta.get("dead_letter_arn")
        parsed = parse_arn(dlq)
        if parsed is None or parsed.key != "events:topic":
            return []
        message = failure.payload if isinstance(failure.payload, str) else json.dumps(failure.payload)
        attributes = {"ERROR_MESSAGE": failure.error[:1000], "TARGET_ARN": failure.target,
                      "RULE_ARN": failure.meta.get("rule_arn") or "", "ERROR_CODE": "DeliveryFailed"}
        try:
            return [self.topics.publish_row(parsed.name, message, {k: v for k, v in attributes.items() if v}, now)]
        except ValidationError:
            return []

    def _forward_to_bus(self, target_arn: str, payload: Any) -> None:
        """Invoker of ``event-bus`` targets: the event goes on the other bus, as is."""
        if not isinstance(payload, dict) or "detail-type" not in payload:
            raise ResourceNotFound(f"only whole events can be sent to event bus {target_arn}")
        bus = name_from_arn(target_arn)
        now = self.clock.time()
        with self.state.write() as conn:
            self._require_bus(conn, bus)
            conn.execute(t.outbox.insert(), [outbox_row("event", bus, payload, {"first_at": now}, now=now)])
        self.dispatcher.wake()

    def _bus_exists(self, target_arn: str) -> bool:
        with self.state.read() as conn:
            return self._bus_row(conn, name_from_arn(target_arn)) is not None

    # ---- dead letters, schedules, lifecycle ----------------------------------------

    @operation
    def list_dead_letters(self, target_arn: str | None = None, limit: int = 100) -> list[DeadLetter]:
        """Deliveries that exhausted their retries or event age, newest first."""
        d = t.dead_letters.c
        query = sa.select(t.dead_letters).order_by(d.id.desc()).limit(max(1, min(int(limit), 10000)))
        if target_arn:
            query = query.where(d.target_arn == target_arn)
        with self.state.read() as conn:
            rows = conn.execute(query).all()
        return [
            DeadLetter(id=r.id, target_arn=r.target_arn, payload=r.payload, error=r.error, attempts=r.attempts,
                       failed_at=datetime.fromtimestamp(r.failed_at, timezone.utc), event_id=r.event_id,
                       rule_arn=r.rule_arn, target_id=r.target_id)
            for r in rows
        ]

    def run_due_schedules(self, now: datetime | None = None) -> int:
        """Fire the schedule rules due at ``now`` (default: the clock's now); returns events fired."""
        return self.schedules.run_due(now)

    def _schedules_changed(self) -> None:
        self.schedules.changed()

    def drain(self, timeout: float = 10.0, *, retries: bool = False) -> bool:
        """Wait until nothing in the outbox is due or being delivered (with ``retries``,
        until nothing is scheduled at all); True if that happened within ``timeout``."""
        return self.dispatcher.drain(timeout, retries=retries)

    def start_background(self) -> None:
        """Deliver continuously, pick up rows other processes left, fire schedules."""
        self.dispatcher.sweep(True)
        self.schedules.start()

    def close(self) -> None:
        """Stop the loops after delivering what is due (bounded); the rest stays queued."""
        self.schedules.stop()
        self.dispatcher.close()
        self.topics.shutdown()
