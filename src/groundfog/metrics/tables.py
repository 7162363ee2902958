"""The metrics service's tables.

A *series* is one (namespace, metric name, dimension set); the dimension set is
stored once, with a hash of its canonical form to index on. Datapoints are kept raw,
one row per published value (or per distinct value of a ``Values`` array, or per
statistic set), so any period and any percentile can be computed later.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from groundfog.core.state import Migration, RowId, Timestamp, create_tables, metadata, register_migrations

series = sa.Table(
    "metrics_series",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("namespace", sa.String(255), nullable=False),
    sa.Column("metric_name", sa.String(255), nullable=False),
    sa.Column("dims_hash", sa.String(64), nullable=False),
    sa.Column("dimensions", sa.JSON, nullable=False),  # [[name, value], ...] sorted by name
    sa.Column("created_at", Timestamp, nullable=False),
    sa.UniqueConstraint("namespace", "metric_name", "dims_hash", name="uq_metrics_series_key"),
)

datapoints = sa.Table(
    "metrics_datapoints",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("series_id", RowId, sa.ForeignKey("metrics_series.id", ondelete="CASCADE"), nullable=False),
    sa.Column("timestamp", Timestamp, nullable=False),
    sa.Column("unit", sa.String(32), nullable=False),
    # The raw value, or NULL for a statistic set that cannot give percentiles.
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("sample_count", sa.Float, nullable=False),
    sa.Column("sum", sa.Float, nullable=False),
    sa.Column("minimum", sa.Float, nullable=False),
    sa.Column("maximum", sa.Float, nullable=False),
    sa.Column("storage_resolution", sa.Integer, nullable=False),
    sa.Index("ix_metrics_datapoints_series_time", "series_id", "timestamp"),
)

alarms = sa.Table(
    "metrics_alarms",
    metadata,
    sa.Column("alarm_name", sa.String(255), primary_key=True),
    sa.Column("alarm_arn", sa.Text, nullable=False),
    sa.Column("alarm_description", sa.Text, nullable=True),
    sa.Column("namespace", sa.String(255), nullable=False),
    sa.Column("metric_name", sa.String(255), nullable=False),
    sa.Column("dims_hash", sa.String(64), nullable=False),
    sa.Column("dimensions", sa.JSON, nullable=False),
    sa.Column("statistic", sa.String(32), nullable=True),
    sa.Column("extended_statistic", sa.String(32), nullable=True),
    sa.Column("period", sa.Integer, nullable=False),
    sa.Column("unit", sa.String(32), nullable=True),
    sa.Column("evaluation_periods", sa.Integer, nullable=False),
    sa.Column("datapoints_to_alarm", sa.Integer, nullable=True),
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("comparison_operator", sa.String(64), nullable=False),
    sa.Column("treat_missing_data", sa.String(16), nullable=False),
    sa.Column("actions_enabled", sa.Boolean, nullable=False),
    sa.Column("alarm_actions", sa.JSON, nullable=False),
    sa.Column("ok_actions", sa.JSON, nullable=False),
    sa.Column("insufficient_data_actions", sa.JSON, nullable=False),
    sa.Column("state_value", sa.String(32), nullable=False),
    sa.Column("state_reason", sa.Text, nullable=False),
    sa.Column("state_reason_data", sa.JSON, nullable=True),
    sa.Column("state_updated_at", Timestamp, nullable=False),
    # Bumped on every state change: evaluations compare-and-set on it, so two
    # evaluators (threads or processes) never both announce the same transition.
    sa.Column("state_version", sa.Integer, nullable=False),
    # The actions of the last state change, written with it and cleared once sent: a
    # crash in between leaves them here, and they are sent after the restart.
    sa.Column("pending_actions", sa.JSON, nullable=True),
    sa.Column("configuration_updated_at", Timestamp, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index("ix_metrics_alarms_metric", "namespace", "metric_name", "dims_hash"),
)

alarm_history = sa.Table(
    "metrics_alarm_history",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("alarm_name", sa.String(255), nullable=False),
    sa.Column("timestamp", Timestamp, nullable=False),
    sa.Column("item_type", sa.String(32), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Index("ix_metrics_alarm_history_name_time", "alarm_name", "timestamp"),
)

def _add_pending_actions(op: Any) -> None:
    # Stores created by 0001 after this column was declared already have it.
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("metrics_alarms")}
    if "pending_actions" not in columns:
        op.add_column("metrics_alarms", sa.Column("pending_actions", sa.JSON, nullable=True))


register_migrations(
    Migration("metrics", "0001_initial", create_tables(series, datapoints, alarms, alarm_history)),
    Migration("metrics", "0002_pending_actions", _add_pending_actions),
)
