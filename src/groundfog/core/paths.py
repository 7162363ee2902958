"""Paths a user gives: file endpoints, code directories, working directories.

>>> user_path("~/sink.jsonl", "Endpoint") == Path.home() / "sink.jsonl"
True
"""

from __future__ import annotations

from pathlib import Path

from groundfog.core.errors import ValidationError
from groundfog.core.text import check_string


def user_path(value: str | Path, field: str) -> Path:
    """``value`` as a ``Path`` with ``~`` expanded; ``ValidationError`` naming
    ``field`` when it cannot be one (empty, a NUL in it, ``~`` of an unknown user)."""
    text = str(value) if isinstance(value, Path) else value
    if not isinstance(text, str) or not text:
        raise ValidationError(f"{field} must be a non-empty path", field=field)
    check_string(text, field)  # no operating system takes a NUL in a path
    try:
        return Path(text).expanduser()
    except RuntimeError:  # "~someone" when there is no such user (or no home at all)
        raise ValidationError(f"{field} {text!r}: cannot expand '~': no such user", field=field) from None
