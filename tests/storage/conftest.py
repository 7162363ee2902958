"""Storage fixtures: a StorageService on every object backend (local directory, S3 via
the moto server) and, where state matters, every state store (SQLite, PostgreSQL).

The state stores and object backends come from the root conftest (``state_url``,
``objects_backend``).

The bus is a recording double of ``groundfog.core.bus.Bus`` (an internal interface):
it keeps what was emitted and sent, and accepts as targets only the topic/function
ARNs a test registered.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from storage_helpers import RecordingBus, make_storage

from groundfog.storage import StorageService



def _closing(service: StorageService) -> Iterator[StorageService]:
    try:
        yield service
    finally:
        service.close()
        service.state.dispose()


@pytest.fixture
def bus() -> RecordingBus:
    return RecordingBus()


@pytest.fixture
def storage(tmp_path: Path, state_url: str, objects_backend: dict, bus: RecordingBus) -> Iterator[StorageService]:
    """Every object backend × every state store."""
    yield from _closing(make_storage(tmp_path / "home", state_url, objects_backend, bus))


@pytest.fixture
def storage_states(tmp_path: Path, state_url: str, bus: RecordingBus) -> Iterator[StorageService]:
    """Every state store, objects in a local directory (for index-only behaviour: listing)."""
    yield from _closing(make_storage(tmp_path / "home", state_url, {"objects_url": str(tmp_path / "objects")}, bus))


@pytest.fixture
def storage_objects(tmp_path: Path, objects_backend: dict, bus: RecordingBus) -> Iterator[StorageService]:
    """Every object backend, state on SQLite (for rules that do not depend on the state store)."""
    yield from _closing(make_storage(tmp_path / "home", f"sqlite:///{tmp_path / 'state.db'}", objects_backend, bus))


@pytest.fixture
def local_storage(tmp_path: Path, bus: RecordingBus) -> Iterator[StorageService]:
    """The embedded default: local directory, SQLite."""
    objects = {"objects_url": str(tmp_path / "objects")}
    yield from _closing(make_storage(tmp_path / "home", f"sqlite:///{tmp_path / 'state.db'}", objects, bus))


@pytest.fixture
def local_platform(tmp_path: Path) -> Iterator[Any]:
    """The real Platform on embedded defaults (SQLite, local directory)."""
    from groundfog.core.config import Config
    from groundfog.platform import Platform

    platform = Platform(Config(home=tmp_path / "home"))
    try:
        yield platform
    finally:
        platform.close()
