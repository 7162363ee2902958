"""The training service's tables.

``training_jobs`` holds training and processing jobs alike (``kind``), each a resumable
state machine: ``progress`` is what the job's driver needs to carry on after a restart
(attempt number, the host processes of the current attempt, log offsets, running time
so far). ``training_metric_values`` keeps every value the metric definitions matched in
the log, in order, which is what a tuner's early stopping reads.
"""

from __future__ import annotations

import sqlalchemy as sa

from groundfog.core.state import Migration, RowId, Timestamp, create_tables, metadata, register_migrations

jobs = sa.Table(
    "training_jobs",
    metadata,
    sa.Column("kind", sa.String(16), primary_key=True),  # training | processing
    sa.Column("name", sa.String(63), primary_key=True),
    sa.Column("arn", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("secondary_status", sa.String(32), nullable=False),
    sa.Column("transitions", sa.JSON, nullable=False),
    sa.Column("failure_reason", sa.Text, nullable=True),
    sa.Column("spec", sa.JSON, nullable=False),  # the validated request
    sa.Column("progress", sa.JSON, nullable=False),
    sa.Column("resources", sa.JSON, nullable=False),  # what the instances became on this machine
    sa.Column("result", sa.JSON, nullable=False),  # artifacts, final metrics, times, cost
    sa.Column("stop_reason", sa.String(32), nullable=True),  # Stopped | MaxRuntimeExceeded | ...
    sa.Column("tuning_job_name", sa.String(63), nullable=True),
    sa.Column("owner", sa.String(64), nullable=True),
    sa.Column("heartbeat_at", Timestamp, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("started_at", Timestamp, nullable=True),
    sa.Column("ended_at", Timestamp, nullable=True),
    sa.Column("modified_at", Timestamp, nullable=False),
    sa.Index("ix_training_jobs_status", "kind", "status"),
    sa.Index("ix_training_jobs_tuning", "tuning_job_name"),
)

metric_values = sa.Table(
    "training_metric_values",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("job_name", sa.String(63), nullable=False),
    sa.Column("metric_name", sa.String(255), nullable=False),
    sa.Column("host", sa.String(16), nullable=False),
    sa.Column("step", sa.Integer, nullable=False),  # 0, 1, 2... per (job, metric, host)
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("timestamp", Timestamp, nullable=False),
    sa.Index("ix_training_metric_values_job", "job_name", "metric_name", "host", "step"),
)

tuning_jobs = sa.Table(
    "training_tuning_jobs",
    metadata,
    sa.Column("name", sa.String(63), primary_key=True),
    sa.Column("arn", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("failure_reason", sa.Text, nullable=True),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("progress", sa.JSON, nullable=False),
    sa.Column("owner", sa.String(64), nullable=True),
    sa.Column("heartbeat_at", Timestamp, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("ended_at", Timestamp, nullable=True),
    sa.Column("modified_at", Timestamp, nullable=False),
)

register_migrations(Migration("training", "0001_initial", create_tables(jobs, metric_values, tuning_jobs)))
