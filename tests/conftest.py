"""Shared fixtures: every state-store test runs on SQLite and PostgreSQL, every
storage test on the local directory and on S3 through a local S3-compatible server."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def pg_available() -> bool:
    return _port_open("127.0.0.1", 5432)


@pytest.fixture(scope="session")
def pg_database(pg_available: bool, worker_id: str) -> Iterator[str]:
    """One scratch database per test worker; each test gets its own schema in it."""
    if not pg_available:
        pytest.skip("PostgreSQL is not listening on 127.0.0.1:5432")
    import sqlalchemy as sa

    name = f"gf_test_{worker_id}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _postgres_schema(database_url: str) -> Iterator[str]:
    # A schema is far cheaper than a database to create and drop, and just as isolated
    # once the connection's search_path points at it.
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:16]}"
    engine = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{database_url}?options=-csearch_path%3D{schema}"
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty state store URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
    else:
        yield from _postgres_schema(request.getfixturevalue("pg_database"))


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A local S3-compatible server (moto), one per test worker."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


S3_CREDENTIALS = {"key": "testing", "secret": "testing", "client_kwargs": {"region_name": "us-east-1"}}


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def objects_backend(request: pytest.FixtureRequest, tmp_path: Path) -> dict:
    """Config overrides for a fresh object store on each backend."""
    if request.param == "local":
        return {"objects_url": str(tmp_path / "objects")}
    endpoint = request.getfixturevalue("s3_endpoint")
    import boto3

    bucket = f"gf-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).create_bucket(Bucket=bucket)
    return {
        "objects_url": f"s3://{bucket}/groundfog",
        "objects_options": {**S3_CREDENTIALS, "endpoint_url": endpoint},
    }


@pytest.fixture
def platform(tmp_path: Path, state_url: str):
    """A platform on each state backend, embedded objects."""
    from groundfog import Platform
    from groundfog.core.config import Config

    p = Platform(Config(home=tmp_path / "home", state_url=state_url))
    yield p
    p.close()


@pytest.fixture
def storage_platform(tmp_path: Path, objects_backend: dict):
    """A platform on each object-store backend (state on SQLite)."""
    from groundfog import Platform
    from groundfog.core.config import Config

    p = Platform(Config(home=tmp_path / "home", **objects_backend))
    yield p
    p.close()
