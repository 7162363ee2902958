"""Fixtures for the events service: services built directly on a fresh state store
(SQLite and PostgreSQL), and the recording handlers the functions run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gf_event_handlers
import pytest

from groundfog.core.clock import Clock
from groundfog.core.config import Config
from groundfog.core.state import StateStore
from groundfog.events import EventsService



@pytest.fixture
def make_events(state_url: str, tmp_path: Path) -> Iterator[Callable[..., EventsService]]:
    """Build an EventsService on the test's state store (several share it, like processes)."""
    made: list[tuple[EventsService, StateStore]] = []

    def make(clock: Clock | None = None, **options: Any) -> EventsService:
        state = StateStore(state_url)
        state.migrate()
        options.setdefault("retry_base_seconds", 0.01)
        service = EventsService(config=Config(home=tmp_path / "home"), state=state, clock=clock or Clock(), **options)
        made.append((service, state))
        return service

    yield make
    for service, state in reversed(made):
        service.close()
        state.dispose()


@pytest.fixture
def events(make_events: Callable[..., EventsService]) -> EventsService:
    return make_events()


@pytest.fixture
def calls() -> Iterator[Any]:
    """The handlers module, its call log emptied before and after the test."""
    gf_event_handlers.reset()
    yield gf_event_handlers
    gf_event_handlers.reset()
