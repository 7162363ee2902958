"""CloudWatch's input rules, checked before anything is written.

Every error names the field at fault the way CloudWatch's request does
(``MetricData[3].Value``), says what was wrong with which value, and what is expected.

>>> parse_dimensions([{"Name": "Host", "Value": "a"}], "Dimensions")
[('Host', 'a')]
>>> parse_namespace("AWS/EC2")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
groundfog.core.errors.ValidationError: Namespace 'AWS/EC2' is reserved: ...
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from groundfog.core.errors import ValidationError
from groundfog.core.times import epoch_seconds
from groundfog.metrics.models import COMPARISON_OPERATORS, STATISTICS, TREAT_MISSING_DATA, UNITS

MAX_ENTRIES = 1000
MAX_DIMENSIONS = 30
MAX_VALUES = 150
MAX_ALARM_NAMES = 100
PAST_LIMIT = 14 * 86400  # CloudWatch accepts datapoints up to two weeks old...
FUTURE_LIMIT = 2 * 3600  # ...and up to two hours in the future.
_LIMIT = 2.0**360
_NAMESPACE = re.compile(r"^[0-9A-Za-z._/#: -]+$")
_PERCENTILE = re.compile(r"^p(\d{1,3}(\.\d+)?)$")
_DATUM_KEYS = {"MetricName", "Dimensions", "Timestamp", "Value", "Values", "Counts", "StatisticValues", "Unit",
               "StorageResolution"}
_STAT_SET_KEYS = ("SampleCount", "Sum", "Minimum", "Maximum")

Dims = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Row:
    """One datapoint row to store (a statistic set that cannot give percentiles has value None)."""

    metric_name: str
    dims: Dims
    timestamp: float
    unit: str
    value: float | None
    sample_count: float
    sum: float
    minimum: float
    maximum: float
    storage_resolution: int


def fail(field: str, problem: str) -> ValidationError:
    return ValidationError(f"{field}: {problem}", field=field)


def parse_namespace(value: object, field: str = "Namespace", *, allow_reserved: bool = False) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field} must be a non-empty string, got {value!r}", field=field)
    if len(value) > 255:
        raise ValidationError(f"{field} must be at most 255 characters (got {len(value)})", field=field)
    if not _NAMESPACE.match(value) or value.startswith(":"):
        raise ValidationError(
            f"{field} {value!r} may contain only letters, digits, spaces and . - _ / # : (not leading)",
            field=field,
        )
    if value.startswith("AWS/") and not allow_reserved:
        raise ValidationError(
            f"{field} {value!r} is reserved: namespaces beginning with 'AWS/' belong to AWS services", field=field
        )
    return value


def parse_metric_name(value: object, field: str = "MetricName") -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise fail(field, f"must be a string of 1-255 characters with a non-blank one, got {value!r}")
    return value


def parse_dimensions(raw: object, field: str, *, values_required: bool = True) -> list[tuple[str, str | None]]:
    """``[{Name, Value}]`` (or ``Dimension`` models) as ``[(name, value)]``, names unique."""
    if raw is None:
        return []
    if not isinstance(raw, (list, tuple)):
        raise fail(field, f"must be a list of {{Name, Value}} objects, got {type(raw).__name__}")
    if len(raw) > MAX_DIMENSIONS:
        raise fail(field, f"at most {MAX_DIMENSIONS} dimensions are allowed (got {len(raw)})")
    out: list[tuple[str, str | None]] = []
    for i, item in enumerate(raw):
        where = f"{field}[{i}]"
        if hasattr(item, "model_dump"):
            item = item.model_dump(by_alias=True)
        if not isinstance(item, dict):
            raise fail(where, f"must be an object with Name and Value, got {item!r}")
        unknown = sorted(set(item) - {"Name", "Value"})
        if unknown:
            raise fail(f"{where}.{unknown[0]}", "unknown key; a dimension has Name and Value")
        name, value = item.get("Name"), item.get("Value")
        if not isinstance(name, str) or not name.strip() or len(name) > 255 or name.startswith(":"):
            raise fail(f"{where}.Name", f"must be 1-255 characters, not blank, not starting with ':', got {name!r}")
        if not name.isascii():
            raise fail(f"{where}.Name", f"must contain only ASCII characters, got {name!r}")
        if value is None and not values_required:
            pass
        elif not isinstance(value, str) or not value.strip() or len(value) > 1024:
            raise fail(f"{where}.Value", f"must be a string of 1-1024 characters, not blank, got {value!r}")
        if any(name == seen for seen, _ in out):
            raise fail(f"{where}.Name", f"dimension {name!r} is given twice")
        out.append((name, value))
    return out


def canonical(dims: list[tuple[str, str | None]]) -> Dims:
    return tuple(sorted((n, str(v)) for n, v in dims))


def dims_hash(dims: Dims) -> str:
    """Index key of a dimension set, independent of the order the dimensions were given in."""
    return hashlib.sha256(json.dumps(dims, separators=(",", ":")).encode()).hexdigest()


def parse_number(value: object, field: str, *, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(field, f"must be a number, got {value!r}")
    try:
        value = float(value)
    except OverflowError:  # an integer beyond any float
        raise fail(field, "is out of range; magnitudes must lie between 2^-360 and 2^360 (or be 0)") from None
    if not math.isfinite(value):
        raise fail(field, f"{value} is not supported; values must be finite numbers")
    if abs(value) > _LIMIT or (value != 0 and abs(value) < 1 / _LIMIT):
        raise fail(field, f"{value!r} is out of range; magnitudes must lie between 2^-360 and 2^360 (or be 0)")
    if minimum is not None and value < minimum:
        raise fail(field, f"must be at least {minimum:g}, got {value!r}")
    return value


def parse_alarm_names(value: object, field: str = "AlarmNames") -> list[str]:
    """The alarm names an alarm operation acts on: a list of at most 100, as CloudWatch takes."""
    if not isinstance(value, (list, tuple)):
        raise fail(field, f"must be a list of alarm names, got {type(value).__name__}")
    if len(value) > MAX_ALARM_NAMES:
        raise fail(field, f"at most {MAX_ALARM_NAMES} alarm names per request (got {len(value)})")
    for i, name in enumerate(value):
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            shown = f"{len(name)} characters" if isinstance(name, str) else type(name).__name__
            raise fail(f"{field}[{i}]", f"must be an alarm name of 1-255 characters, got {shown}")
    return list(value)


def parse_unit(value: object, field: str = "Unit") -> str:
    if value not in UNITS:
        raise fail(field, f"{value!r} is not a CloudWatch unit; expected one of {', '.join(UNITS)}")
    return str(value)


def parse_statistic(value: object, field: str) -> str:
    if value not in STATISTICS:
        raise fail(field, f"{value!r} is not a statistic; expected one of {', '.join(STATISTICS)}")
    return str(value)


def parse_percentile(value: object, field: str) -> float:
    """``"p99.9"`` -> 99.9; percentiles run from p0 to p100."""
    match = _PERCENTILE.match(value) if isinstance(value, str) else None
    if not match or float(match.group(1)) > 100:
        raise fail(field, f"{value!r} is not a percentile; expected p0 to p100, such as p50, p99 or p99.9")
    return float(match.group(1))


def whole_number(value: object, field: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise fail(field, f"must be a whole number of at least {minimum}, got {value!r}")
    return value


def one_of(value: object, choices: tuple[str, ...] | dict[str, Any], field: str) -> str:
    if value not in choices:
        raise fail(field, f"{value!r} is not one of {', '.join(choices)}")
    return str(value)


def parse_alarm_definition(a: dict[str, Any]) -> dict[str, Any]:
    """``PutMetricAlarm``'s arguments (snake_case) as the alarm table's columns.

    Actions are passed through unchecked: whether they exist is the bus's to say."""
    name = a["alarm_name"]
    if not isinstance(name, str) or not 1 <= len(name) <= 255 or not name.isascii() or not name.isprintable():
        raise fail("AlarmName", f"must be 1-255 printable ASCII characters, got {name!r}")
    namespace = parse_namespace(a["namespace"], allow_reserved=True)
    metric_name = parse_metric_name(a["metric_name"])
    dims = canonical(parse_dimensions(a["dimensions"], "Dimensions"))
    if (a["statistic"] is None) == (a["extended_statistic"] is None):
        raise fail("Statistic", "give exactly one of Statistic or ExtendedStatistic")
    if a["statistic"] is not None:
        parse_statistic(a["statistic"], "Statistic")
    else:
        parse_percentile(a["extended_statistic"], "ExtendedStatistic")
    period = whole_number(a["period"], "Period", minimum=10)
    if period not in (10, 20, 30) and period % 60:
        raise fail("Period", f"must be 10, 20, 30 or a multiple of 60 seconds, got {period}")
    n = whole_number(a["evaluation_periods"], "EvaluationPeriods")
    limit = 7 * 86400 if period >= 3600 else 86400  # CloudWatch's longest evaluation span
    if n * period > limit:
        raise fail("EvaluationPeriods", f"EvaluationPeriods x Period is {n * period} s; at most {limit} s is allowed")
    m = a["datapoints_to_alarm"]
    if m is not None and whole_number(m, "DatapointsToAlarm") > n:
        raise fail("DatapointsToAlarm", f"must be between 1 and EvaluationPeriods ({n}), got {m}")
    description = a["alarm_description"]
    if description is not None and (not isinstance(description, str) or len(description) > 1024):
        raise fail("AlarmDescription", "must be a string of at most 1024 characters")
    return {
        "alarm_name": name, "alarm_description": description, "namespace": namespace, "metric_name": metric_name,
        "dims_hash": dims_hash(dims), "dimensions": [list(d) for d in dims], "statistic": a["statistic"],
        "extended_statistic": a["extended_statistic"], "period": period,
        "unit": None if a["unit"] is None else parse_unit(a["unit"]), "evaluation_periods": n,
        "datapoints_to_alarm": m, "threshold": parse_number(a["threshold"], "Threshold"),
        "comparison_operator": one_of(a["comparison_operator"], COMPARISON_OPERATORS, "ComparisonOperator"),
        "treat_missing_data": one_of(a["treat_missing_data"], TREAT_MISSING_DATA, "TreatMissingData"),
        "actions_enabled": bool(a["actions_enabled"]), "alarm_actions": a["alarm_actions"] or [],
        "ok_actions": a["ok_actions"] or [], "insufficient_data_actions": a["insufficient_data_actions"] or [],
    }


def parse_metric_data(metric_data: object, now: float) -> list[Row]:
    """Check every entry of a ``PutMetricData`` request; the rows to store, or the first error."""
    if not isinstance(metric_data, (list, tuple)) or not metric_data:
        raise fail("MetricData", "must be a non-empty list of metric data entries")
    if len(metric_data) > MAX_ENTRIES:
        raise fail("MetricData", f"at most {MAX_ENTRIES} entries per request (got {len(metric_data)})")
    rows: list[Row] = []
    for i, datum in enumerate(metric_data):
        rows.extend(_parse_datum(datum, f"MetricData[{i}]", now))
    return rows


def _parse_datum(datum: object, where: str, now: float) -> list[Row]:
    if not isinstance(datum, dict):
        raise fail(where, f"must be an object with MetricName and a Value, got {datum!r}")
    unknown = sorted(set(datum) - _DATUM_KEYS)
    if unknown:
        raise fail(f"{where}.{unknown[0]}", f"unknown key; expected some of {', '.join(sorted(_DATUM_KEYS))}")
    name = parse_metric_name(datum.get("MetricName"), f"{where}.MetricName")
    dims = canonical(parse_dimensions(datum.get("Dimensions"), f"{where}.Dimensions"))
    ts = now if datum.get("Timestamp") is None else epoch_seconds(datum["Timestamp"], f"{where}.Timestamp")
    if ts < now - PAST_LIMIT or ts > now + FUTURE_LIMIT:
        raise fail(
            f"{where}.Timestamp",
            f"{_iso(ts)} is outside what CloudWatch accepts: "
            f"from two weeks before now ({_iso(now)}) to two hours after",
        )
    unit = parse_unit(datum.get("Unit", "None"), f"{where}.Unit")
    resolution = datum.get("StorageResolution", 60)
    if resolution not in (1, 60) or isinstance(resolution, bool):
        raise fail(f"{where}.StorageResolution", f"must be 1 (high resolution) or 60, got {resolution!r}")
    given = [k for k in ("Value", "Values", "StatisticValues") if datum.get(k) is not None]
    if len(given) != 1:
        raise fail(where, f"give exactly one of Value, Values or StatisticValues (got {', '.join(given) or 'none'})")
    if "Counts" in datum and given != ["Values"]:
        raise fail(f"{where}.Counts", "Counts goes only with Values")
    base = dict(metric_name=name, dims=dims, timestamp=ts, unit=unit, storage_resolution=resolution)
    if given == ["Value"]:
        v = parse_number(datum["Value"], f"{where}.Value")
        return [Row(**base, value=v, sample_count=1.0, sum=v, minimum=v, maximum=v)]
    if given == ["Values"]:
        return [Row(**base, value=v, sample_count=c, sum=v * c, minimum=v, maximum=v)
                for v, c in _values_and_counts(datum, where) if c > 0]
    return [Row(**base, **_statistic_set(datum["StatisticValues"], f"{where}.StatisticValues"))]


def _values_and_counts(datum: dict[str, Any], where: str) -> list[tuple[float, float]]:
    values, counts = datum["Values"], datum.get("Counts")
    if not isinstance(values, (list, tuple)) or not values:
        raise fail(f"{where}.Values", "must be a non-empty list of numbers")
    if len(values) > MAX_VALUES:
        raise fail(f"{where}.Values", f"at most {MAX_VALUES} values per entry (got {len(values)})")
    if counts is None:
        counts = [1.0] * len(values)
    if not isinstance(counts, (list, tuple)) or len(counts) != len(values):
        raise fail(f"{where}.Counts", f"must list one count per value ({len(values)} values)")
    return [
        (parse_number(v, f"{where}.Values[{j}]"), parse_number(c, f"{where}.Counts[{j}]", minimum=0))
        for j, (v, c) in enumerate(zip(values, counts))
    ]


def _statistic_set(raw: object, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise fail(where, "must be an object with SampleCount, Sum, Minimum and Maximum")
    for key in sorted(set(raw) - set(_STAT_SET_KEYS)):
        raise fail(f"{where}.{key}", "unknown key; a statistic set has SampleCount, Sum, Minimum and Maximum")
    missing = [k for k in _STAT_SET_KEYS if raw.get(k) is None]
    if missing:
        raise fail(f"{where}.{missing[0]}", "is required")
    n = parse_number(raw["SampleCount"], f"{where}.SampleCount")
    if n <= 0:
        raise fail(f"{where}.SampleCount", f"must be greater than 0, got {n!r}")
    lo, hi = parse_number(raw["Minimum"], f"{where}.Minimum"), parse_number(raw["Maximum"], f"{where}.Maximum")
    if lo > hi:
        raise fail(f"{where}.Minimum", f"{lo!r} is greater than Maximum {hi!r}")
    total = parse_number(raw["Sum"], f"{where}.Sum")
    # CloudWatch can give percentiles of a statistic set only when it holds one value.
    value = total if n == 1 else lo if lo == hi else None
    return dict(value=value, sample_count=n, sum=total, minimum=lo, maximum=hi)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat()
