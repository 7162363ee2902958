"""The serving service's tables: endpoint configs, endpoints, their deployment history,
and Application Auto Scaling's targets, policies and activities.

An endpoint's row holds two documents. ``spec`` is what the user asked for (its config,
deployment config, tags). ``fleets`` is what runs: each fleet (the blue one, and the
green one during a deployment) with its traffic share, its variants' weights and
instance counts, and every instance's port once its worker is up. The hosting process
(the row's ``owner``) rewrites ``fleets`` and bumps ``generation``; a router in any
process reads the document again when the generation moves.
"""

from __future__ import annotations

import sqlalchemy as sa

from groundfog.core.state import Migration, RowId, Timestamp, create_tables, metadata, register_migrations

endpoint_configs = sa.Table(
    "serving_endpoint_configs",
    metadata,
    sa.Column("name", sa.String(63), primary_key=True),
    sa.Column("arn", sa.Text, nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),  # ProductionVariants, DataCaptureConfig, ShadowProductionVariants
    sa.Column("created_at", Timestamp, nullable=False),
)

endpoints = sa.Table(
    "serving_endpoints",
    metadata,
    sa.Column("name", sa.String(63), primary_key=True),
    sa.Column("arn", sa.Text, nullable=False),
    sa.Column("config_name", sa.String(63), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("failure_reason", sa.Text, nullable=True),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("fleets", sa.JSON, nullable=False),
    sa.Column("deployment", sa.JSON, nullable=True),  # the update in progress, if any
    sa.Column("last_deployment_config", sa.JSON, nullable=True),
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("owner", sa.String(128), nullable=True),
    sa.Column("heartbeat_at", Timestamp, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("modified_at", Timestamp, nullable=False),
)

history = sa.Table(
    "serving_endpoint_history",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("endpoint", sa.String(63), nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("stage", sa.String(64), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Index("ix_serving_endpoint_history_endpoint", "endpoint", "id"),
)

scalable_targets = sa.Table(
    "serving_scalable_targets",
    metadata,
    sa.Column("resource_id", sa.String(200), primary_key=True),  # endpoint/<name>/variant/<variant>
    sa.Column("dimension", sa.String(64), nullable=False),
    sa.Column("min_capacity", sa.Integer, nullable=False),
    sa.Column("max_capacity", sa.Integer, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)

scaling_policies = sa.Table(
    "serving_scaling_policies",
    metadata,
    sa.Column("resource_id", sa.String(200), primary_key=True),
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("arn", sa.Text, nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),  # TargetTrackingScalingPolicyConfiguration
    sa.Column("last_scale_out_at", Timestamp, nullable=True),
    sa.Column("last_scale_in_at", Timestamp, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
)

scaling_activities = sa.Table(
    "serving_scaling_activities",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("resource_id", sa.String(200), nullable=False),
    sa.Column("activity_id", sa.String(64), nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("cause", sa.Text, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Index("ix_serving_scaling_activities_resource", "resource_id", "id"),
)

register_migrations(
    Migration(
        "serving",
        "0001_initial",
        create_tables(endpoint_configs, endpoints, history, scalable_targets, scaling_policies, scaling_activities),
    )
)
