"""Archives and replays: keep the events that pass through a bus, send them again later.

An archive stores every event of its bus that matches its pattern (all of them without
one) as the dispatcher routes it; replayed events are never archived again. A replay
puts the archived events whose ``time`` lies in ``[EventStartTime, EventEndTime)`` back
on the bus, each carrying ``replay-name``, to all rules or only ``FilterArns``. The
events are in the outbox when ``start_replay`` returns (state ``COMPLETED``); delivery
follows as for any event.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError as PydanticError

from groundfog.core.errors import AlreadyExists, ResourceNotFound, ValidationError
from groundfog.core.names import EVENTS_NAME, arn, name_from_arn, validate_name, validate_prefix
from groundfog.core.service import operation
from groundfog.core.times import epoch_seconds
from groundfog.events import tables as t
from groundfog.events.delivery import outbox_row
from groundfog.events.models import Archive, Replay, ReplayDestination
from groundfog.events.patterns import compile_pattern
from groundfog.events.routing import bus_arn, rule_arn
from groundfog.events.targets import parse_arn

MAX_RETENTION_DAYS = 2**31 - 1  # what the 32-bit column holds; EventBridge sets no lower limit


def _dt(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc)


def archive_arn(name: str) -> str:
    return arn("events", "archive", name)


class ArchiveOperations:
    """The archive and replay operations of ``EventsService`` (a mixin)."""

    state: Any
    clock: Any
    dispatcher: Any

    @operation
    def create_archive(
        self,
        name: str,
        event_source_arn: str,
        event_pattern: str | dict | None = None,
        retention_days: int = 0,
        description: str | None = None,
    ) -> Archive:
        """Archive the events of a bus (``event_source_arn``); 0 retention days keeps them forever."""
        validate_name(name, "ArchiveName", pattern=EVENTS_NAME, max_length=48)
        bus = self._source_bus(event_source_arn)
        pattern_text = None
        if event_pattern is not None:
            compiled = compile_pattern(event_pattern)
            pattern_text = event_pattern if isinstance(event_pattern, str) else compiled.source
        if isinstance(retention_days, bool) or not isinstance(retention_days, int) \
                or not 0 <= retention_days <= MAX_RETENTION_DAYS:
            raise ValidationError(
                f"RetentionDays must be a whole number from 0 to {MAX_RETENTION_DAYS}, got {retention_days!r}",
                field="RetentionDays",
            )
        with self.state.write() as conn:
            if conn.execute(sa.select(t.buses.c.name).where(t.buses.c.name == bus)).first() is None:
                raise ResourceNotFound(f"Event bus {bus} does not exist.", field="EventSourceArn")
            if conn.execute(sa.select(t.archives.c.name).where(t.archives.c.name == name)).first():
                raise AlreadyExists(f"Archive {name} already exists.", field="ArchiveName")
            conn.execute(t.archives.insert().values(
                name=name, bus=bus, event_pattern=pattern_text, description=description,
                retention_days=retention_days, created_at=self.clock.time(),
            ))
            t.bump_config(conn)
        return self.describe_archive(name)

    @operation
    def describe_archive(self, name: str) -> Archive:
        with self.state.read() as conn:
            archives = self._archives(conn, t.archives.c.name == name_from_arn(name))
        if not archives:
            raise ResourceNotFound(f"Archive {name_from_arn(name)} does not exist.", field="ArchiveName")
        return archives[0]

    @operation
    def list_archives(self, name_prefix: str | None = None, event_source_arn: str | None = None) -> list[Archive]:
        where = sa.true()
        if name_prefix:
            validate_prefix(name_prefix, "NamePrefix", max_length=48)
            where = t.archives.c.name.startswith(name_prefix, autoescape=True)
        if event_source_arn:
            where = sa.and_(where, t.archives.c.bus == self._source_bus(event_source_arn))
        with self.state.read() as conn:
            return self._archives(conn, where)

    @operation
    def delete_archive(self, name: str) -> None:
        """Delete an archive and the events it holds."""
        name = name_from_arn(name)
        with self.state.write() as conn:
            if not conn.execute(t.archives.delete().where(t.archives.c.name == name)).rowcount:
                raise ResourceNotFound(f"Archive {name} does not exist.", field="ArchiveName")
            conn.execute(t.archive_events.delete().where(t.archive_events.c.archive == name))
            t.bump_config(conn)

    @operation
    def start_replay(
        self,
        name: str,
        event_source_arn: str,
        event_start_time: datetime | float | str,
        event_end_time: datetime | float | str,
        destination: dict,
        description: str | None = None,
    ) -> Replay:
        """Replay an archive's events from ``[event_start_time, event_end_time)`` onto its bus."""
        validate_name(name, "ReplayName", pattern=EVENTS_NAME, max_length=64)
        start = epoch_seconds(event_start_time, "EventStartTime")
        end = epoch_seconds(event_end_time, "EventEndTime")
        if start >= end:
            raise ValidationError(
                "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.",
                field="EventEndTime",
            )
        try:
            dest = ReplayDestination.model_validate(destination)
        except PydanticError as exc:
            raise ValidationError(f"Destination: {exc.errors()[0]['msg']}", field="Destination") from None
        archive = name_from_arn(event_source_arn)
        now = self.clock.time()
        with self.state.write() as conn:
            row = conn.execute(sa.select(t.archives).where(t.archives.c.name == archive)).first()
            if row is None:
                raise ResourceNotFound(f"Archive {archive} does not exist.", field="EventSourceArn")
            if dest.arn != bus_arn(row.bus):
                raise ValidationError(
                    f"Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted "
                    f"(archive {archive} holds events of {bus_arn(row.bus)}).",
                    field="Destination.Arn",
                )
            rules = {rule_arn(row.bus, n) for n in conn.execute(
                sa.select(t.rules.c.name).where(t.rules.c.bus == row.bus)).scalars()}
            unknown = [a for a in dest.filter_arns if a not in rules]
            if unknown:
                raise ValidationError(
                    f"Destination.FilterArns: {unknown[0]} is not a rule of event bus {row.bus}",
                    field="Destination.FilterArns",
                )
            if conn.execute(sa.select(t.replays.c.name).where(t.replays.c.name == name)).first():
                raise AlreadyExists(f"Replay {name} already exists.", field="ReplayName")
            ae = t.archive_events.c
            events = conn.execute(
                sa.select(ae.event, ae.event_time)
                .where(ae.archive == archive, ae.event_time >= start, ae.event_time < end)
                .order_by(ae.event_time, ae.id)
            ).all()
            meta = {"filter_rules": dest.filter_arns or None, "first_at": now, "replay": name}
            if events:
                conn.execute(t.outbox.insert(), [
                    outbox_row("event", row.bus, {**e.event, "replay-name": name}, meta, now=now) for e in events
                ])
            conn.execute(t.replays.insert().values(
                name=name, archive=archive, description=description,
                destination=dest.model_dump(by_alias=True), event_start_time=start, event_end_time=end,
                state="COMPLETED", events_replayed=len(events), started_at=now, ended_at=now,
                last_event_time=events[-1].event_time if events else None,
            ))
        if events:
            self.dispatcher.wake()
        return self.describe_replay(name)

    @operation
    def describe_replay(self, name: str) -> Replay:
        with self.state.read() as conn:
            row = conn.execute(sa.select(t.replays).where(t.replays.c.name == name_from_arn(name))).first()
        if row is None:
            raise ResourceNotFound(f"Replay {name_from_arn(name)} does not exist.", field="ReplayName")
        return _replay_model(row)

    @operation
    def list_replays(self, name_prefix: str | None = None) -> list[Replay]:
        query = sa.select(t.replays).order_by(t.replays.c.started_at, t.replays.c.name)
        if name_prefix:
            validate_prefix(name_prefix, "NamePrefix", max_length=64)
            query = query.where(t.replays.c.name.startswith(name_prefix, autoescape=True))
        with self.state.read() as conn:
            return [_replay_model(r) for r in conn.execute(query)]

    def purge_archives(self, now: float | None = None) -> int:
        """Drop archived events older than their archive's retention; returns how many."""
        now = self.clock.time() if now is None else now
        dropped = 0
        with self.state.write() as conn:
            for row in conn.execute(sa.select(t.archives).where(t.archives.c.retention_days > 0)).all():
                dropped += conn.execute(t.archive_events.delete().where(
                    t.archive_events.c.archive == row.name,
                    t.archive_events.c.archived_at < now - row.retention_days * 86400,
                )).rowcount
        return dropped

    @staticmethod
    def _source_bus(event_source_arn: str) -> str:
        parsed = parse_arn(event_source_arn)
        if parsed is None and isinstance(event_source_arn, str) and not event_source_arn.startswith("arn:"):
            return event_source_arn  # a bare bus name is accepted too
        if parsed is None or parsed.key != "events:event-bus":
            raise ValidationError(
                f"EventSourceArn {event_source_arn!r} must be an event bus ARN, like {bus_arn('default')}",
                field="EventSourceArn",
            )
        return parsed.name

    @staticmethod
    def _archives(conn: sa.Connection, where: Any) -> list[Archive]:
        ae = t.archive_events.c
        stats = (
            sa.select(ae.archive, sa.func.count().label("n"), sa.func.coalesce(sa.func.sum(ae.size_bytes), 0).label("b"))
            .group_by(ae.archive).subquery()
        )
        rows = conn.execute(
            sa.select(t.archives, stats.c.n, stats.c.b)
            .outerjoin(stats, stats.c.archive == t.archives.c.name)
            .where(where).order_by(t.archives.c.name)
        ).all()
        return [
            Archive(
                archive_name=r.name, archive_arn=archive_arn(r.name), event_source_arn=bus_arn(r.bus),
                event_pattern=r.event_pattern, description=r.description, retention_days=r.retention_days,
                event_count=r.n or 0, size_bytes=int(r.b or 0), creation_time=_dt(r.created_at),
            )
            for r in rows
        ]


def _replay_model(row: Any) -> Replay:
    return Replay(
        replay_name=row.name, replay_arn=arn("events", "replay", row.name), event_source_arn=archive_arn(row.archive),
        destination=ReplayDestination.model_validate(row.destination), event_start_time=_dt(row.event_start_time),
        event_end_time=_dt(row.event_end_time), state=row.state, state_reason=row.state_reason,
        description=row.description, events_replayed=row.events_replayed, replay_start_time=_dt(row.started_at),
        replay_end_time=_dt(row.ended_at), event_last_replayed_time=_dt(row.last_event_time),
    )
