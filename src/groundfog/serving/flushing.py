"""What data capture and invocation metrics share: a buffer on the request path that a
daemon thread writes out every ``flush_seconds``, and once more on close."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from typing import Any

log = logging.getLogger("groundfog.serving")


class PeriodicFlusher(ABC):
    thread_name = "groundfog-serving-flush"

    def __init__(self, flush_seconds: float) -> None:
        self.flush_seconds = flush_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @abstractmethod
    def flush(self) -> Any:
        """Write out what is buffered."""

    def start(self) -> None:
        """Flush every ``flush_seconds`` in a daemon thread until ``close``."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread and write what is left."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the flusher must outlive one bad flush
                log.exception("%s: flush failed", self.thread_name)
