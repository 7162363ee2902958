"""EventBridge schedule expressions: AWS's documented examples, its rejections, and
properties checked against a brute-force matcher."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groundfog.core.errors import ValidationError
from groundfog.core.schedule import CronSchedule, RateSchedule, Schedule, parse_schedule

UTC = timezone.utc


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# 2026-01-01 is a Thursday; the comments give the weekday of each expected fire.
CRON_CASES = [
    # The examples table of the AWS cron expressions reference.
    ("cron(0 10 * * ? *)", at(2026, 1, 1), at(2026, 1, 1, 10)),
    ("cron(0 10 * * ? *)", at(2026, 1, 1, 10), at(2026, 1, 2, 10)),  # strictly after
    ("cron(15 12 * * ? *)", at(2026, 1, 1, 12, 15, 30), at(2026, 1, 2, 12, 15)),
    ("cron(0 18 ? * MON-FRI *)", at(2026, 1, 2, 18), at(2026, 1, 5, 18)),  # Fri -> Mon
    ("cron(0 8 1 * ? *)", at(2026, 1, 1, 8), at(2026, 2, 1, 8)),
    ("cron(0/15 * * * ? *)", at(2026, 1, 1, 0, 14, 59), at(2026, 1, 1, 0, 15)),
    ("cron(0/15 * * * ? *)", at(2026, 12, 31, 23, 50), at(2027, 1, 1)),
    ("cron(0/10 * ? * MON-FRI *)", at(2026, 1, 2, 23, 55), at(2026, 1, 5)),
    ("cron(0/5 8-17 ? * MON-FRI *)", at(2026, 1, 5, 7, 59), at(2026, 1, 5, 8)),
    ("cron(0/5 8-17 ? * MON-FRI *)", at(2026, 1, 5, 17, 55), at(2026, 1, 6, 8)),
    ("cron(0 9 ? * 2#1 *)", at(2026, 1, 1), at(2026, 1, 5, 9)),  # first Monday
    ("cron(0 9 ? * 2#1 *)", at(2026, 1, 5, 9), at(2026, 2, 2, 9)),
    ("cron(1/10 * * * ? *)", at(2026, 1, 1, 0, 1), at(2026, 1, 1, 0, 11)),
    # Names, lists, steps, lowercase.
    ("cron(0 0 1 JAN,JUL ? *)", at(2026, 2, 1), at(2026, 7, 1)),
    ("cron(0 0 1 1/3 ? *)", at(2026, 2, 1), at(2026, 4, 1)),
    ("cron(0 9 ? * mon-fri *)", at(2026, 1, 3), at(2026, 1, 5, 9)),
    ("cron(0 9 ? * SUN *)", at(2026, 1, 1), at(2026, 1, 4, 9)),  # SUN is 1
    ("cron(0 9 ? * 1 *)", at(2026, 1, 1), at(2026, 1, 4, 9)),
    ("cron(0 9 ? * 7 *)", at(2026, 1, 1), at(2026, 1, 3, 9)),  # SAT is 7
    ("cron(30 0-23/6 * * ? *)", at(2026, 1, 1, 6, 30), at(2026, 1, 1, 12, 30)),
    # L: last day of the month; in day-of-week, Saturday or the last <day> of the month.
    ("cron(0 0 L * ? *)", at(2026, 1, 31), at(2026, 2, 28)),
    ("cron(0 0 L * ? *)", at(2028, 2, 1), at(2028, 2, 29)),  # leap year
    ("cron(0 0 L 2 ? *)", at(2099, 3, 1), at(2100, 2, 28)),  # 2100 is not a leap year
    ("cron(0 0 ? * L *)", at(2026, 1, 1), at(2026, 1, 3)),
    ("cron(15 10 ? * 6L *)", at(2026, 1, 1), at(2026, 1, 30, 10, 15)),  # last Friday
    ("cron(15 10 ? * FRIL *)", at(2026, 1, 1), at(2026, 1, 30, 10, 15)),
    ("cron(0 0 ? * 3#5 *)", at(2026, 1, 1), at(2026, 3, 31)),  # no 5th Tue in Jan, Feb
    # W: nearest weekday, never leaving the month.
    ("cron(0 0 15W * ? *)", at(2026, 1, 1), at(2026, 1, 15)),  # Thu itself
    ("cron(0 0 15W * ? *)", at(2026, 2, 1), at(2026, 2, 16)),  # Sun 15th -> Mon
    ("cron(0 0 15W * ? *)", at(2026, 8, 1), at(2026, 8, 14)),  # Sat 15th -> Fri
    ("cron(0 0 1W * ? *)", at(2026, 7, 2), at(2026, 8, 3)),  # Sat 1st -> Mon 3rd
    ("cron(0 0 31W * ? *)", at(2026, 5, 1), at(2026, 5, 29)),  # Sun 31st -> Fri 29th
    ("cron(0 0 30W * ? *)", at(2026, 2, 1), at(2026, 3, 30)),  # February has no 30th
    ("cron(0 0 LW * ? *)", at(2026, 1, 1), at(2026, 1, 30)),  # Sat 31st -> Fri 30th
    # Leap days and the year field's bounds.
    ("cron(0 0 29 2 ? *)", at(2026, 3, 1), at(2028, 2, 29)),
    ("cron(0 0 1 1 ? 2199)", at(2198, 6, 1), at(2199, 1, 1)),
    ("cron(0 0 1 1 ? *)", at(1900, 5, 5), at(1970, 1, 1)),
    ("cron(0 12 * * ? 2030-2032/2)", at(2026, 1, 1), at(2030, 1, 1, 12)),
    ("cron(0 12 * * ? 2030-2032/2)", at(2030, 12, 31, 12), at(2032, 1, 1, 12)),
]


@pytest.mark.parametrize(("expression", "after", "expected"), CRON_CASES)
def test_cron_fires_next_at_the_documented_time(expression: str, after: datetime, expected: datetime) -> None:
    schedule = parse_schedule(expression)
    assert isinstance(schedule, CronSchedule) and schedule.expression == expression
    assert schedule.next_after(after) == expected


@pytest.mark.parametrize(
    ("expression", "after"),
    [
        ("cron(0 0 1 1 ? 2199)", at(2199, 1, 1)),  # the last possible year has passed
        ("cron(0 0 * * ? 2020-2022)", at(2026, 1, 1)),
        ("cron(0 0 31 2 ? *)", at(2026, 1, 1)),  # February 31st never comes
        ("cron(0 0 ? * 2#5 2026)", at(2026, 11, 30)),  # no fifth Monday left in 2026
        ("cron(* * * * ? *)", at(2200, 1, 1)),
        ("cron(* * * * ? *)", datetime.max.replace(tzinfo=UTC)),
    ],
)
def test_cron_returns_none_when_it_never_fires_again(expression: str, after: datetime) -> None:
    assert parse_schedule(expression).next_after(after) is None


def test_cron_accepts_any_timezone_and_answers_in_utc() -> None:
    tokyo = timezone(timedelta(hours=9))
    fire = parse_schedule("cron(0 10 * * ? *)").next_after(datetime(2026, 1, 1, 9, tzinfo=tokyo))
    assert fire == at(2026, 1, 1, 10) and fire.tzinfo == UTC


def test_next_after_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_schedule("cron(0 10 * * ? *)").next_after(datetime(2026, 1, 1))


RATE_CASES = [
    ("rate(1 minute)", at(2026, 1, 1), at(2026, 1, 1, 0, 1)),
    ("rate(1 minute)", at(2026, 1, 1, 0, 0, 30), at(2026, 1, 1, 0, 1)),
    ("rate(5 minutes)", at(2026, 1, 1, 0, 7), at(2026, 1, 1, 0, 10)),
    ("rate(1 hour)", at(2026, 1, 1, 10), at(2026, 1, 1, 11)),
    ("rate(2 hours)", at(2026, 1, 1, 1), at(2026, 1, 1, 2)),
    ("rate(1 day)", at(2026, 1, 1, 12), at(2026, 1, 2)),
    ("rate(3 days)", at(2026, 1, 1), at(2026, 1, 4)),  # 20454 days after the epoch
]


@pytest.mark.parametrize(("expression", "after", "expected"), RATE_CASES)
def test_rate_fires_on_a_grid_anchored_at_the_epoch(
    expression: str, after: datetime, expected: datetime
) -> None:
    schedule = parse_schedule(expression)
    assert isinstance(schedule, RateSchedule)
    assert schedule.next_after(after) == expected


def test_rate_anchor_sets_the_phase_before_and_after_it() -> None:
    schedule = parse_schedule("rate(1 hour)", anchor=at(2026, 1, 1, 0, 30))
    assert schedule.next_after(at(2026, 1, 1, 5, 10)) == at(2026, 1, 1, 5, 30)
    assert schedule.next_after(at(2026, 1, 1, 5, 30)) == at(2026, 1, 1, 6, 30)
    assert schedule.next_after(at(2025, 12, 31, 23, 45)) == at(2026, 1, 1, 0, 30)


def test_rate_past_the_end_of_time_returns_none() -> None:
    assert parse_schedule("rate(1 day)").next_after(datetime.max.replace(tzinfo=UTC)) is None


INVALID = [
    ("", "empty"),
    ("   ", "empty"),
    ("every 5 minutes", "expected 'rate(value unit)' or 'cron("),
    ("cron 0 10 * * ? *", "expected 'rate(value unit)' or 'cron("),
    ("CRON(0 10 * * ? *)", "expected 'rate(value unit)' or 'cron("),
    ("cron(0 10 * * ?)", "expected 6 fields (minutes hours day-of-month month day-of-week year), got 5"),
    ("cron(0 0 10 * * ? *)", "expected 6 fields"),
    ("cron()", "got 0"),
    ("cron(60 10 * * ? *)", "minutes field '60' is out of range 0-59"),
    ("cron(0 25 * * ? *)", "cron(0 25 * * ? *): hours field '25' is out of range 0-23"),
    ("cron(0 1-99 * * ? *)", "hours field '1-99': '99' is out of range 0-23"),
    ("cron(0 0 0 * ? *)", "day-of-month field '0' is out of range 1-31"),
    ("cron(0 0 32 * ? *)", "day-of-month field '32' is out of range 1-31"),
    ("cron(0 0 1 13 ? *)", "month field '13' is out of range 1-12"),
    ("cron(0 0 ? * 8 *)", "day-of-week field '8' is out of range 1-7"),
    ("cron(0 0 ? * 0 *)", "day-of-week field '0' is out of range 1-7"),
    ("cron(0 0 * * ? 1969)", "year field '1969' is out of range 1970-2199"),
    ("cron(0 0 * * ? 2200)", "year field '2200' is out of range 1970-2199"),
    ("cron(0 0 * * ? 2020-" + "9" * 5000 + ")", "is out of range 1970-2199"),
    ("cron(0 0 * * * *)", "day-of-month field '*' and day-of-week field '*' are both set"),
    ("cron(0 0 1 * MON *)", "day-of-month field '1' and day-of-week field 'MON' are both set"),
    ("cron(0 0 ? * ? *)", "day-of-month and day-of-week fields are both '?'"),
    ("cron(0 0 * FOO ? *)", "month field 'FOO' is not a number or a name JAN-DEC"),
    ("cron(0 0 ? * MON-FUN *)", "day-of-week field 'MON-FUN': 'FUN' is not a number or a name SUN-SAT"),
    ("cron(0 0 ? * JAN *)", "day-of-week field 'JAN' is not a number or a name SUN-SAT"),
    ("cron(x 0 * * ? *)", "minutes field 'x' is not a number"),
    ("cron(0/0 * * * ? *)", "minutes field '0/0': step '0' must be an integer in 1-59"),
    ("cron(0/60 * * * ? *)", "minutes field '0/60': step '60'"),
    ("cron(0/x * * * ? *)", "minutes field '0/x': step 'x'"),
    ("cron(0 10-5 * * ? *)", "hours field '10-5': range '10-5' runs backwards"),
    ("cron(0 1- * * ? *)", "hours field '1-' has an empty value"),
    ("cron(0 1,,2 * * ? *)", "hours field '1,,2' has an empty value"),
    ("cron(? 0 * * ? *)", "minutes field '?' uses '?'"),
    ("cron(L 0 * * ? *)", "minutes field 'L' is not a number"),
    ("cron(0 0 ? * 2/2 *)", "day-of-week field '2/2' uses '/'"),
    ("cron(0 0 5#2 * ? *)", "day-of-month field '5#2' uses '#'"),
    ("cron(0 0 ? * 3#1,6#3 *)", "day-of-week field '3#1,6#3': '#' and 'L' must be the whole field"),
    ("cron(0 0 ? * 3#6 *)", "day-of-week field '3#6': occurrence '6' after '#' must be 1-5"),
    ("cron(0 0 ? * 9#1 *)", "day-of-week field '9#1': '9' is out of range 1-7"),
    ("cron(0 0 ? * 8L *)", "day-of-week field '8L': '8' is out of range 1-7"),
    ("cron(0 0 L,15 * ? *)", "day-of-month field 'L,15': 'L' and 'W' must be the whole field"),
    ("cron(0 0 1-5W * ? *)", "day-of-month field '1-5W': 'W' must be used alone"),
    ("cron(0 0 32W * ? *)", "day-of-month field '32W': '32' is out of range 1-31"),
    ("cron(0 0 5 JAN-MAR ? ²)", "year field '²' uses '²'"),
    ("rate(0 minutes)", "rate(0 minutes): value '0' must be a positive integer"),
    ("rate(-5 minutes)", "value '-5' must be a positive integer"),
    ("rate(1.5 hours)", "value '1.5' must be a positive integer"),
    ("rate(5 minute)", "rate(5 minute): unit 'minute' must be plural ('minutes')"),
    ("rate(1 hours)", "rate(1 hours): unit 'hours' must be singular ('hour')"),
    ("rate(1 minutes)", "unit 'minutes' must be singular ('minute')"),
    ("rate(2 day)", "unit 'day' must be plural ('days')"),
    ("rate(5 weeks)", "unit 'weeks' is not one of minute, minutes, hour, hours, day, days"),
    ("rate(5 Minutes)", "unit 'Minutes' is not one of"),
    ("rate(5)", "expected 'rate(value unit)' with 2 fields, got 1"),
    ("rate(5 minutes please)", "got 3"),
    ("rate(" + "9" * 5000 + " days)", "is too large"),
]


@pytest.mark.parametrize(("expression", "message"), INVALID)
def test_malformed_expression_is_rejected_with_a_message_naming_the_fault(
    expression: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_schedule(expression)
    assert message in caught.value.message
    assert caught.value.field == "ScheduleExpression"
    if expression.strip():
        assert caught.value.message.startswith(expression[:40])


# --- properties -------------------------------------------------------------------------

MONTH_NAMES = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
DAY_NAMES = "SUN MON TUE WED THU FRI SAT".split()


@st.composite
def plain_field(
    draw: st.DrawFn, lo: int, hi: int, names: list[str] | None = None, steps: bool = True
) -> tuple[str, set[int]]:
    """A field of lists/ranges/steps, with the set of values it means, computed naively."""

    def show(v: int) -> str:
        return names[v - lo] if names and draw(st.booleans()) else str(v)

    items, values = [], set()
    for _ in range(draw(st.integers(1, 3))):
        a, b = sorted(draw(st.lists(st.integers(lo, hi), min_size=2, max_size=2)))
        step = draw(st.integers(1, hi - lo))
        kinds = ["*", "one", "range"] + (["start/step", "*/step", "range/step"] if steps else [])
        kind = draw(st.sampled_from(kinds))
        # (text, first, last, step): the item means every step-th value from first to last
        text, first, last, every = {
            "*": ("*", lo, hi, 1),
            "one": (show(a), a, a, 1),
            "range": (f"{show(a)}-{show(b)}", a, b, 1),
            "start/step": (f"{show(a)}/{step}", a, hi, step),
            "*/step": (f"*/{step}", lo, hi, step),
            "range/step": (f"{show(a)}-{show(b)}/{step}", a, b, step),
        }[kind]
        items.append(text)
        values |= {v for v in range(first, last + 1) if (v - first) % every == 0}
    return ",".join(items), values


def _aws_dow(d: date) -> int:
    return d.isoweekday() % 7 + 1  # ISO MON=1..SUN=7 -> AWS SUN=1..SAT=7


def _is_last_day(d: date) -> bool:
    return (d + timedelta(days=1)).month != d.month


def _nearest_weekday(d: date, n: int) -> bool:
    days = [date(d.year, d.month, k) for k in range(1, 32) if _valid(d.year, d.month, k)]
    if n > len(days):
        return False
    best = min((x for x in days if x.isoweekday() <= 5), key=lambda x: abs(x.day - n))
    return best == d


def _is_last_weekday(d: date) -> bool:
    later = [date(d.year, d.month, k) for k in range(d.day + 1, 32) if _valid(d.year, d.month, k)]
    return d.isoweekday() <= 5 and all(x.isoweekday() > 5 for x in later)


def _valid(y: int, m: int, k: int) -> bool:
    try:
        date(y, m, k)
        return True
    except ValueError:
        return False


@st.composite
def day_fields(draw: st.DrawFn) -> tuple[str, str, object]:
    """(day-of-month, day-of-week, predicate on a date) with one of the two set to '?'."""
    kind = draw(st.sampled_from(["dom", "L", "LW", "W", "dow", "dowL", "nL", "#"]))
    n, dow, k = draw(st.integers(1, 31)), draw(st.integers(1, 7)), draw(st.integers(1, 5))
    if kind == "dom":
        text, values = draw(plain_field(1, 31))
        return text, "?", lambda d: d.day in values
    if kind == "L":
        return "L", "?", _is_last_day
    if kind == "LW":
        return "LW", "?", _is_last_weekday
    if kind == "W":
        return f"{n}W", "?", lambda d: _nearest_weekday(d, n)
    if kind == "dow":
        text, values = draw(plain_field(1, 7, DAY_NAMES, steps=False))
        return "?", text, lambda d: _aws_dow(d) in values
    if kind == "dowL":
        return "?", "L", lambda d: _aws_dow(d) == 7
    if kind == "nL":
        return "?", f"{dow}L", lambda d: _aws_dow(d) == dow and (d + timedelta(days=7)).month != d.month
    return "?", f"{dow}#{k}", lambda d: _aws_dow(d) == dow and (d.day - 1) // 7 + 1 == k


@st.composite
def cron_cases(draw: st.DrawFn) -> tuple[str, object, datetime]:
    minute, minutes = draw(plain_field(0, 59))
    hour, hours = draw(plain_field(0, 23))
    dom, dow, day_ok = draw(day_fields())
    month, months = draw(plain_field(1, 12, MONTH_NAMES))
    start = draw(st.datetimes(datetime(1990, 1, 1), datetime(2199, 12, 31), timezones=st.just(UTC)))
    if draw(st.booleans()):
        year, years = "*", set(range(1970, 2200))
    else:  # years around the start, so fires fall inside the brute-force window
        a = draw(st.integers(max(1970, start.year - 1), start.year))
        b = draw(st.integers(a, min(2199, start.year + 2)))
        year, years = f"{a}-{b}", set(range(a, b + 1))

    def matches(t: datetime) -> bool:
        return (t.year in years and t.month in months and day_ok(t.date())
                and t.hour in hours and t.minute in minutes)

    def day_matches(t: datetime) -> bool:
        return t.year in years and t.month in months and day_ok(t.date())

    matches.day = day_matches  # type: ignore[attr-defined]
    matches.hours = hours  # type: ignore[attr-defined]
    return f"cron({minute} {hour} {dom} {month} {dow} {year})", matches, start


def brute_force_next(matches, after: datetime, days: int) -> datetime | None:
    """Minute by minute, skipping whole days and hours that cannot match."""
    t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    end = min(t + timedelta(days=days), datetime(2200, 1, 1, tzinfo=UTC))
    while t < end:
        if not matches.day(t):
            t = (t + timedelta(days=1)).replace(hour=0, minute=0)
        elif t.hour not in matches.hours:
            t = (t + timedelta(hours=1)).replace(minute=0)
        elif matches(t):
            return t
        else:
            t += timedelta(minutes=1)
    return None


WINDOW_DAYS = 800


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cron_cases())
def test_cron_next_after_is_the_first_matching_minute(case) -> None:
    expression, matches, start = case
    fire = parse_schedule(expression).next_after(start)
    expected = brute_force_next(matches, start, WINDOW_DAYS)
    if expected is not None:
        assert fire == expected, expression
    else:
        assert fire is None or fire >= start + timedelta(days=WINDOW_DAYS - 1), expression
    if fire is not None:
        assert fire > start and fire.tzinfo == UTC and fire.second == 0 and matches(fire)


_TOKENS = ["0", "5", "59", "1-5", "*/3", "?", "*", "L", "LW", "15W", "6L", "3#2", "MON-FRI", "JAN",
           ",", "-", "/", "#", "W", "x", "2199", "0/0", "", "  ", "99999999999"]


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(),
        st.builds(lambda s: f"cron({s})", st.text()),
        st.builds(lambda s: f"rate({s})", st.text()),
        st.builds(lambda ts: "cron(" + " ".join(ts) + ")", st.lists(st.sampled_from(_TOKENS), max_size=7)),
        st.builds(lambda v, u: f"rate({v} {u})", st.sampled_from(["0", "1", "7", "-1", "x", "01"]),
                  st.sampled_from(["minute", "minutes", "hour", "hours", "day", "days", "week", ""])),
    )
)
def test_parse_raises_only_validation_error_and_schedules_always_answer(expression: str) -> None:
    try:
        schedule = parse_schedule(expression)
    except ValidationError as error:
        assert error.message and error.field == "ScheduleExpression"
        return
    assert isinstance(schedule, Schedule)
    after = at(2026, 6, 15, 12, 34, 56)
    fire = schedule.next_after(after)
    assert fire is None or fire > after
