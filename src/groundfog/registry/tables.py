"""The registry's tables: models, model package groups and their versions.

``registry_model_package_groups.latest_version`` is the group's version counter: a new
version takes ``latest_version + 1`` with an ``UPDATE`` of the group's row, so two
concurrent registrations in one group are serialised by that row's lock (PostgreSQL)
or the write lock (SQLite) and never get the same number; a deleted version's number
is never given out again.
"""

from __future__ import annotations

import sqlalchemy as sa

from groundfog.core.state import Migration, Timestamp, create_tables, metadata, register_migrations

models = sa.Table(
    "registry_models",
    metadata,
    sa.Column("name", sa.String(63), primary_key=True),
    sa.Column("arn", sa.Text, nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),  # PrimaryContainer | Containers, ExecutionRoleArn, Tags
    sa.Column("created_at", Timestamp, nullable=False),
)

groups = sa.Table(
    "registry_model_package_groups",
    metadata,
    sa.Column("name", sa.String(63), primary_key=True),
    sa.Column("arn", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("latest_version", sa.Integer, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)

packages = sa.Table(
    "registry_model_packages",
    metadata,
    sa.Column("group_name", sa.String(63), sa.ForeignKey("registry_model_package_groups.name"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("arn", sa.Text, nullable=False),
    sa.Column("approval_status", sa.String(32), nullable=False),
    sa.Column("approval_description", sa.Text, nullable=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("spec", sa.JSON, nullable=False),  # the validated request, PascalCase keys
    sa.Column("reports", sa.JSON, nullable=False),  # {"ModelQuality.Statistics": parsed JSON, ...}
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("modified_at", Timestamp, nullable=False),
    sa.Index("ix_registry_model_packages_status", "group_name", "approval_status"),
    sa.Index("ix_registry_model_packages_created", "created_at"),
)

register_migrations(Migration("registry", "0001_initial", create_tables(models, groups, packages)))
