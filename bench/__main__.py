"""``python -m bench [NAME ...]``: run the benchmarks and print their tables."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "storage": "bench.storage_throughput",
    "events": "bench.event_latency",
    "training": "bench.training_startup",
    "tuning": "bench.tuning_overhead",
    "pipelines": "bench.pipeline_overhead",
    "serving": "bench.serving_latency",
    "serving-deploy": "bench.serving_deploy",
    "serving-load": "bench.serving_load",
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark {unknown[0]!r}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    failed = 0
    for name in names:
        # A benchmark may return non-zero (e.g. errors in groundfog's serving rows); the
        # rest still run, and the exit code says so.
        failed |= bool(importlib.import_module(BENCHMARKS[name]).main())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
