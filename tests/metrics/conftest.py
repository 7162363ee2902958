"""The metrics service on each state backend, with a manual clock and a recording bus."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from metrics_helpers import T0, RecordingBus

from groundfog.core.clock import ManualClock
from groundfog.core.config import Config
from groundfog.core.state import StateStore
from groundfog.metrics import MetricsService


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def bus() -> RecordingBus:
    return RecordingBus()


@pytest.fixture
def store(state_url: str) -> Iterator[StateStore]:
    state = StateStore(state_url)
    state.migrate()
    yield state
    state.dispose()


@pytest.fixture
def metrics(store: StateStore, clock: ManualClock, bus: RecordingBus, tmp_path: Path) -> Iterator[MetricsService]:
    service = MetricsService(config=Config(home=tmp_path / "home"), state=store, clock=clock, bus=bus)
    yield service
    service.close()
