"""How an alarm decides its state from the datapoints of its evaluation range.

This follows CloudWatch's documented "M out of N" evaluation ("How alarm state is
evaluated when data is missing", CloudWatch User Guide), including both of its
example tables, which ``tests/metrics/test_alarm_evaluation.py`` replays row by row.
With N = EvaluationPeriods and M = DatapointsToAlarm:

- The *evaluation range* is the last N + 2 periods (the docs' example retrieves 5
  datapoints for N = 3; the general size is not documented). The newest period is the
  one containing "now", so freshly published data counts at once.
- If at least N datapoints of the range exist, the newest N real ones are evaluated
  and missing-data treatment plays no part: ALARM when at least M breach, else OK.
- If none exist: ``missing`` -> INSUFFICIENT_DATA, ``ignore`` -> the state is kept,
  ``breaching`` -> ALARM, ``notBreaching`` -> OK.
- If some but fewer than N exist, with ``breaching``/``notBreaching`` every real one is
  evaluated together with as few filled-in datapoints as make N.
- With ``missing``/``ignore`` only the real ones count: ALARM when at least M breach;
  OK when one of them does not breach; when all of them breach but fewer than M,
  ``ignore`` keeps the state, and ``missing`` goes to ALARM only if the oldest of them
  lies before the last N periods (the breach has stood for the whole evaluation
  period, table 1 row 6), else INSUFFICIENT_DATA (table 1 row 5, table 2 row 5).

>>> pts = [Point(0, 0.0), Point(60, None), Point(120, 5.0), Point(180, None), Point(240, 5.0)]
>>> decide(pts, m=2, n=3, threshold=4.0, operator="GreaterThanOrEqualToThreshold",
...        treat_missing_data="missing", current_state="OK").state
'ALARM'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from groundfog.metrics.models import ALARM, COMPARISON_OPERATORS, INSUFFICIENT_DATA, OK

EXTRA_PERIODS = 2  # the evaluation range is N + EXTRA_PERIODS periods long


@dataclass(frozen=True)
class Point:
    """One period of the evaluation range: its start and its statistic (None: missing)."""

    timestamp: float
    value: float | None


@dataclass(frozen=True)
class Decision:
    """The state an evaluation arrives at (None: keep the current one), and why."""

    state: str | None
    reason: str = ""
    evaluated: list[Point] = field(default_factory=list)


def decide(
    points: Sequence[Point],
    *,
    m: int,
    n: int,
    threshold: float,
    operator: str,
    treat_missing_data: str,
    current_state: str,
) -> Decision:
    """The state for ``points`` (oldest first, the whole evaluation range)."""
    phrase, compare = COMPARISON_OPERATORS[operator]
    real = [p for p in points if p.value is not None]
    treat = treat_missing_data
    if len(real) >= n:
        evaluated, filled = real[-n:], 0
    elif treat in ("breaching", "notBreaching") or not real:
        evaluated, filled = real, n - len(real)
    else:
        evaluated, filled = real, 0
    k = sum(1 for p in evaluated if compare(p.value, threshold))
    if treat == "breaching":
        k += filled

    if not real and treat in ("missing", "ignore"):
        state = INSUFFICIENT_DATA if treat == "missing" else None
    elif k >= m:
        state = ALARM
    elif len(real) >= n or treat in ("breaching", "notBreaching") or k < len(real):
        state = OK
    elif treat == "ignore":
        state = None
    else:  # missing: every real datapoint breaches, but fewer than M of them
        stood = real[0].timestamp < points[-n].timestamp
        state = ALARM if stood else INSUFFICIENT_DATA

    if state is None or state == current_state:
        return Decision(state, "", evaluated)
    if state == INSUFFICIENT_DATA:
        unknown = n - len(real)
        return Decision(state, f"Insufficient Data: {_count(unknown, 'datapoint')} {_was(unknown)} unknown.", evaluated)
    alarming = state == ALARM
    supporting = [p for p in reversed(evaluated) if compare(p.value, threshold) == alarming]
    verb = phrase if alarming else f"not {phrase}"
    parts = []
    if supporting:
        listed = ", ".join(f"{p.value!r} ({_when(p.timestamp)})" for p in supporting)
        parts.append(
            f"{len(supporting)} out of the last {_count(len(evaluated) + filled, 'datapoint')} [{listed}] "
            f"{_was(len(supporting))} {verb} the threshold ({float(threshold)!r})"
        )
    if filled and treat in ("breaching", "notBreaching") and (treat == "breaching") == alarming:
        prefix = "" if real else f"no datapoints were received for {_count(filled, 'period')} and "
        kind = "Breaching" if treat == "breaching" else "NonBreaching"
        parts.append(f"{prefix}{_count(filled, 'missing datapoint')} {_was(filled)} treated as [{kind}]")
    needed = m if alarming else n - m + 1
    reason = (
        f"Threshold Crossed: {' and '.join(parts)} "
        f"(minimum {_count(needed, 'datapoint')} for {current_state} -> {state} transition)."
    )
    return Decision(state, reason, evaluated)


def reason_data(
    decision: Decision, points: Sequence[Point], *, now: float, statistic: str, period: int, threshold: float
) -> dict[str, Any]:
    """CloudWatch's ``StateReasonData`` for an evaluated transition."""
    return {
        "version": "1.0",
        "queryDate": _iso(now),
        "startDate": _iso(points[0].timestamp) if points else _iso(now),
        "statistic": statistic,
        "period": period,
        "recentDatapoints": [p.value for p in points if p.value is not None],
        "threshold": float(threshold),
        "evaluatedDatapoints": [
            {"timestamp": _iso(p.timestamp), "value": p.value} for p in reversed(decision.evaluated)
        ],
    }


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _was(n: int) -> str:
    return "was" if n == 1 else "were"


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%d/%m/%y %H:%M:%S")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat()
