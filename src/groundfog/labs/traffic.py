"""Steady traffic on an endpoint from background threads, recording what each request
met: which variant answered, or the error. The serving labs read traffic shares over
time from it, and the tests count errors with it.

>>> with Traffic(platform, "churn", "1.0,2.0") as traffic:       # doctest: +SKIP
...     platform.serving.update_endpoint(...)
>>> traffic.shares(start, end)                                  # doctest: +SKIP
{'Blue': 0.9, 'Green': 0.1}
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from groundfog.core.errors import GroundfogError


@dataclass(frozen=True)
class Outcome:
    at: float  # when the request was sent
    variant: str | None
    error: str | None = None


@dataclass
class Traffic:
    platform: Any
    endpoint: str
    body: str
    threads: int = 2
    content_type: str = "text/csv"
    pause: float = 0.002
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> "Traffic":
        for _ in range(self.threads):
            thread = threading.Thread(target=self._run, daemon=True, name="groundfog-lab-traffic")
            thread.start()
            self._workers.append(thread)
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            sent = time.time()  # when the router chose the variant
            try:
                answer = self.platform.serving.invoke_endpoint(self.endpoint, self.body, content_type=self.content_type)
                self.outcomes.append(Outcome(sent, answer.invoked_production_variant))
            except GroundfogError as exc:
                # A model's error names the variant that answered; others name none.
                variant = exc.message.split("from variant ", 1)[1].split()[0] if "from variant " in exc.message else None
                self.outcomes.append(Outcome(sent, variant, f"{type(exc).__name__}: {exc.message}"))
            time.sleep(self.pause)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._workers:
            thread.join(10)

    def between(self, start: float, end: float) -> list[Outcome]:
        return [o for o in self.outcomes if start <= o.at < end]

    def shares(self, start: float, end: float) -> dict[str, float]:
        """Each variant's share of the requests answered in ``[start, end)``."""
        counts = Counter(o.variant for o in self.between(start, end) if o.variant)
        total = sum(counts.values())
        return {name: count / total for name, count in sorted(counts.items())} if total else {}

    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error]
