"""Schedule rules: fire a ``Scheduled Event`` to a rule's targets at each fire time.

Each enabled schedule rule keeps its next fire time in ``events_rules.next_fire_at``.
Firing is a compare-and-set on that column in the same transaction that puts the
events in the outbox, so a restart, or two processes running the loop, neither fires
twice nor loses a fire. Fire times missed while nothing ran are caught up, each with
its own ``time``, up to ``MAX_CATCH_UP`` per rule; beyond that the rule skips ahead to
the next fire time and says so in the log.

>>> events.put_rule("nightly", schedule_expression="cron(0 2 * * ? *)")  # doctest: +SKIP
>>> events.run_due_schedules()                                           # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from groundfog.core.errors import ValidationError
from groundfog.core.names import ACCOUNT, REGION
from groundfog.core.schedule import parse_schedule
from groundfog.events import tables as t
from groundfog.events.delivery import outbox_row
from groundfog.events.routing import iso, rule_arn

log = logging.getLogger("groundfog.events")

MAX_CATCH_UP = 100
PURGE_EVERY_SECONDS = 3600.0


def scheduled_event(rule: str, fire_time: float) -> dict[str, Any]:
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
        "account": ACCOUNT, "time": iso(fire_time), "region": REGION, "resources": [rule], "detail": {},
    }


class ScheduleRunner:
    """Fires due schedule rules; ``start()`` runs it on a thread that sleeps until the next one."""

    def __init__(self, *, state: Any, clock: Any, wake_dispatcher: Any, purge: Any) -> None:
        self.state, self.clock = state, clock
        self._wake_dispatcher, self._purge = wake_dispatcher, purge
        self._stop = threading.Event()
        self._changed = threading.Event()
        self._thread: threading.Thread | None = None

    def run_due(self, now: datetime | None = None) -> int:
        """Fire every rule whose next fire time is at or before ``now``; returns events fired."""
        moment = (now or self.clock.now()).astimezone(timezone.utc)
        now_ts = moment.timestamp()
        r = t.rules.c
        with self.state.read() as conn:
            due = conn.execute(
                sa.select(t.rules).where(
                    r.schedule_expression.is_not(None), r.state == "ENABLED", r.next_fire_at <= now_ts
                )
            ).all()
        fired = 0
        for rule in due:
            fired += self._fire(rule, moment)
        if fired:
            self._wake_dispatcher()
        return fired

    def _fire(self, rule: Any, moment: datetime) -> int:
        now_ts = moment.timestamp()
        try:
            schedule = parse_schedule(rule.schedule_expression)
        except ValidationError as exc:
            log.error("events: rule %s has an invalid schedule (%s); not firing it", rule.name, exc)
            return 0
        times: list[float] = []
        upcoming: float | None = rule.next_fire_at
        while upcoming is not None and upcoming <= now_ts and len(times) < MAX_CATCH_UP:
            times.append(upcoming)
            after = schedule.next_after(datetime.fromtimestamp(upcoming, timezone.utc))
            upcoming = after.timestamp() if after else None
        if upcoming is not None and upcoming <= now_ts:
            after = schedule.next_after(moment)
            log.warning(
                "events: rule %s missed more than %d fire times; fired the first %d, skipping to %s",
                rule.name, MAX_CATCH_UP, MAX_CATCH_UP, after,
            )
            upcoming = after.timestamp() if after else None
        the_arn = rule_arn(rule.bus, rule.name)
        r = t.rules.c
        with self.state.write() as conn:
            claimed = conn.execute(
                t.rules.update()
                .where(r.bus == rule.bus, r.name == rule.name, r.next_fire_at == rule.next_fire_at,
                       r.state == "ENABLED", r.schedule_expression == rule.schedule_expression)
                .values(next_fire_at=upcoming)
            ).rowcount
            if claimed != 1:
                return 0  # fired by another process, or changed meanwhile
            conn.execute(t.outbox.insert(), [
                outbox_row("event", rule.bus, scheduled_event(the_arn, at), {"schedule_rule": the_arn,
                                                                             "first_at": now_ts}, now=now_ts)
                for at in times
            ])
        return len(times)

    def next_fire_at(self) -> float | None:
        r = t.rules.c
        with self.state.read() as conn:
            return conn.execute(
                sa.select(sa.func.min(r.next_fire_at)).where(r.schedule_expression.is_not(None), r.state == "ENABLED")
            ).scalar()

    # ---- the loop ------------------------------------------------------------------

    def changed(self) -> None:
        """A schedule rule changed in this process: recompute the next wake-up."""
        self._changed.set()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="groundfog-events-schedules", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._changed.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        last_purge = 0.0
        while not self._stop.is_set():
            wait = 1.0
            try:
                self.run_due()
                now = self.clock.time()
                if now - last_purge >= PURGE_EVERY_SECONDS:
                    self._purge(now)
                    last_purge = now
                upcoming = self.next_fire_at()
                # Capped: rules changed by other processes are seen within a second.
                wait = 1.0 if upcoming is None else min(1.0, max(0.0, upcoming - now))
            except Exception:
                log.exception("events: schedule loop failed; retrying")
            self._changed.wait(wait)
            self._changed.clear()
