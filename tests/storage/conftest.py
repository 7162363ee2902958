"""Storage fixtures: a StorageService on every object backend (local directory, S3 via
the moto server) and, where state matters, every state store (SQLite, PostgreSQL).

PostgreSQL runs one database per test worker and one schema per test (a fresh,
empty state store each time, without the cost of CREATE DATABASE per test); S3 runs
on the shared moto server with a fresh bucket per test.

The bus is a recording double of ``groundfog.core.bus.Bus`` (an internal interface):
it keeps what was emitted and sent, and accepts as targets only the topic/function
ARNs a test registered.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from storage_helpers import RecordingBus, make_storage, s3_client

from groundfog.storage import StorageService

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
S3_CREDENTIALS = {"key": "testing", "secret": "testing", "client_kwargs": {"region_name": "us-east-1"}}


@pytest.fixture(scope="session")
def storage_pg_database(pg_available: bool) -> Iterator[str]:
    if not pg_available:
        pytest.skip("PostgreSQL is not listening on 127.0.0.1:5432")
    import sqlalchemy as sa

    name = f"gf_storage_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def state_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty state store URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    import sqlalchemy as sa

    database = request.getfixturevalue("storage_pg_database")
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


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def objects_store(request: pytest.FixtureRequest, tmp_path: Path) -> dict:
    """Config overrides for a fresh object store on each backend (as ``objects_backend``)."""
    if request.param == "local":
        return {"objects_url": str(tmp_path / "objects")}
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = f"gf-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=bucket)
    return {"objects_url": f"s3://{bucket}/groundfog", "objects_options": {**S3_CREDENTIALS, "endpoint_url": endpoint}}


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
def storage(tmp_path: Path, state_backend: str, objects_store: dict, bus: RecordingBus) -> Iterator[StorageService]:
    """Every object backend × every state store."""
    yield from _closing(make_storage(tmp_path / "home", state_backend, objects_store, bus))


@pytest.fixture
def storage_states(tmp_path: Path, state_backend: str, bus: RecordingBus) -> Iterator[StorageService]:
    """Every state store, objects in a local directory (for index-only behaviour: listing)."""
    yield from _closing(make_storage(tmp_path / "home", state_backend, {"objects_url": str(tmp_path / "objects")}, bus))


@pytest.fixture
def storage_objects(tmp_path: Path, objects_store: dict, bus: RecordingBus) -> Iterator[StorageService]:
    """Every object backend, state on SQLite (for rules that do not depend on the state store)."""
    yield from _closing(make_storage(tmp_path / "home", f"sqlite:///{tmp_path / 'state.db'}", objects_store, bus))


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
