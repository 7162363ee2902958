"""A failed job's ``FailureReason``: read from its log, or said for a lost process.

>>> failure_reason_from_log(Path("logs/output.log"), 1)  # log ends in a traceback  # doctest: +SKIP
'ValueError: bad input'
"""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

__all__ = ["LOST", "MAX_REASON", "NEVER_STARTED", "failure_reason_from_log"]

LOST = "the job's process ended while groundfog was not running and left no exit status"
NEVER_STARTED = "groundfog stopped before the job's process was started"
MAX_REASON = 1024  # SageMaker's FailureReason limit

_EXCEPTION_LINE = re.compile(
    r"^[\s|+]*((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception|Interrupt|Exit|Failure|Fault)\b(?::.*)?)$"
)
_ERRORISH = re.compile(r"error|exception|fatal|failed|failure|killed|abort|panic|denied|not found", re.IGNORECASE)


def failure_reason_from_log(log_path: Path, exit_code: int | None, *, max_bytes: int = 65536) -> str:
    """SageMaker-style FailureReason: the last error line of the log, else the exit status.

    A Python traceback gives its exception line (``ValueError: bad input``).
    """
    if exit_code is not None and exit_code < 0:
        name = _signal_name(-exit_code)
        hint = " (out of memory, or killed from outside)" if -exit_code == signal.SIGKILL else ""
        return _clip(f"the job's process was killed by {name}{hint}")
    try:
        with open(log_path, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - max_bytes))
            lines = [line.rstrip() for line in f.read().decode(errors="replace").splitlines()]
    except OSError:
        lines = []
    lines = [line for line in lines if line.strip()]
    for line in reversed(lines[-200:]):
        match = _EXCEPTION_LINE.match(line)
        if match:
            return _clip(match.group(1))
    for line in reversed(lines[-20:]):
        if _ERRORISH.search(line):
            return _clip(line.strip())
    reason = f"the job's process exited with code {exit_code}"
    return _clip(f"{reason}; its last output: {lines[-1].strip()}" if lines else reason)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
