"""Event buses, rules and targets: the EventBridge configuration operations.

Every change bumps the config counter in the same transaction, so every dispatcher
(this process's or another's) routes by it from its next claim on.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError as PydanticError

from groundfog.core.errors import AlreadyExists, LimitExceeded, ResourceInUse, ResourceNotFound, ValidationError
from groundfog.core.names import EVENTS_NAME, name_from_arn, validate_name, validate_prefix
from groundfog.core.schedule import parse_schedule
from groundfog.core.service import operation
from groundfog.events import tables as t
from groundfog.events.models import EventBus, Rule, Target
from groundfog.events.patterns import compile_pattern, test_event_pattern
from groundfog.events.routing import bus_arn, rule_arn
from groundfog.events.targets import TargetRegistry, check_pipeline_parameters, parse_path, validate_transformer

MAX_RULES_PER_BUS = 300
MAX_TARGETS_PER_RULE = 5
RULE_STATES = ("ENABLED", "DISABLED")


def _dt(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc)


def _rule_model(row: Any) -> Rule:
    return Rule(
        name=row.name, arn=rule_arn(row.bus, row.name), event_bus_name=row.bus, state=row.state,
        event_pattern=row.event_pattern, schedule_expression=row.schedule_expression,
        description=row.description, next_fire_time=_dt(row.next_fire_at),
    )


def _bus_model(row: Any) -> EventBus:
    return EventBus(name=row.name, arn=bus_arn(row.name), description=row.description,
                    creation_time=_dt(row.created_at))


def bus_name(value: object) -> str:
    """A bus name from a name or an event-bus ARN; None (or "") means the default bus."""
    if value is None or value == "":
        return "default"
    if not isinstance(value, str):
        raise ValidationError(
            f"EventBusName must be a name or an ARN (a string), got {type(value).__name__}", field="EventBusName"
        )
    return name_from_arn(value)


class RuleOperations:
    """The bus, rule and target operations of ``EventsService`` (a mixin)."""

    state: Any
    clock: Any
    targets: TargetRegistry

    # ---- buses ---------------------------------------------------------------------

    @operation
    def create_event_bus(self, name: str, description: str | None = None) -> EventBus:
        """Create a custom event bus (``default`` always exists)."""
        validate_name(name, "Name", pattern=EVENTS_NAME, max_length=256)
        if description is not None and len(description) > 512:
            raise ValidationError("Description must be at most 512 characters", field="Description")
        with self.state.write() as conn:
            if self._bus_row(conn, name) is not None:
                raise AlreadyExists(f"Event bus {name} already exists.", field="Name")
            conn.execute(t.buses.insert().values(name=name, description=description, created_at=self.clock.time()))
            t.bump_config(conn)
            return _bus_model(self._bus_row(conn, name))

    @operation
    def list_event_buses(self, name_prefix: str | None = None) -> list[EventBus]:
        query = sa.select(t.buses).order_by(t.buses.c.name)
        if name_prefix:
            validate_prefix(name_prefix, "NamePrefix", max_length=256)
            query = query.where(t.buses.c.name.startswith(name_prefix, autoescape=True))
        with self.state.read() as conn:
            return [_bus_model(r) for r in conn.execute(query)]

    @operation
    def describe_event_bus(self, name: str = "default") -> EventBus:
        with self.state.read() as conn:
            return _bus_model(self._require_bus(conn, bus_name(name)))

    @operation
    def delete_event_bus(self, name: str) -> None:
        """Delete a custom bus; its rules and archives must be deleted first."""
        name = bus_name(name)
        if name == "default":
            raise ValidationError("Cannot delete event bus default.", field="Name")
        with self.state.write() as conn:
            self._require_bus(conn, name)
            for table, what in ((t.rules, "rules"), (t.archives, "archives")):
                used = conn.execute(sa.select(table.c.name).where(table.c.bus == name).limit(3)).scalars().all()
                if used:
                    raise ResourceInUse(
                        f"Event bus {name} still has {what} ({', '.join(used)}); delete them first.", field="Name"
                    )
            conn.execute(t.buses.delete().where(t.buses.c.name == name))
            t.bump_config(conn)

    # ---- rules ---------------------------------------------------------------------

    @operation
    def put_rule(
        self,
        name: str,
        event_pattern: str | dict | None = None,
        schedule_expression: str | None = None,
        state: str = "ENABLED",
        description: str | None = None,
        event_bus_name: str = "default",
    ) -> dict:
        """Create or update a rule: an event pattern, or a schedule (default bus only)."""
        validate_name(name, "Name", pattern=EVENTS_NAME, max_length=64)
        bus = bus_name(event_bus_name)
        if state not in RULE_STATES:
            raise ValidationError(f"State {state!r} must be ENABLED or DISABLED", field="State")
        if description is not None and len(description) > 512:
            raise ValidationError("Description must be at most 512 characters", field="Description")
        if (event_pattern is None) == (schedule_expression is None):
            raise ValidationError(
                "Parameter(s) EventPattern or ScheduleExpression must be specified (exactly one of them).",
                field="EventPattern",
            )
        pattern_text = None
        if event_pattern is not None:
            compiled = compile_pattern(event_pattern)
            pattern_text = event_pattern if isinstance(event_pattern, str) else compiled.source
        next_fire = None
        if schedule_expression is not None:
            if bus != "default":
                raise ValidationError(
                    "ScheduleExpression is supported only on the default event bus.", field="ScheduleExpression"
                )
            schedule = parse_schedule(schedule_expression)
            if state == "ENABLED":
                upcoming = schedule.next_after(self.clock.now())
                next_fire = upcoming.timestamp() if upcoming else None
        with self.state.write() as conn:
            self._require_bus(conn, bus)
            old = self._rule_row(conn, bus, name)
            values = dict(event_pattern=pattern_text, schedule_expression=schedule_expression, state=state,
                          description=description, next_fire_at=next_fire)
            if old is None:
                count = conn.execute(sa.select(sa.func.count()).select_from(t.rules).where(t.rules.c.bus == bus)).scalar_one()
                if count >= MAX_RULES_PER_BUS:
                    raise LimitExceeded(f"Event bus {bus} already has {count} rules (the limit).", field="Name")
                conn.execute(t.rules.insert().values(bus=bus, name=name, created_at=self.clock.time(), **values))
            else:
                if (old.schedule_expression, old.state) == (schedule_expression, state):
                    values["next_fire_at"] = old.next_fire_at  # an unrelated edit must not move the schedule
                conn.execute(t.rules.update().where(t.rules.c.bus == bus, t.rules.c.name == name).values(**values))
            t.bump_config(conn)
        self._schedules_changed()
        return {"RuleArn": rule_arn(bus, name)}

    @operation
    def describe_rule(self, name: str, event_bus_name: str = "default") -> Rule:
        with self.state.read() as conn:
            return _rule_model(self._require_rule(conn, bus_name(event_bus_name), name))

    @operation
    def list_rules(self, name_prefix: str | None = None, event_bus_name: str = "default") -> list[Rule]:
        bus = bus_name(event_bus_name)
        query = sa.select(t.rules).where(t.rules.c.bus == bus).order_by(t.rules.c.name)
        if name_prefix:
            validate_prefix(name_prefix, "NamePrefix", max_length=64)
            query = query.where(t.rules.c.name.startswith(name_prefix, autoescape=True))
        with self.state.read() as conn:
            self._require_bus(conn, bus)
            return [_rule_model(r) for r in conn.execute(query)]

    @operation
    def delete_rule(self, name: str, event_bus_name: str = "default") -> None:
        """Delete a rule; refused while it has targets (remove them first), as in EventBridge."""
        bus = bus_name(event_bus_name)
        with self.state.write() as conn:
            self._require_rule(conn, bus, name)
            if self._target_rows(conn, bus, name):
                raise ResourceInUse("Rule can't be deleted since it has targets.", field="Name")
            conn.execute(t.rules.delete().where(t.rules.c.bus == bus, t.rules.c.name == name))
            t.bump_config(conn)

    @operation
    def enable_rule(self, name: str, event_bus_name: str = "default") -> None:
        self._set_state(name, bus_name(event_bus_name), "ENABLED")

    @operation
    def disable_rule(self, name: str, event_bus_name: str = "default") -> None:
        self._set_state(name, bus_name(event_bus_name), "DISABLED")

    def _set_state(self, name: str, bus: str, state: str) -> None:
        with self.state.write() as conn:
            row = self._require_rule(conn, bus, name)
            if row.state == state:
                return
            next_fire = None
            if state == "ENABLED" and row.schedule_expression:
                # Enabling starts from now: a disabled period is not caught up.
                upcoming = parse_schedule(row.schedule_expression).next_after(self.clock.now())
                next_fire = upcoming.timestamp() if upcoming else None
            conn.execute(
                t.rules.update().where(t.rules.c.bus == bus, t.rules.c.name == name)
                .values(state=state, next_fire_at=next_fire)
            )
            t.bump_config(conn)
        self._schedules_changed()

    # ---- targets -------------------------------------------------------------------

    @operation
    def put_targets(self, rule: str, targets: list[dict], event_bus_name: str = "default") -> dict:
        """Add or replace (by ``Id``) a rule's targets; all are checked before any is saved."""
        bus = bus_name(event_bus_name)
        if not isinstance(targets, list) or not 1 <= len(targets) <= 10:
            raise ValidationError("Targets must be a list of 1-10 targets", field="Targets")
        specs = [self._validate_target(i, raw) for i, raw in enumerate(targets)]
        ids = [s["Id"] for s in specs]
        if len(set(ids)) != len(ids):
            raise ValidationError(f"Targets: duplicate Id in {ids}", field="Targets")
        now = self.clock.time()
        with self.state.write() as conn:
            self._require_rule(conn, bus, rule)
            existing = {r.id for r in self._target_rows(conn, bus, rule)}
            total = len(existing | set(ids))
            if total > MAX_TARGETS_PER_RULE:
                raise LimitExceeded(
                    f"Rule {rule} would have {total} targets; a rule can have at most {MAX_TARGETS_PER_RULE}.",
                    field="Targets",
                )
            key = (t.targets.c.bus == bus) & (t.targets.c.rule == rule)
            conn.execute(t.targets.delete().where(key, t.targets.c.id.in_(ids)))
            conn.execute(t.targets.insert(), [
                {"bus": bus, "rule": rule, "id": s["Id"], "arn": s["Arn"], "spec": s, "created_at": now}
                for s in specs
            ])
            t.bump_config(conn)
        return {"FailedEntryCount": 0, "FailedEntries": []}

    @operation
    def remove_targets(self, rule: str, ids: list[str], event_bus_name: str = "default") -> dict:
        bus = bus_name(event_bus_name)
        with self.state.write() as conn:
            self._require_rule(conn, bus, rule)
            conn.execute(t.targets.delete().where(
                t.targets.c.bus == bus, t.targets.c.rule == rule, t.targets.c.id.in_(list(ids))
            ))
            t.bump_config(conn)
        return {"FailedEntryCount": 0, "FailedEntries": []}

    @operation
    def list_targets_by_rule(self, rule: str, event_bus_name: str = "default") -> list[Target]:
        bus = bus_name(event_bus_name)
        with self.state.read() as conn:
            self._require_rule(conn, bus, rule)
            return [Target.model_validate(r.spec) for r in self._target_rows(conn, bus, rule)]

    @operation
    def test_event_pattern(self, event_pattern: str | dict, event: str | dict) -> bool:
        """TestEventPattern: whether ``event`` (a full event, with id, source, ...) matches."""
        return test_event_pattern(event_pattern, event)

    def _validate_target(self, index: int, raw: Any) -> dict[str, Any]:
        where = f"Targets[{index}]"
        if not isinstance(raw, dict):
            raise ValidationError(f"{where} must be an object with Id and Arn", field=where)
        try:
            target = Target.model_validate(raw)
        except PydanticError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise ValidationError(f"{where}.{loc}: {err['msg']}", field=f"{where}.{loc}") from None
        validate_name(target.id, f"{where}.Id", pattern=EVENTS_NAME, max_length=64)
        label = f"{where} (Id {target.id!r})"
        shaping = [n for n, v in (("Input", target.input), ("InputPath", target.input_path),
                                  ("InputTransformer", target.input_transformer)) if v is not None]
        if len(shaping) > 1:
            raise ValidationError(
                f"{label}: only one of Input, InputPath or InputTransformer may be set, got {' and '.join(shaping)}",
                field=where,
            )
        if target.input is not None:
            if len(target.input) > 8192:
                raise ValidationError(f"{label}.Input must be at most 8192 characters", field=f"{where}.Input")
            try:
                json.loads(target.input)
            except ValueError as exc:
                raise ValidationError(f"{label}.Input is not valid JSON: {exc}", field=f"{where}.Input") from None
        if target.input_path is not None:
            if len(target.input_path) > 256:
                raise ValidationError(f"{label}.InputPath must be at most 256 characters", field=f"{where}.InputPath")
            parse_path(target.input_path, f"{label}.InputPath")
        if target.input_transformer is not None:
            it = target.input_transformer
            validate_transformer(it.input_paths_map, it.input_template, f"{label}.InputTransformer")
        if target.sage_maker_pipeline_parameters is not None:
            check_pipeline_parameters(target, label, where)
        if target.retry_policy is not None:
            rp = target.retry_policy
            if not 0 <= rp.maximum_retry_attempts <= 185:
                raise ValidationError(f"{label}.RetryPolicy.MaximumRetryAttempts must be 0-185", field=where)
            if not 60 <= rp.maximum_event_age_in_seconds <= 86400:
                raise ValidationError(f"{label}.RetryPolicy.MaximumEventAgeInSeconds must be 60-86400", field=where)
        if target.dead_letter_config is not None:
            self.targets.check(target.dead_letter_config.arn, field=f"{label}.DeadLetterConfig.Arn",
                               allowed_types=("topic",))
        try:
            self.targets.check(target.arn, field=f"{label}: target Arn")
        except ValidationError as exc:
            raise ValidationError(exc.message, field=f"{where}.Arn") from None
        return target.model_dump(by_alias=True, exclude_none=True)

    # ---- lookups -------------------------------------------------------------------

    def _schedules_changed(self) -> None:
        """Hook for the schedule loop (set by the service)."""

    @staticmethod
    def _bus_row(conn: sa.Connection, name: str) -> Any:
        return conn.execute(sa.select(t.buses).where(t.buses.c.name == name)).first()

    def _require_bus(self, conn: sa.Connection, name: str) -> Any:
        row = self._bus_row(conn, name)
        if row is None:
            raise ResourceNotFound(f"Event bus {name} does not exist.", field="EventBusName")
        return row

    @staticmethod
    def _rule_row(conn: sa.Connection, bus: str, name: str) -> Any:
        return conn.execute(sa.select(t.rules).where(t.rules.c.bus == bus, t.rules.c.name == name)).first()

    def _require_rule(self, conn: sa.Connection, bus: str, name: str) -> Any:
        row = self._rule_row(conn, bus, name)
        if row is None:
            self._require_bus(conn, bus)
            raise ResourceNotFound(f"Rule {name} does not exist on EventBus {bus}.", field="Name")
        return row

    @staticmethod
    def _target_rows(conn: sa.Connection, bus: str, rule: str) -> list[Any]:
        return conn.execute(
            sa.select(t.targets).where(t.targets.c.bus == bus, t.targets.c.rule == rule)
            .order_by(t.targets.c.created_at, t.targets.c.id)
        ).all()

