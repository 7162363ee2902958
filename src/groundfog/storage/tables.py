"""The storage service's index: buckets and objects. The blob backend holds only bytes.

Object keys sort in UTF-8 binary order, as S3 lists them: SQLite's default BINARY
collation already compares UTF-8 bytes; on PostgreSQL the column uses the "C"
collation for the same reason.
"""

from __future__ import annotations

import sqlalchemy as sa

from groundfog.core.state import Migration, Timestamp, create_tables, metadata, register_migrations

_KEY = sa.String(1024).with_variant(sa.String(1024, collation="C"), "postgresql")
_BUCKET = sa.String(63).with_variant(sa.String(63, collation="C"), "postgresql")

buckets = sa.Table(
    "storage_buckets",
    metadata,
    sa.Column("name", _BUCKET, primary_key=True),
    sa.Column("arn", sa.String(256), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    # S3's NotificationConfiguration, normalised; {} when none.
    sa.Column("notification", sa.JSON, nullable=False),
)

objects = sa.Table(
    "storage_objects",
    metadata,
    sa.Column("bucket", _BUCKET, sa.ForeignKey("storage_buckets.name"), primary_key=True),
    sa.Column("key", _KEY, primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("etag", sa.String(34), nullable=False),
    sa.Column("content_type", sa.String(256), nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("last_modified", Timestamp, nullable=False),
    # Where the backend keeps the bytes: "<bucket>/<key>" on a local directory, a
    # per-version path on fsspec stores (see backends.py).
    sa.Column("path", sa.String(1400), nullable=False),
    sa.Column("version", sa.String(32), nullable=False),
)

# Blobs to delete once ``delete_after`` has passed (per-version stores only): versions
# an overwrite or delete superseded, kept a while for readers still streaming them,
# and uploads in progress, registered before they start so a crash leaves no orphan.
garbage = sa.Table(
    "storage_garbage",
    metadata,
    sa.Column("path", sa.String(1400), primary_key=True),
    sa.Column("delete_after", Timestamp, nullable=False, index=True),
)

register_migrations(Migration("storage", "0001_initial", create_tables(buckets, objects, garbage)))
