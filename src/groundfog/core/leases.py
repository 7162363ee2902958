"""Leases on rows: who may take over a row that another process owns, and taking it.

A row with ``owner`` and ``heartbeat_at`` columns belongs to the process whose token
(``core.owners.owner_token``) is in ``owner``, as long as that process heartbeats.
Another process may claim it when it has no owner, when the owner has been silent for
``stale_seconds``, or at once when the owner names a process of this machine that is
gone (``kill -9``). A claim is a conditional UPDATE on the owner and heartbeat the
claimant saw, so of two processes claiming at once exactly one wins.

>>> lease_lost(None, None, me="a", now=100.0, stale_seconds=15)
True
>>> lease_lost("b", 95.0, me="a", now=100.0, stale_seconds=15)  # b is quiet for 5 s; b's liveness unknown
False
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from groundfog.core.owners import owner_alive


def lease_lost(owner: str | None, heartbeat_at: float | None, *, me: str, now: float, stale_seconds: float) -> bool:
    """Whether ``me`` may claim a row held by ``owner`` who last beat at ``heartbeat_at``."""
    if owner == me:
        return False
    return owner is None or now - (heartbeat_at or 0) > stale_seconds or owner_alive(owner) is False


def claim_lease(
    conn: sa.Connection, table: sa.Table, *where: Any, owner: str | None, heartbeat_at: float | None, me: str,
    now: float,
) -> bool:
    """Take the row(s) matching ``where`` iff their owner and heartbeat are still what the
    claimant saw; True when this call took it."""
    c = table.c
    seen_owner = c.owner.is_(None) if owner is None else c.owner == owner
    seen_beat = c.heartbeat_at.is_(None) if heartbeat_at is None else c.heartbeat_at == heartbeat_at
    done = conn.execute(table.update().where(*where, seen_owner, seen_beat).values(owner=me, heartbeat_at=now))
    return done.rowcount == 1
