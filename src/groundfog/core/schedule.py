"""EventBridge schedule expressions: ``rate(value unit)`` and ``cron(fields)``.

``parse_schedule`` checks an expression against AWS's documented rules and returns a
``Schedule`` whose ``next_after`` says when it fires next. All times are UTC.

>>> from datetime import datetime, timezone
>>> s = parse_schedule("cron(0 18 ? * MON-FRI *)")
>>> s.next_after(datetime(2026, 1, 3, tzinfo=timezone.utc)).isoformat()  # a Saturday
'2026-01-05T18:00:00+00:00'
>>> parse_schedule("rate(5 minutes)").next_after(datetime(2026, 1, 1, 0, 7, tzinfo=timezone.utc)).isoformat()
'2026-01-01T00:10:00+00:00'

Choices where the AWS documentation is silent (each enforced, each tested):

- ``rate``: fires at ``anchor + k * period`` for every integer k; the anchor only fixes
  the phase. AWS anchors at rule creation; groundfog defaults to the Unix epoch so
  ``rate(1 hour)`` fires on the hour and ``rate(1 day)`` at midnight UTC. Pass
  ``anchor=`` (e.g. the creation time) for AWS's behaviour.
- ``cron`` field text is case-insensitive (``mon-fri``), ``rate`` units are lowercase.
- ``L``, ``LW``, ``nW``, ``nL`` and ``n#k`` must be the only item in their field (AWS
  documents this for ``#``; Quartz, whose syntax AWS follows, for the rest).
- ``nW`` never crosses the month: ``1W`` on a Saturday is Monday the 3rd; a month
  without day n has no fire.
- Ranges must run forwards (``22-2`` is rejected, not wrapped); a step must lie in
  1..(max - min) of its field; day-of-week takes no ``/`` (the AWS table omits it).
"""

from __future__ import annotations

import calendar
import re
from abc import ABC, abstractmethod
from datetime import datetime, timedelta, timezone
from typing import Callable

from groundfog.core.errors import ValidationError

__all__ = ["Schedule", "RateSchedule", "CronSchedule", "parse_schedule"]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MIN_YEAR, MAX_YEAR = 1970, 2199

_UNITS = {"minute": 1, "hour": 60, "day": 1440}  # minutes per unit
_MONTHS = {n: i for i, n in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), 1)}
_DAYS = {n: i for i, n in enumerate("SUN MON TUE WED THU FRI SAT".split(), 1)}  # AWS: SUN=1

# (name, low, high, names, wildcards) in expression order, as in the AWS table.
_FIELDS = [
    ("minutes", 0, 59, {}, ",-*/"),
    ("hours", 0, 23, {}, ",-*/"),
    ("day-of-month", 1, 31, {}, ",-*?/LW"),
    ("month", 1, 12, _MONTHS, ",-*/"),
    ("day-of-week", 1, 7, _DAYS, ",-*?L#"),
    ("year", MIN_YEAR, MAX_YEAR, {}, ",-*/"),
]
_FIELD_LIST = " ".join(f[0] for f in _FIELDS)

DayRule = Callable[[int, int], list[int]]  # (year, month) -> matching days, sorted


class Schedule(ABC):
    """A parsed schedule expression; ``next_after`` is all a scheduler needs."""

    expression: str

    @abstractmethod
    def next_after(self, after: datetime) -> datetime | None:
        """The first fire time strictly after ``after`` (tz-aware), in UTC; None if none."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.expression!r})"


class RateSchedule(Schedule):
    """``rate(value unit)``: every ``period``, in phase with ``anchor``.

    >>> s = parse_schedule("rate(2 hours)", anchor=datetime(2026, 1, 1, 0, 30, tzinfo=timezone.utc))
    >>> s.next_after(datetime(2026, 1, 1, 1, tzinfo=timezone.utc)).isoformat()
    '2026-01-01T02:30:00+00:00'
    """

    def __init__(self, expression: str, period: timedelta, anchor: datetime = EPOCH) -> None:
        self.expression = expression
        self.period = period
        self.anchor = _utc(anchor, "anchor")

    def next_after(self, after: datetime) -> datetime | None:
        k = (_utc(after, "after") - self.anchor) // self.period + 1
        try:
            return self.anchor + k * self.period
        except OverflowError:  # past datetime.max: there is no representable next fire
            return None


class CronSchedule(Schedule):
    """``cron(minutes hours day-of-month month day-of-week year)``, fired in UTC.

    >>> s = parse_schedule("cron(0 9 ? * 2#1 *)")  # first Monday of the month, 09:00
    >>> s.next_after(datetime(2026, 1, 6, tzinfo=timezone.utc)).isoformat()
    '2026-02-02T09:00:00+00:00'
    """

    def __init__(
        self,
        expression: str,
        minutes: list[int],
        hours: list[int],
        days: DayRule,
        months: list[int],
        years: list[int],
    ) -> None:
        self.expression = expression
        self.minutes, self.hours, self.months, self.years = minutes, hours, months, years
        self.days = days

    def next_after(self, after: datetime) -> datetime | None:
        after = _utc(after, "after")
        if after.year > MAX_YEAR:
            return None
        start = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        # Walk field by field, largest first; `at_*` says we are still on start's prefix,
        # so smaller fields must not go below start's. At most 230 * 12 months visited.
        for year in self.years:
            if year < start.year:
                continue
            at_y = year == start.year
            for month in self.months:
                if at_y and month < start.month:
                    continue
                at_m = at_y and month == start.month
                for day in self.days(year, month):
                    if at_m and day < start.day:
                        continue
                    at_d = at_m and day == start.day
                    for hour in self.hours:
                        if at_d and hour < start.hour:
                            continue
                        at_h = at_d and hour == start.hour
                        for minute in self.minutes:
                            if not (at_h and minute < start.minute):
                                return datetime(year, month, day, hour, minute, tzinfo=timezone.utc)
        return None


def parse_schedule(expression: str, anchor: datetime | None = None) -> Schedule:
    """Parse a ``rate(...)`` or ``cron(...)`` expression, or raise ``ValidationError``.

    ``anchor`` sets a rate's phase (default: the Unix epoch); cron ignores it.

    >>> parse_schedule("cron(0 10 * * ? *)")
    CronSchedule('cron(0 10 * * ? *)')
    >>> parse_schedule("rate(1 hours)")
    Traceback (most recent call last):
    ...
    groundfog.core.errors.ValidationError: rate(1 hours): unit 'hours' must be singular ('hour') when value is 1
    """
    if not isinstance(expression, str) or not expression.strip():
        raise _error("schedule expression is empty")
    if expression.startswith("rate(") and expression.endswith(")"):
        return RateSchedule(expression, _parse_rate(expression), EPOCH if anchor is None else anchor)
    if expression.startswith("cron(") and expression.endswith(")"):
        return _parse_cron(expression)
    raise _error(f"{expression}: expected 'rate(value unit)' or 'cron({_FIELD_LIST})'")


def _parse_rate(expr: str) -> timedelta:
    parts = expr[5:-1].split()
    if len(parts) != 2:
        raise _error(f"{expr}: expected 'rate(value unit)' with 2 fields, got {len(parts)}")
    value, unit = parts
    digits = value.lstrip("0")
    if not re.fullmatch(r"[0-9]+", value) or not digits:
        raise _error(f"{expr}: value '{value}' must be a positive integer")
    if len(digits) > 12:  # also keeps int() away from its 4300-digit limit
        raise _error(f"{expr}: value '{value}' is too large")
    n, base = int(digits), unit.removesuffix("s")
    if base not in _UNITS:
        raise _error(f"{expr}: unit '{unit}' is not one of minute, minutes, hour, hours, day, days")
    if n == 1 and unit != base:
        raise _error(f"{expr}: unit '{unit}' must be singular ('{base}') when value is 1")
    if n > 1 and unit == base:
        raise _error(f"{expr}: unit '{unit}' must be plural ('{base}s') when value is greater than 1")
    try:
        return timedelta(minutes=n * _UNITS[base])
    except OverflowError:
        raise _error(f"{expr}: value '{value}' is too large") from None


def _parse_cron(expr: str) -> CronSchedule:
    fields = expr[5:-1].split()
    if len(fields) != 6:
        raise _error(
            f"{expr}: expected 6 fields ({_FIELD_LIST}), got {len(fields)}"
        )
    for text, (name, *_, wildcards) in zip(fields, _FIELDS):
        bad = sorted({c for c in text if not (c.isascii() and c.isalnum()) and c not in wildcards})
        if bad:
            allowed = " ".join(wildcards)
            raise _error(f"{expr}: {name} field '{text}' uses '{bad[0]}', which is not allowed there (allowed: {allowed})")
    minutes, hours, dom, months, dow, years = fields
    if dom == "?" and dow == "?":
        raise _error(f"{expr}: day-of-month and day-of-week fields are both '?'; one of them must be set")
    if dom != "?" and dow != "?":
        raise _error(
            f"{expr}: day-of-month field '{dom}' and day-of-week field '{dow}' are both set; use '?' in one of them"
        )
    days = _dom_rule(expr, dom) if dow == "?" else _dow_rule(expr, dow)
    return CronSchedule(
        expr,
        _values(expr, 0, minutes),
        _values(expr, 1, hours),
        days,
        _values(expr, 3, months),
        _values(expr, 5, years),
    )


def _values(expr: str, index: int, text: str) -> list[int]:
    """Expand a plain field (lists, ranges, ``*``, steps) to its sorted values."""
    name, lo, hi, names, _ = _FIELDS[index]
    where = f"{expr}: {name} field '{text}'"
    out: set[int] = set()
    for item in text.split(","):
        base, slash, step = item.partition("/")
        if base == "*":
            first, last = lo, hi
        elif "-" in base:
            a, _, b = base.partition("-")
            first, last = _value(where, text, a, lo, hi, names), _value(where, text, b, lo, hi, names)
            if first > last:
                raise _error(f"{where}: range '{base}' runs backwards")
        else:
            first = last = _value(where, text, base, lo, hi, names)
        if slash:
            size = _int(step)
            if size is None or not 1 <= size <= hi - lo:
                raise _error(f"{where}: step '{step}' must be an integer in 1-{hi - lo}")
            if "-" not in base:  # 'n/s' and '*/s' run to the end of the field
                last = hi
            out.update(range(first, last + 1, size))
        else:
            out.update(range(first, last + 1))
    return sorted(out)


def _value(where: str, whole: str, token: str, lo: int, hi: int, names: dict[str, int]) -> int:
    """One number or name; the message quotes the token unless it is the whole field."""
    if token.upper() in names:
        return names[token.upper()]
    what = where if token == whole else f"{where}: '{token}'"
    if not token:
        raise _error(f"{where} has an empty value")
    number = _int(token)
    if number is None:
        kinds = f"a number or a name {next(iter(names))}-{list(names)[-1]}" if names else "a number"
        raise _error(f"{what} is not {kinds}")
    if not lo <= number <= hi:
        raise _error(f"{what} is out of range {lo}-{hi}")
    return number


def _int(token: str) -> int | None:
    """A plain non-negative integer, or None. ASCII only: '²'.isdigit() is True."""
    if not (token.isascii() and token.isdigit()):
        return None
    digits = token.lstrip("0") or "0"
    return int(digits) if len(digits) <= 9 else 10**9  # int() refuses over 4300 digits


def _dom_rule(expr: str, text: str) -> DayRule:
    """Day-of-month: plain values, ``L`` (last day), ``LW`` (last weekday), ``nW``."""
    upper = text.upper()
    where = f"{expr}: day-of-month field '{text}'"
    if upper == "L":
        return lambda y, m: [_last_day(y, m)]
    if upper == "LW":
        return lambda y, m: [_nearest_weekday(y, m, _last_day(y, m))]
    if upper.endswith("W"):
        if "," in upper or "-" in upper or "/" in upper or "L" in upper:
            raise _error(f"{where}: 'W' must be used alone with one day, like '15W' or 'LW'")
        day = _value(where, text, text[:-1], 1, 31, {})
        return lambda y, m: [_nearest_weekday(y, m, day)] if day <= _last_day(y, m) else []
    if "L" in upper or "W" in upper:
        raise _error(f"{where}: 'L' and 'W' must be the whole field, like 'L', 'LW' or '15W'")
    values = _values(expr, 2, text)
    return lambda y, m: [d for d in values if d <= _last_day(y, m)]


def _dow_rule(expr: str, text: str) -> DayRule:
    """Day-of-week (SUN=1..SAT=7): plain values, ``L`` (Saturday), ``nL``, ``n#k``."""
    upper = text.upper()
    where = f"{expr}: day-of-week field '{text}'"
    special = "#" in upper or upper.endswith("L")
    if special and ("," in upper or "-" in upper):
        raise _error(f"{where}: '#' and 'L' must be the whole field, like '6L' or '3#2' (no lists or ranges)")
    if upper == "L":  # last day of the week: Saturday
        return lambda y, m: [d for d in _month_days(y, m) if _aws_dow(y, m, d) == 7]
    if upper.endswith("L"):
        dow = _value(where, text, text[:-1], 1, 7, _DAYS)
        return lambda y, m: [max(d for d in _month_days(y, m) if _aws_dow(y, m, d) == dow)]
    if "#" in upper:
        day_text, _, nth_text = text.partition("#")
        dow = _value(where, text, day_text, 1, 7, _DAYS)
        nth = _int(nth_text)
        if nth is None or not 1 <= nth <= 5:
            raise _error(f"{where}: occurrence '{nth_text}' after '#' must be 1-5")
        return lambda y, m: [d for d in _month_days(y, m) if _aws_dow(y, m, d) == dow][nth - 1 : nth]
    if "L" in upper:
        raise _error(f"{where}: 'L' must end the field, like 'L' or '6L'")
    values = set(_values(expr, 4, text))
    return lambda y, m: [d for d in _month_days(y, m) if _aws_dow(y, m, d) in values]


def _nearest_weekday(year: int, month: int, day: int) -> int:
    """The Monday-Friday day closest to ``day`` without leaving the month (``nW``)."""
    weekday, last = calendar.weekday(year, month, day), _last_day(year, month)
    if weekday == 5:  # Saturday: Friday before, or Monday after if the 1st
        return day - 1 if day > 1 else day + 2
    if weekday == 6:  # Sunday: Monday after, or Friday before if the last day
        return day + 1 if day < last else day - 2
    return day


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _month_days(year: int, month: int) -> range:
    return range(1, _last_day(year, month) + 1)


def _aws_dow(year: int, month: int, day: int) -> int:
    """AWS numbering, SUN=1..SAT=7 (Python's weekday() is MON=0..SUN=6)."""
    return (calendar.weekday(year, month, day) + 1) % 7 + 1


def _utc(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")
    return moment.astimezone(timezone.utc)


def _error(message: str) -> ValidationError:
    return ValidationError(message, field="ScheduleExpression")
