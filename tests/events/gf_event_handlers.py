"""Function handlers the events tests deploy; each call is recorded in ``CALLS``.

Imported by name (``gf_event_handlers:record``) by the dispatcher in the test process,
and from ``code_path`` by the subprocess of the crash-recovery test.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

CALLS: list[tuple[str, Any]] = []  # (function name, event)
_changed = threading.Condition()
_failures_left: dict[str, int] = {}


def _note(event: Any, context: Any) -> None:
    with _changed:
        CALLS.append((context.function_name, event))
        _changed.notify_all()


def record(event: Any, context: Any) -> dict:
    _note(event, context)
    return {"seen": event, "request_id": context.aws_request_id, "arn": context.invoked_function_arn,
            "remaining_ms": context.get_remaining_time_in_millis()}


def fail(event: Any, context: Any) -> None:
    _note(event, context)
    raise RuntimeError("target failed on purpose")


def fail_first(event: Any, context: Any) -> None:
    """Fails the first N calls of a function (N from ``fail_times``), then records."""
    _note(event, context)
    with _changed:
        left = _failures_left.get(context.function_name, 0)
        if left:
            _failures_left[context.function_name] = left - 1
            raise RuntimeError(f"failing {left} more time(s)")


def die_in_child(event: Any, context: Any) -> None:
    """Kills the process when GF_TEST_DIE is set (the crash test's child); else records."""
    if os.environ.get("GF_TEST_DIE"):
        os._exit(3)
    _note(event, context)


def fail_times(function_name: str, times: int) -> None:
    with _changed:
        _failures_left[function_name] = times


def reset() -> None:
    with _changed:
        CALLS.clear()
        _failures_left.clear()


def calls_of(name: str) -> list[Any]:
    with _changed:
        return [event for fn, event in CALLS if fn == name]


def wait_for(name: str, count: int, timeout: float = 10.0) -> list[Any]:
    """The events ``name`` received, once there are at least ``count`` (or on timeout)."""
    deadline = time.monotonic() + timeout
    with _changed:
        while len([1 for fn, _ in CALLS if fn == name]) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            _changed.wait(remaining)
        return [event for fn, event in CALLS if fn == name]
