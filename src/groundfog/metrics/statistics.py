"""Per-period statistics of one series, computed in SQL where SQL can.

SampleCount, Sum, Minimum and Maximum are one ``GROUP BY floor((ts - origin) / period)``
query; Average is Sum / SampleCount. Percentiles need the raw values of each period,
so they are a second, ordered query over the same rows, reduced in Python.

Percentiles use the **weighted nearest-rank** method: the pN of a period is the
smallest value v such that the values <= v carry at least N% of the period's sample
count (a ``Values``/``Counts`` pair weighs its count). p0 is the minimum, p100 the
maximum, and every answer is a value that was actually published.

>>> weighted_percentile([(1.0, 1.0), (2.0, 1.0), (3.0, 1.0), (4.0, 1.0)], 50)
2.0
>>> weighted_percentile([(1.0, 9.0), (100.0, 1.0)], 90), weighted_percentile([(1.0, 9.0), (100.0, 1.0)], 91)
(1.0, 100.0)

As CloudWatch documents, a period has no percentiles when any of its data came as a
statistic set holding more than one distinct value, or when any value is negative.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import groupby

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from groundfog.metrics.tables import datapoints


@dataclass
class PeriodStats:
    """The statistics of one period (and one unit, when grouped by unit)."""

    start: float
    unit: str | None
    sample_count: float
    sum: float
    minimum: float
    maximum: float
    percentiles: dict[str, float] = field(default_factory=dict)

    @property
    def average(self) -> float:
        return self.sum / self.sample_count

    def value(self, statistic: str) -> float | None:
        """One statistic by its CloudWatch name (``Average``, ``p99``); None when unavailable."""
        simple = {
            "SampleCount": self.sample_count,
            "Sum": self.sum,
            "Minimum": self.minimum,
            "Maximum": self.maximum,
        }
        if statistic == "Average":
            return self.average
        return simple.get(statistic, self.percentiles.get(statistic))


def aggregate(
    conn: Connection,
    series_id: int,
    *,
    origin: float,
    end: float,
    period: int,
    unit: str | None = None,
    by_unit: bool = True,
    percentiles: Mapping[str, float] | None = None,
) -> list[PeriodStats]:
    """Statistics of every period in ``[origin, end)`` that has data, oldest first.

    Periods start at ``origin + k * period``. ``unit`` keeps only data published with
    that unit; otherwise ``by_unit`` decides whether each unit gets its own statistics
    (as ``GetMetricStatistics`` does) or all are pooled (as alarms without a unit do).
    """
    bucket = _bucket(conn.dialect.name, datapoints.c.timestamp, origin, period)
    where = [datapoints.c.series_id == series_id, datapoints.c.timestamp >= origin, datapoints.c.timestamp < end]
    if unit is not None:
        where.append(datapoints.c.unit == unit)
    unit_col = datapoints.c.unit if by_unit else sa.null()
    d = datapoints.c
    rows = (
        sa.select(bucket.label("bucket"), unit_col.label("unit"), d.value, d.sample_count, d.sum, d.minimum, d.maximum)
        .where(*where)
        .subquery()
    )
    keys = [rows.c.bucket, rows.c.unit] if by_unit else [rows.c.bucket]
    query = (
        sa.select(
            *keys,
            sa.func.sum(rows.c.sample_count).label("n"),
            sa.func.sum(rows.c.sum).label("total"),
            sa.func.min(rows.c.minimum).label("lo"),
            sa.func.max(rows.c.maximum).label("hi"),
            sa.func.count(rows.c.value).label("with_value"),
            sa.func.count().label("n_rows"),
        )
        .group_by(*keys)
        .order_by(*keys)
    )
    result: dict[tuple[int, str | None], PeriodStats] = {}
    ranked: set[tuple[int, str | None]] = set()
    for r in conn.execute(query):
        key = (int(r.bucket), r.unit if by_unit else None)
        result[key] = PeriodStats(origin + key[0] * period, key[1], r.n, r.total, r.lo, r.hi)
        if r.with_value == r.n_rows and r.lo >= 0:
            ranked.add(key)
    if percentiles and ranked:
        values = sa.select(*keys, rows.c.value, rows.c.sample_count).where(rows.c.value.is_not(None))
        ordered = conn.execute(values.order_by(*keys, rows.c.value))
        for key, group in groupby(ordered, key=lambda r: (int(r.bucket), r.unit if by_unit else None)):
            if key in ranked:
                pairs = [(r.value, r.sample_count) for r in group]
                result[key].percentiles = {name: weighted_percentile(pairs, p) for name, p in percentiles.items()}
    return list(result.values())


def weighted_percentile(pairs: Iterable[tuple[float, float]], p: float) -> float:
    """Weighted nearest rank over ``(value, weight)`` pairs sorted by value."""
    pairs = list(pairs)
    total = sum(w for _, w in pairs)
    rank = Fraction(str(p)) / 100 * Fraction(total)
    seen = 0.0
    for value, weight in pairs:
        seen += weight
        if seen >= rank and seen > 0:
            return value
    return pairs[-1][0]


def _bucket(dialect: str, ts: sa.ColumnElement, origin: float, period: int) -> sa.ColumnElement:
    offset = (ts - sa.literal(float(origin))) / sa.literal(float(period))
    if dialect == "postgresql":
        return sa.cast(sa.func.floor(offset), sa.BigInteger)
    # SQLite's CAST truncates toward zero, which is floor here: rows are filtered to ts >= origin.
    return sa.cast(offset, sa.Integer)
