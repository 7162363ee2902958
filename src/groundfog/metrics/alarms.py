"""Alarms (CloudWatch ``PutMetricAlarm`` and friends), mixed into ``MetricsService``.

An alarm watches one statistic of one metric. ``evaluate_alarms`` (every 10 s in the
background, and at once for the alarms on a metric when data is put) decides each
alarm's state as ``evaluation`` documents; a change is recorded in the history, sent
to the state's action topics with CloudWatch's alarm message, and passed to every
state listener. ``set_alarm_state`` changes the state until the next evaluation.

>>> m.put_metric_alarm("high-latency", "Latency", "App", statistic="Average", period=60,  # doctest: +SKIP
...     evaluation_periods=3, datapoints_to_alarm=2, threshold=100.0,
...     comparison_operator="GreaterThanThreshold", alarm_actions=[topic_arn]).state_value
'INSUFFICIENT_DATA'
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from groundfog.core.bus import Bus
from groundfog.core.clock import Clock
from groundfog.core.errors import Conflict, GroundfogError, ResourceNotFound, ValidationError
from groundfog.core.names import arn, validate_prefix
from groundfog.core.service import operation
from groundfog.core.state import StateStore
from groundfog.core.times import epoch_seconds
from groundfog.metrics.evaluation import EXTRA_PERIODS, Point, decide, reason_data
from groundfog.metrics.messages import alarm_message, alarm_subject, configuration_data, state_update_data
from groundfog.metrics.models import (
    HISTORY_ITEM_TYPES,
    INSUFFICIENT_DATA,
    STATE_VALUES,
    AlarmHistoryItem,
    AlarmStateChange,
    Dimension,
    MetricAlarm,
)
from groundfog.metrics.statistics import aggregate
from groundfog.metrics.tables import alarm_history, alarms
from groundfog.metrics.validation import fail, parse_alarm_definition, parse_alarm_names, parse_percentile

log = logging.getLogger(__name__)
MAX_ACTIONS = 5


class AlarmOperations:
    """The alarm half of ``MetricsService``, which supplies these (and ``_series_id``)."""

    state: StateStore
    clock: Clock
    bus: Bus
    _listeners: list[Callable[[AlarmStateChange], None]]

    @operation
    def put_metric_alarm(
        self,
        alarm_name: str,
        metric_name: str,
        namespace: str,
        *,
        period: int,
        evaluation_periods: int,
        threshold: float,
        comparison_operator: str,
        statistic: str | None = None,
        extended_statistic: str | None = None,
        dimensions: list[dict[str, Any]] | None = None,
        datapoints_to_alarm: int | None = None,
        treat_missing_data: str = "missing",
        alarm_actions: list[str] | None = None,
        ok_actions: list[str] | None = None,
        insufficient_data_actions: list[str] | None = None,
        actions_enabled: bool = True,
        alarm_description: str | None = None,
        unit: str | None = None,
    ) -> MetricAlarm:
        """Create or replace an alarm; a new one starts in INSUFFICIENT_DATA, a replaced
        one keeps its state. Actions are topic ARNs."""
        config = parse_alarm_definition({k: v for k, v in locals().items() if k != "self"})
        for key, field in (("alarm_actions", "AlarmActions"), ("ok_actions", "OKActions"),
                           ("insufficient_data_actions", "InsufficientDataActions")):
            config[key] = self._check_actions(config[key], field)
        now = self.clock.time()
        config["configuration_updated_at"] = now
        with self.state.write() as conn:
            existing = conn.execute(sa.select(alarms.c.alarm_name).where(alarms.c.alarm_name == alarm_name)).first()
            if existing:
                conn.execute(alarms.update().where(alarms.c.alarm_name == alarm_name).values(**config))
            else:
                try:
                    conn.execute(
                        alarms.insert().values(
                            **config, alarm_arn=arn("metrics", "alarm", alarm_name), state_value=INSUFFICIENT_DATA,
                            state_reason="Unchecked: Initial alarm creation", state_reason_data=None,
                            state_updated_at=now, state_version=0, created_at=now,
                        )
                    )
                except sa.exc.IntegrityError:
                    raise Conflict(f"alarm {alarm_name!r} was created concurrently; try again",
                                   field="AlarmName") from None
            row = conn.execute(sa.select(alarms).where(alarms.c.alarm_name == alarm_name)).one()
            alarm = _model(row)
            kind = "Update" if existing else "Create"
            self._history(conn, alarm_name, now, "ConfigurationUpdate", f'Alarm "{alarm_name}" {kind.lower()}d',
                          configuration_data(alarm, kind))
        return alarm

    def _check_actions(self, actions: list[str] | None, field: str) -> list[str]:
        if not isinstance(actions, (list, tuple)):
            raise fail(field, f"must be a list of topic ARNs, got {actions!r}")
        if len(actions) > MAX_ACTIONS:
            raise fail(field, f"at most {MAX_ACTIONS} actions are allowed (got {len(actions)})")
        for i, target in enumerate(actions):
            if not isinstance(target, str):
                raise fail(f"{field}[{i}]", f"must be a topic ARN, got {target!r}")
            try:
                self.bus.check_target(target, allowed_types=("topic",))
            except ValidationError as exc:
                raise fail(f"{field}[{i}]", f"action {target!r} is not a usable topic: {exc}") from None
        return list(dict.fromkeys(actions))

    @operation
    def describe_alarms(
        self,
        alarm_names: list[str] | None = None,
        alarm_name_prefix: str | None = None,
        state_value: str | None = None,
    ) -> list[MetricAlarm]:
        """Alarms by name, by name prefix and/or by state, ordered by name."""
        if alarm_names and alarm_name_prefix:
            raise fail("AlarmNamePrefix", "give AlarmNames or AlarmNamePrefix, not both")
        if alarm_names is not None:
            parse_alarm_names(alarm_names)
        if alarm_name_prefix is not None:
            validate_prefix(alarm_name_prefix, "AlarmNamePrefix", max_length=255)
        query = sa.select(alarms).order_by(alarms.c.alarm_name)
        if alarm_names:
            query = query.where(alarms.c.alarm_name.in_(alarm_names))
        if alarm_name_prefix:
            query = query.where(alarms.c.alarm_name.startswith(alarm_name_prefix, autoescape=True))
        if state_value is not None:
            if state_value not in STATE_VALUES:
                raise fail("StateValue", f"{state_value!r} is not one of {', '.join(STATE_VALUES)}")
            query = query.where(alarms.c.state_value == state_value)
        with self.state.read() as conn:
            return [_model(r) for r in conn.execute(query)]

    @operation
    def delete_alarms(self, alarm_names: list[str]) -> None:
        """Delete alarms; if any name is unknown, none is deleted. Their history stays."""
        parse_alarm_names(alarm_names)
        now = self.clock.time()
        with self.state.write() as conn:
            self._require(conn, alarm_names)
            conn.execute(alarms.delete().where(alarms.c.alarm_name.in_(alarm_names)))
            for name in dict.fromkeys(alarm_names):
                self._history(conn, name, now, "ConfigurationUpdate", f'Alarm "{name}" deleted', {"type": "Delete"})

    @operation
    def set_alarm_state(
        self, alarm_name: str, state_value: str, state_reason: str,
        state_reason_data: dict[str, Any] | None = None,
    ) -> None:
        """Set an alarm's state until its next evaluation; a change runs that state's actions."""
        if state_value not in STATE_VALUES:
            raise fail("StateValue", f"{state_value!r} is not one of {', '.join(STATE_VALUES)}")
        if not isinstance(state_reason, str) or len(state_reason) > 1023:
            raise fail("StateReason", "must be a string of at most 1023 characters")
        with self.state.read() as conn:
            row = self._require(conn, [alarm_name])[0]
        if row.state_value != state_value:
            self._change_state(row, state_value, state_reason, state_reason_data, self.clock.time())

    @operation
    def describe_alarm_history(
        self,
        alarm_name: str | None = None,
        history_item_type: str | None = None,
        start_date: datetime | float | str | None = None,
        end_date: datetime | float | str | None = None,
        max_records: int = 100,
    ) -> list[AlarmHistoryItem]:
        """History items, newest first (state changes, configuration changes, actions)."""
        query = sa.select(alarm_history).order_by(alarm_history.c.timestamp.desc(), alarm_history.c.id.desc())
        if alarm_name is not None:
            query = query.where(alarm_history.c.alarm_name == alarm_name)
        if history_item_type is not None:
            if history_item_type not in HISTORY_ITEM_TYPES:
                raise fail("HistoryItemType", f"{history_item_type!r} is not one of {', '.join(HISTORY_ITEM_TYPES)}")
            query = query.where(alarm_history.c.item_type == history_item_type)
        if start_date is not None:
            query = query.where(alarm_history.c.timestamp >= epoch_seconds(start_date, "StartDate"))
        if end_date is not None:
            query = query.where(alarm_history.c.timestamp <= epoch_seconds(end_date, "EndDate"))
        if isinstance(max_records, bool) or not isinstance(max_records, int) or not 1 <= max_records <= 100:
            raise fail("MaxRecords", f"must be between 1 and 100, got {max_records!r}")
        with self.state.read() as conn:
            rows = conn.execute(query.limit(max_records)).all()
        return [
            AlarmHistoryItem(alarm_name=r.alarm_name, timestamp=_dt(r.timestamp), history_item_type=r.item_type,
                             history_summary=r.summary, history_data=r.data)
            for r in rows
        ]

    @operation
    def enable_alarm_actions(self, alarm_names: list[str]) -> None:
        """Let these alarms run their actions again on state changes."""
        self._set_actions_enabled(alarm_names, True)

    @operation
    def disable_alarm_actions(self, alarm_names: list[str]) -> None:
        """Keep evaluating these alarms, but run no actions on their state changes."""
        self._set_actions_enabled(alarm_names, False)

    def _set_actions_enabled(self, alarm_names: list[str], enabled: bool) -> None:
        parse_alarm_names(alarm_names)
        with self.state.write() as conn:
            self._require(conn, alarm_names)
            conn.execute(alarms.update().where(alarms.c.alarm_name.in_(alarm_names)).values(actions_enabled=enabled))

    # -- evaluation -------------------------------------------------------------

    @operation
    def evaluate_alarms(
        self, now: datetime | float | str | None = None, alarm_names: list[str] | None = None
    ) -> list[AlarmStateChange]:
        """Evaluate alarms (all, or those named) as of ``now`` (default: the clock);
        returns the state changes made. The background loop calls this."""
        at = self.clock.time() if now is None else epoch_seconds(now, "Now")
        query = sa.select(alarms).order_by(alarms.c.alarm_name)
        if alarm_names is not None:
            parse_alarm_names(alarm_names)
            query = query.where(alarms.c.alarm_name.in_(alarm_names))
        with self.state.read() as conn:
            rows = conn.execute(query).all()
        changes = [self._evaluate_alarm(row, at) for row in rows]
        return [c for c in changes if c is not None]

    def _evaluate_alarm(self, row: Any, now: float) -> AlarmStateChange | None:
        period, n = row.period, row.evaluation_periods
        newest = math.floor(now / period) * period
        origin = newest - (n + EXTRA_PERIODS - 1) * period
        statistic = row.statistic or row.extended_statistic
        percentiles = {statistic: parse_percentile(statistic, "ExtendedStatistic")} if row.extended_statistic else None
        with self.state.read() as conn:
            series_id = self._series_id(conn, row.namespace, row.metric_name, row.dims_hash)
            periods = [] if series_id is None else aggregate(
                conn, series_id, origin=origin, end=newest + period, period=period, unit=row.unit, by_unit=False,
                percentiles=percentiles,
            )
        values = {round((p.start - origin) / period): p.value(statistic) for p in periods}
        points = [Point(origin + i * period, values.get(i)) for i in range(n + EXTRA_PERIODS)]
        decision = decide(
            points, m=row.datapoints_to_alarm or n, n=n, threshold=row.threshold, operator=row.comparison_operator,
            treat_missing_data=row.treat_missing_data, current_state=row.state_value,
        )
        if decision.state is None or decision.state == row.state_value:
            return None
        data = reason_data(decision, points, now=now, statistic=statistic, period=period, threshold=row.threshold)
        return self._change_state(row, decision.state, decision.reason, data, now)

    def _change_state(
        self, row: Any, new_state: str, reason: str, data: dict[str, Any] | None, now: float
    ) -> AlarmStateChange | None:
        """Move an alarm from the state ``row`` shows to ``new_state``, unless someone else
        changed it meanwhile; then record, run actions and tell the listeners."""
        with self.state.write() as conn:
            done = conn.execute(
                alarms.update()
                .where(alarms.c.alarm_name == row.alarm_name, alarms.c.state_version == row.state_version)
                .values(state_value=new_state, state_reason=reason, state_reason_data=data, state_updated_at=now,
                        state_version=row.state_version + 1)
            )
            if done.rowcount != 1:
                return None
            self._history(
                conn, row.alarm_name, now, "StateUpdate", f"Alarm updated from {row.state_value} to {new_state}",
                state_update_data(row, new_state, reason, data),
            )
            alarm = _model(conn.execute(sa.select(alarms).where(alarms.c.alarm_name == row.alarm_name)).one())
            change = AlarmStateChange(
                alarm_name=alarm.alarm_name, alarm_arn=alarm.alarm_arn, old_state_value=row.state_value,
                new_state_value=new_state, new_state_reason=reason, state_change_time=_dt(now), alarm=alarm,
            )
            pending = _pending_actions(change, now)
            if pending is not None:
                conn.execute(alarms.update().where(alarms.c.alarm_name == row.alarm_name).values(pending_actions=pending))
        if pending is not None:
            self._run_actions(alarm.alarm_name, row.state_version + 1, pending, now)
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception:  # noqa: BLE001 - one listener must not stop the others
                log.exception("alarm state listener %r failed", listener)
        return change

    def deliver_pending_actions(self, older_than: float = 0.0) -> int:
        """Send the actions of state changes that were recorded but not sent (their
        process died in between) at least ``older_than`` seconds ago; returns how many."""
        now = self.clock.time()
        with self.state.read() as conn:
            rows = conn.execute(
                sa.select(alarms.c.alarm_name, alarms.c.state_version, alarms.c.pending_actions)
                .where(alarms.c.pending_actions.is_not(None))
            ).all()
        sent = 0
        for name, version, pending in rows:
            if pending and now - float(pending.get("at", 0)) >= older_than:
                self._run_actions(name, version, pending, now)
                sent += 1
        return sent

    def _run_actions(self, name: str, version: int, pending: dict[str, Any], now: float) -> None:
        outcomes = []
        for target in pending["targets"]:
            try:
                self.bus.send(target, pending["message"], subject=alarm_subject(name, pending["message"]))
                outcomes.append((f"Successfully executed action {target}", {"actionState": "Succeeded"}))
            except GroundfogError as exc:
                log.warning("alarm %s: action %s failed: %s", name, target, exc)
                outcomes.append((f"Failed to execute action {target}. Received error: {exc}",
                                 {"actionState": "Failed", "error": str(exc)}))
        with self.state.write() as conn:
            for summary, data in outcomes:
                self._history(conn, name, now, "Action", summary, {"version": "1.0", **data})
            # Only this change's actions: a newer change has its own.
            conn.execute(
                alarms.update()
                .where(alarms.c.alarm_name == name, alarms.c.state_version == version)
                .values(pending_actions=None)
            )

    # -- helpers ------------------------------------------------------------------

    @staticmethod
    def _history(conn: Any, name: str, ts: float, kind: str, summary: str, data: dict[str, Any]) -> None:
        conn.execute(alarm_history.insert().values(alarm_name=name, timestamp=ts, item_type=kind, summary=summary,
                                                   data=data))

    @staticmethod
    def _require(conn: Any, names: list[str]) -> list[Any]:
        if not isinstance(names, (list, tuple)) or not names or not all(isinstance(n, str) for n in names):
            raise fail("AlarmNames", f"must be a non-empty list of alarm names, got {names!r}")
        rows = conn.execute(sa.select(alarms).where(alarms.c.alarm_name.in_(names))).all()
        missing = sorted(set(names) - {r.alarm_name for r in rows})
        if missing:
            raise ResourceNotFound(f"alarm {missing[0]!r} does not exist", field="AlarmNames")
        return rows


def _pending_actions(change: AlarmStateChange, now: float) -> dict[str, Any] | None:
    """The actions a state change must run, as stored until they are sent."""
    alarm = change.alarm
    targets = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions}.get(
        change.new_state_value, alarm.insufficient_data_actions
    )
    if not alarm.actions_enabled or not targets:
        return None
    return {"targets": list(targets), "message": alarm_message(change), "at": now}


def _model(row: Any) -> MetricAlarm:
    return MetricAlarm(
        alarm_name=row.alarm_name, alarm_arn=row.alarm_arn, alarm_description=row.alarm_description,
        alarm_configuration_updated_timestamp=_dt(row.configuration_updated_at), actions_enabled=row.actions_enabled,
        ok_actions=row.ok_actions, alarm_actions=row.alarm_actions,
        insufficient_data_actions=row.insufficient_data_actions, state_value=row.state_value,
        state_reason=row.state_reason, state_reason_data=row.state_reason_data,
        state_updated_timestamp=_dt(row.state_updated_at), metric_name=row.metric_name, namespace=row.namespace,
        statistic=row.statistic, extended_statistic=row.extended_statistic,
        dimensions=[Dimension(name=n, value=v) for n, v in row.dimensions], period=row.period, unit=row.unit,
        evaluation_periods=row.evaluation_periods, datapoints_to_alarm=row.datapoints_to_alarm,
        threshold=row.threshold, comparison_operator=row.comparison_operator,
        treat_missing_data=row.treat_missing_data,
    )


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)
