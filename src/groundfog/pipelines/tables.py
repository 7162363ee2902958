"""The pipelines service's tables.

``pipelines`` holds each pipeline and its current version; ``pipeline_versions`` every
definition ever upserted (executions point at the version they run, so an update never
changes a running execution). ``pipeline_executions`` are driven like jobs (``owner``,
``heartbeat_at``): the platform that owns one advances it, and after a crash the next
platform claims it. ``pipeline_execution_steps`` is each step's state machine: the job it
launched is named before it is created, so a resumed driver attaches to that job instead
of starting a second one. ``pipeline_step_cache`` indexes successful cacheable steps by
the hash of their resolved arguments; ``pipeline_lineage`` records what each step read
and produced.
"""

from __future__ import annotations

import sqlalchemy as sa

from groundfog.core.state import Migration, RowId, Timestamp, create_tables, metadata, register_migrations

pipelines = sa.Table(
    "pipelines",
    metadata,
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("arn", sa.Text, nullable=False),
    sa.Column("display_name", sa.Text, nullable=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("role_arn", sa.Text, nullable=True),
    sa.Column("parallelism", sa.JSON, nullable=True),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("modified_at", Timestamp, nullable=False),
    sa.Column("last_run_at", Timestamp, nullable=True),
)

versions = sa.Table(
    "pipeline_versions",
    metadata,
    sa.Column("pipeline", sa.String(256), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("definition", sa.JSON, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)

executions = sa.Table(
    "pipeline_executions",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),  # the execution id
    sa.Column("pipeline", sa.String(256), nullable=False),
    sa.Column("arn", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("failure_reason", sa.Text, nullable=True),
    sa.Column("display_name", sa.Text, nullable=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("parameters", sa.JSON, nullable=False),  # resolved: {name: typed value}
    sa.Column("parallelism", sa.Integer, nullable=False),
    sa.Column("request_token", sa.String(128), nullable=True),
    sa.Column("owner", sa.String(64), nullable=True),
    sa.Column("heartbeat_at", Timestamp, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("ended_at", Timestamp, nullable=True),
    sa.Column("modified_at", Timestamp, nullable=False),
    sa.Index("ix_pipeline_executions_pipeline", "pipeline", "created_at"),
    sa.Index("ix_pipeline_executions_status", "status"),
)

steps = sa.Table(
    "pipeline_execution_steps",
    metadata,
    sa.Column("execution", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # Starting | Executing | Succeeded | Failed | Stopped
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("not_before", Timestamp, nullable=True),  # a retry's backoff
    sa.Column("job_name", sa.String(63), nullable=True),
    sa.Column("args_hash", sa.String(64), nullable=True),
    sa.Column("cache_source", sa.Text, nullable=True),  # the execution ARN a cache hit came from
    sa.Column("callback_token", sa.String(64), nullable=True, unique=True),
    sa.Column("arguments", sa.JSON, nullable=True),  # resolved, as the step's work received them
    sa.Column("properties", sa.JSON, nullable=False),  # what other steps reference
    sa.Column("metadata", sa.JSON, nullable=False),  # ListPipelineExecutionSteps' Metadata
    sa.Column("failure_reason", sa.Text, nullable=True),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("ended_at", Timestamp, nullable=True),
    sa.Column("seq", sa.Integer, nullable=False),  # start order, for listing
)

step_cache = sa.Table(
    "pipeline_step_cache",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("pipeline", sa.String(256), nullable=False),
    sa.Column("step", sa.String(256), nullable=False),
    sa.Column("args_hash", sa.String(64), nullable=False),
    sa.Column("execution_arn", sa.Text, nullable=False),
    sa.Column("properties", sa.JSON, nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("succeeded_at", Timestamp, nullable=False),
    sa.Index("ix_pipeline_step_cache_key", "pipeline", "step", "args_hash"),
)

lineage = sa.Table(
    "pipeline_lineage",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("execution", sa.String(32), nullable=False),
    sa.Column("step", sa.String(256), nullable=False),
    sa.Column("direction", sa.String(8), nullable=False),  # Read | Produced
    sa.Column("kind", sa.String(32), nullable=False),  # Input | Output | Model | ModelPackage | Parameter
    sa.Column("uri", sa.Text, nullable=False),
    sa.Column("etag", sa.String(80), nullable=True),
    sa.Column("recorded_at", Timestamp, nullable=False),
    sa.Index("ix_pipeline_lineage_execution", "execution"),
)

register_migrations(
    Migration("pipelines", "0001_initial", create_tables(pipelines, versions, executions, steps, step_cache, lineage))
)
