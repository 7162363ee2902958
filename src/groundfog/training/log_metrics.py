"""Reading the hosts' logs as they grow: new whole lines, and the metric values that the
job's metric definitions (name + regex, as SageMaker's ``MetricDefinitions``) match in them.

>>> import re
>>> [m.group(1) for m in [re.search(r"loss=([0-9.]+)", "epoch=3 loss=0.25")]]
['0.25']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LogBatch:
    lines: list[str] = field(default_factory=list)  # prefixed with [host] when there are several
    values: list[dict[str, Any]] = field(default_factory=list)  # rows of training_metric_values
    offsets: dict[str, int] = field(default_factory=dict)  # bytes read, per host process
    steps: dict[str, int] = field(default_factory=dict)  # values seen, per "metric|host"


def read_new_lines(
    cores: dict[str, Any],
    offsets: dict[str, int],
    steps: dict[str, int],
    definitions: list[dict[str, str]],
    job_name: str,
    now: float,
) -> LogBatch:
    """What each host process (``cores``: host → core job) wrote since ``offsets``.

    A running process's last, unfinished line waits for its newline; an ended one's is
    taken whole.
    """
    batch = LogBatch(offsets=dict(offsets), steps=dict(steps))
    compiled = [(d["Name"], re.compile(d["Regex"])) for d in definitions]
    many = len(cores) > 1
    for host, core in cores.items():
        start = batch.offsets.get(core.id, 0)
        try:
            with open(core.log_path, "rb") as f:
                f.seek(start)
                chunk = f.read()
        except FileNotFoundError:
            continue
        complete = chunk.rfind(b"\n") + 1 if not core.done else len(chunk)
        if complete <= 0:
            continue
        batch.offsets[core.id] = start + complete
        for line in chunk[:complete].decode(errors="replace").splitlines():
            batch.lines.append(f"[{host}] {line}" if many else line)
            for name, regex in compiled:
                match = regex.search(line)
                if not match:
                    continue
                try:
                    value = float(match.group(1))
                except (TypeError, ValueError, IndexError):
                    continue
                key = f"{name}|{host}"
                step = batch.steps.get(key, 0)
                batch.steps[key] = step + 1
                batch.values.append(
                    {"job_name": job_name, "metric_name": name, "host": host, "step": step, "value": value, "timestamp": now}
                )
    return batch
