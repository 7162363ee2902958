"""What the metrics tests share: the start time and a recording ``Bus``."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from groundfog.core.errors import ServiceUnavailable, ValidationError
from groundfog.core.names import arn

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
T0_TS = T0.timestamp()


class RecordingBus:
    """``core.bus.Bus`` for tests: topics exist once ``topic()`` made them; ``send`` records."""

    def __init__(self) -> None:
        self.topics: set[str] = set()
        self.broken: set[str] = set()
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.subjects: list[str | None] = []
        self._ids = itertools.count(1)

    def topic(self, name: str) -> str:
        target = arn("events", "topic", name)
        self.topics.add(target)
        return target

    def emit(self, source: str, detail_type: str, detail: dict[str, Any], *, resources: Sequence[str] = (),
             bus: str = "default") -> str:
        return f"event-{next(self._ids)}"

    def send(self, target_arn: str, payload: dict[str, Any], *, subject: str | None = None) -> str:
        if target_arn in self.broken:
            raise ServiceUnavailable(f"topic {target_arn} is unavailable")
        self.sent.append((target_arn, payload))
        self.subjects.append(subject)
        return f"message-{next(self._ids)}"

    def check_target(self, target_arn: str, *, allowed_types: Sequence[str] = ()) -> None:
        if target_arn not in self.topics:
            raise ValidationError(f"target {target_arn} does not exist", field="Arn")

    def to(self, target_arn: str) -> list[dict[str, Any]]:
        return [payload for target, payload in self.sent if target == target_arn]
