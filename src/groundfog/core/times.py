"""Times a user gives (a datetime, epoch seconds, ISO 8601 text) as epoch seconds.

Every time a request carries goes through ``epoch_seconds``, so each one is finite and
inside the range a ``datetime`` can show (years 1 to 9999): a later
``datetime.fromtimestamp`` in a response, a message or a query never overflows.

>>> epoch_seconds("2026-01-01T00:00:00Z", "Time")
1767225600.0
>>> epoch_seconds(1e300, "Time")
Traceback (most recent call last):
...
groundfog.core.errors.ValidationError: Time 1e+300 is out of range: times run from 0001-01-01 to 9999-12-31 (UTC)
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

from groundfog.core.errors import ValidationError

def utc_datetime(epoch: float | None) -> datetime | None:
    """A stored epoch-seconds time as an aware UTC ``datetime`` (None stays None).

    >>> utc_datetime(0.0).isoformat()
    '1970-01-01T00:00:00+00:00'
    """
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=timezone.utc)


def iso_utc(epoch: float | None) -> str | None:
    """A stored epoch-seconds time as ISO 8601 text in UTC, to the millisecond (None stays None).

    >>> iso_utc(0.25)
    '1970-01-01T00:00:00.250Z'
    """
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


EARLIEST = datetime(1, 1, 1, tzinfo=timezone.utc).timestamp()
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc).timestamp()


def epoch_seconds(value: object, field: str) -> float:
    """``value`` (a datetime, epoch seconds as a number or text, or ISO 8601 text; naive
    means UTC) as epoch seconds; ``ValidationError`` naming ``field`` otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = _float(value)
    elif isinstance(value, (str, datetime)):
        seconds = _float(value) if isinstance(value, str) and _is_number(value) else _timestamp(value, field)
    else:
        raise ValidationError(
            f"{field} must be a time (ISO 8601 text or epoch seconds), got {type(value).__name__}", field=field
        )
    if not (math.isfinite(seconds) and EARLIEST <= seconds <= LATEST):
        raise ValidationError(
            f"{field} {_shown(value)} is out of range: times run from 0001-01-01 to 9999-12-31 (UTC)", field=field
        )
    return seconds


def _timestamp(value: str | datetime, field: str) -> float:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(
                f"{field} {_shown(value)} is not a time: give ISO 8601 text or epoch seconds", field=field
            ) from None
    try:
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    except (OverflowError, ValueError, OSError):  # an aware datetime just outside the range
        return math.nan


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _float(value: int | float | str) -> float:
    try:
        return float(value)
    except OverflowError:  # an integer beyond any float
        return math.inf


def _shown(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else f"{text[:40]}...({len(text)} characters)"
