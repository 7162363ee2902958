"""How services hand events to the events service without importing it.

The events service implements ``Bus``; the ``Platform`` passes it to every service
that emits. Both calls are durable before they return: the event is in the state
store's outbox, and delivery (at least once) follows in the background.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class Bus(Protocol):
    def emit(
        self,
        source: str,
        detail_type: str,
        detail: dict[str, Any],
        *,
        resources: Sequence[str] = (),
        bus: str = "default",
    ) -> str:
        """Put one event on an event bus, where rules route it; returns the event id."""
        ...

    def send(self, target_arn: str, payload: dict[str, Any], *, subject: str | None = None) -> str:
        """Deliver a payload straight to one target (a topic or a function), no rules;
        ``subject`` is the SNS Subject when the target is a topic."""
        ...

    def check_target(self, target_arn: str, *, allowed_types: Sequence[str] = ()) -> None:
        """Raise ``ValidationError`` unless the ARN names an existing, deliverable target."""
        ...
