"""The ``core_jobs`` table, its migration, and the row ↔ ``Job`` helpers.

One row per job, unique per ``(kind, name)``. The migration ``core/0001_jobs`` has
landed: change the table through a new migration, never by editing this one.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from groundfog.core.job_models import Job
from groundfog.core.state import Migration, Timestamp, create_tables, metadata, register_migrations

__all__ = ["job_from_row", "jobs_table", "lock_job_row"]

jobs_table = sa.Table(
    "core_jobs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("secondary_status", sa.String(64), nullable=False),
    sa.Column("status_transitions", sa.JSON, nullable=False),
    sa.Column("failure_reason", sa.Text),
    sa.Column("exit_code", sa.Integer),
    sa.Column("command", sa.JSON, nullable=False),
    sa.Column("env", sa.JSON, nullable=False),
    sa.Column("job_dir", sa.Text, nullable=False),
    sa.Column("workdir", sa.Text, nullable=False),
    sa.Column("log_path", sa.Text, nullable=False),
    sa.Column("executor", sa.String(255), nullable=False),
    sa.Column("resources", sa.JSON, nullable=False),
    sa.Column("handle", sa.JSON, nullable=False),  # executor-specific reference (e.g. Ray ids)
    sa.Column("pid", sa.Integer),
    sa.Column("host", sa.String(255)),
    sa.Column("boot_id", sa.String(64)),
    sa.Column("process_start", sa.BigInteger),  # /proc/<pid>/stat start time, in ticks
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("started_at", Timestamp),
    sa.Column("ended_at", Timestamp),
    sa.Column("stop_deadline", Timestamp),
    sa.Column("owner", sa.String(255)),
    sa.Column("heartbeat_at", Timestamp),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.UniqueConstraint("kind", "name", name="uq_core_jobs_kind_name"),
    sa.Index("ix_core_jobs_status", "status"),
)

register_migrations(Migration("core", "0001_jobs", create_tables(jobs_table)))


def job_from_row(row: Any, changes: dict[str, Any] | None = None) -> Job:
    """The Job a row describes, with ``changes`` (column values just written) applied."""
    return Job.model_validate({**row._mapping, **(changes or {})})


def lock_job_row(conn: sa.Connection, job_id: str) -> Any:
    """The job's row, locked until ``conn``'s transaction ends; None if there is none."""
    return conn.execute(sa.select(jobs_table).where(jobs_table.c.id == job_id).with_for_update()).first()
