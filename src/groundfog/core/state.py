"""The state store: SQLAlchemy 2 over SQLite (WAL) by default, PostgreSQL by URL.

Services declare their tables on the shared ``metadata`` and register ordered
migrations; ``StateStore.migrate()`` applies whatever is pending, once, under a lock,
so a server and a CLI starting together never race.

>>> store = StateStore("sqlite://")
>>> with store.write() as conn:              # one transaction, committed on exit
...     conn.execute(sa.text("SELECT 1")).scalar()
1
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from groundfog.core.errors import ServiceUnavailable, ValidationError

metadata = sa.MetaData()

# Every row's timestamps are epoch seconds (UTC) in a double column: portable between
# SQLite and PostgreSQL, and cheap to compare.
Timestamp = sa.Float
# An autoincrementing key: BIGINT on PostgreSQL; SQLite autoincrements INTEGER keys only.
RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


@dataclass(frozen=True)
class Migration:
    """One schema step of one service; ``upgrade`` gets an alembic ``Operations``."""

    service: str
    id: str
    upgrade: Callable[[Any], None]


_MIGRATIONS: list[Migration] = []

migrations_table = sa.Table(
    "groundfog_migrations",
    metadata,
    sa.Column("service", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("applied_at", Timestamp, nullable=False),
)


def register_migrations(*migrations: Migration) -> None:
    """Called at import time by each service's ``tables`` module."""
    known = {(m.service, m.id) for m in _MIGRATIONS}
    _MIGRATIONS.extend(m for m in migrations if (m.service, m.id) not in known)


def create_tables(*tables: sa.Table) -> Callable[[Any], None]:
    """The usual first migration of a service: create its tables as declared."""

    def upgrade(op: Any) -> None:
        for table in tables:
            table.create(op.get_bind(), checkfirst=True)

    return upgrade


def normalise_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class StateStore:
    """One engine, short transactions: ``read()`` for queries, ``write()`` for changes."""

    def __init__(self, url: str, *, fsync: bool = False) -> None:
        self.url = normalise_url(url)
        self.fsync = fsync
        try:
            self.dialect = sa.engine.make_url(self.url).get_backend_name()
        except sa.exc.ArgumentError as exc:
            raise ValidationError(f"GROUNDFOG_STATE_URL is not a database URL: {exc}", field="state_url") from None
        if self.dialect not in ("sqlite", "postgresql"):
            raise ValidationError(
                f"state store must be sqlite:// or postgresql://, got {self.dialect}", field="state_url"
            )
        self.engine = self._make_engine()

    def _make_engine(self) -> Engine:
        if self.dialect == "sqlite":
            engine = sa.create_engine(
                self.url,
                connect_args={"check_same_thread": False, "timeout": 30},
                json_serializer=_dumps,
            )

            @sa.event.listens_for(engine, "connect")
            def _on_connect(dbapi_conn: Any, _record: Any) -> None:
                # Let SQLAlchemy, not pysqlite, decide when transactions begin.
                dbapi_conn.isolation_level = None
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                # NORMAL in WAL mode survives a killed process (only power loss can drop
                # the last commits), at a fraction of FULL's fsync cost.
                cur.execute("PRAGMA synchronous=FULL" if self.fsync else "PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()

            @sa.event.listens_for(engine, "begin")
            def _on_begin(conn: Connection) -> None:
                # Writers take the write lock up front: a deferred transaction that
                # upgrades later can fail with SQLITE_BUSY despite busy_timeout.
                immediate = conn.get_execution_options().get("groundfog_write", False)
                conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

            return engine
        return sa.create_engine(
            self.url, pool_pre_ping=True, pool_size=10, max_overflow=20, json_serializer=_dumps
        )

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self._connect() as conn:
            conn = conn.execution_options(groundfog_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        try:
            conn = self.engine.connect()
        except sa.exc.OperationalError as exc:
            raise ServiceUnavailable(f"state store {self.safe_url} is unreachable: {exc.orig}") from None
        with conn:
            yield conn

    @property
    def safe_url(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    def migrate(self) -> list[str]:
        """Apply pending migrations of every registered service; returns their ids."""
        from alembic.migration import MigrationContext
        from alembic.operations import Operations

        applied: list[str] = []
        with self.write() as conn:
            if self.dialect == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7417001)")
            migrations_table.create(conn, checkfirst=True)
            done = {(r.service, r.id) for r in conn.execute(sa.select(migrations_table))}
            op = Operations(MigrationContext.configure(conn))
            for migration in _MIGRATIONS:
                if (migration.service, migration.id) in done:
                    continue
                migration.upgrade(op)
                conn.execute(
                    migrations_table.insert().values(
                        service=migration.service, id=migration.id, applied_at=_epoch()
                    )
                )
                applied.append(f"{migration.service}/{migration.id}")
        return applied

    def dispose(self) -> None:
        self.engine.dispose()


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def _epoch() -> float:
    import time

    return time.time()
