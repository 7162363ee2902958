"""Fixtures for the events service: services built directly on a fresh state store
(SQLite and PostgreSQL), and the recording handlers the functions run.

``state_url`` is narrowed here: on PostgreSQL each test gets a fresh *schema* in one
database per worker, rather than a fresh database (CREATE/DROP DATABASE costs about a
second a test, most of this suite's time). The store is just as empty and isolated.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gf_event_handlers
import pytest
import sqlalchemy as sa

from groundfog.core.clock import Clock
from groundfog.core.config import Config
from groundfog.core.state import StateStore
from groundfog.events import EventsService

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


@pytest.fixture(scope="session")
def events_pg_database(pg_available: bool) -> Iterator[str]:
    """One PostgreSQL database for this worker's events tests."""
    if not pg_available:
        pytest.skip("PostgreSQL is not listening on 127.0.0.1:5432")
    name = f"gf_events_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty state store URL on each backend (a new schema on PostgreSQL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    database = request.getfixturevalue("events_pg_database")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(database, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{database}?options=-csearch_path%3D{schema}"
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


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
