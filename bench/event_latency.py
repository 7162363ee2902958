"""From calling ``put_object`` to a rule's function
target running, over 1,000 events (SQLite state, local objects, embedded platform).

Goal: p99 under 20 ms. The peer is the floor: the same function called directly."""

from __future__ import annotations

import statistics
import tempfile
import time

from rich.console import Console
from rich.table import Table

from bench import handlers

N = 1000


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    from groundfog import Platform

    with tempfile.TemporaryDirectory(prefix="gf-bench-events-") as home, Platform(home=home) as p:
        p.storage.create_bucket("bench")
        p.storage.put_bucket_notification_configuration("bench", {"EventBridgeConfiguration": {}})
        fn = p.events.create_function(name="record", handler="bench.handlers:record")
        p.events.put_rule(
            name="on-upload",
            event_pattern={"source": ["aws.s3"], "detail-type": ["Object Created"],
                           "detail": {"bucket": {"name": ["bench"]}, "object": {"key": [{"prefix": "in/"}]}}},
        )
        p.events.put_targets(rule="on-upload", targets=[{"Id": "fn", "Arn": fn.function_arn}])
        latencies: list[float] = []
        for i in range(N + 50):
            key = f"in/{i:05d}.csv"
            start = time.perf_counter()
            p.storage.put_object(bucket="bench", key=key, body=b"a,b\n1,2\n")
            deadline = start + 5
            while key not in handlers.RECEIVED and time.perf_counter() < deadline:
                time.sleep(0.0002)
            if i >= 50:  # warm-up excluded
                latencies.append((handlers.RECEIVED.get(key, deadline) - start) * 1000)
        direct: list[float] = []
        event = {"detail": {"object": {"key": "x"}}}
        for _ in range(N):
            start = time.perf_counter()
            handlers.record(event, None)
            direct.append((time.perf_counter() - start) * 1000)

    table = Table(title=f"put_object → rule → function target, {N} events (ms)")
    for col in ("path", "p50", "p90", "p99", "max", "goal"):
        table.add_column(col)
    for label, values, goal in (("groundfog event-to-target", latencies, "p99 < 20"),
                                ("direct call (floor)", direct, "")):
        table.add_row(label, f"{statistics.median(values):.2f}", f"{_percentile(values, .9):.2f}",
                      f"{_percentile(values, .99):.2f}", f"{max(values):.2f}", goal)
    Console().print(table)
