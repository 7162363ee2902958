"""Handlers the engine tests run as Lambda steps (registered as events functions)."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

_lock = threading.Lock()
_running: dict[str, tuple[int, int]] = {}


def double(event, context):
    return {"y": event["x"] * 2}


def noop(event, context):
    return {}


def echo(event, context):
    return {"out": json.dumps(event, sort_keys=True)}


def flaky(event, context):
    """Fails until it has been called ``event["fail_times"]`` times (counted in a file)."""
    counter = Path(event["counter"])
    with _lock:
        calls = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(calls))
    if calls <= int(event["fail_times"]):
        raise RuntimeError(f"flaky failure {calls}")
    return {"calls": calls}


def sleepy(event, context):
    """Sleeps, recording in a file how many sleepy calls (of that file) ran at once at most."""
    key = event["record"]
    with _lock:
        now, most = _running.get(key, (0, 0))
        _running[key] = (now + 1, max(most, now + 1))
        Path(key).write_text(str(_running[key][1]))
    try:
        time.sleep(float(event.get("seconds", 0.3)))
    finally:
        with _lock:
            now, most = _running[key]
            _running[key] = (now - 1, most)
    return {"slept": float(event.get("seconds", 0.3))}


def append(event, context):
    """Appends the event to a file: a record of every call."""
    with open(event["log"], "a") as f:
        f.write(json.dumps(event, sort_keys=True) + "\n")
    return {"pid": os.getpid()}
