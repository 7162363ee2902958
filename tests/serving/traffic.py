"""Steady traffic on an endpoint from background threads, recording what each request met."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from groundfog.core.errors import GroundfogError


@dataclass
class Outcome:
    at: float
    variant: str | None
    error: str | None = None


@dataclass
class Traffic:
    platform: Any
    endpoint: str
    body: str
    threads: int = 2
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> "Traffic":
        for _ in range(self.threads):
            thread = threading.Thread(target=self._run, daemon=True)
            thread.start()
            self._workers.append(thread)
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                answer = self.platform.serving.invoke_endpoint(self.endpoint, self.body, content_type="text/csv")
                self.outcomes.append(Outcome(time.time(), answer.invoked_production_variant))
            except GroundfogError as exc:
                variant = exc.message.split("from variant ", 1)[1].split()[0] if "from variant " in exc.message else None
                self.outcomes.append(Outcome(time.time(), variant, f"{type(exc).__name__}: {exc.message}"))
            time.sleep(0.002)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._workers:
            thread.join(10)
