"""When spot capacity is reclaimed: the interruption model of managed spot training.

Interruptions fall at points of a job's *running time* (seconds it has spent training,
summed over its attempts), either from an explicit schedule (tests, labs) or drawn from
a seeded Poisson process with a rate per hour of running time, so a run is repeatable.

>>> InterruptionModel({"Schedule": [5.0, 9.0]}).next_after(0.0)
5.0
>>> InterruptionModel({"Schedule": [5.0, 9.0]}).next_after(5.0)
9.0
>>> InterruptionModel({}).next_after(0.0) is None
True
"""

from __future__ import annotations

import random
from typing import Any

_MAX_DRAWS = 10_000


class InterruptionModel:
    def __init__(self, config: dict[str, Any]) -> None:
        self.restart_delay = float(config.get("RestartDelaySeconds", 2.0))
        if "Schedule" in config:
            self._points = [float(s) for s in config["Schedule"]]
        elif config.get("RatePerHour"):
            rng = random.Random(config.get("Seed", 0))
            mean_gap = 3600.0 / float(config["RatePerHour"])
            t, points = 0.0, []
            for _ in range(_MAX_DRAWS):
                t += rng.expovariate(1.0 / mean_gap)
                points.append(t)
                if t > 28 * 86400:  # beyond any job's longest runtime
                    break
            self._points = points
        else:
            self._points = []

    def next_after(self, running_seconds: float) -> float | None:
        """The running time of the first interruption strictly after ``running_seconds``."""
        for point in self._points:
            if point > running_seconds + 1e-9:
                return point
        return None
