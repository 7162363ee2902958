"""Reading and writing an endpoint's row as one document, with optimistic concurrency.

Control-plane operations (in any process) and the hosting loop (in the owning process)
both change an endpoint. Each reads the row, changes the document, and writes it back
only if ``generation`` is still what it read, bumping it; the loser reads again. The
generation is also what routers watch to know their routing table is stale.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from groundfog.core.errors import ResourceNotFound
from groundfog.serving.tables import endpoints, history

DOCUMENT = ("status", "failure_reason", "config_name", "fleets", "deployment", "last_deployment_config", "spec")


def load(conn: Connection, name: str) -> dict[str, Any]:
    row = conn.execute(sa.select(endpoints).where(endpoints.c.name == name)).first()
    if row is None:
        raise ResourceNotFound(f"endpoint {name!r} does not exist", field="EndpointName")
    return dict(row._mapping)


def save(conn: Connection, doc: dict[str, Any], now: float) -> bool:
    """Write the document's changeable fields iff nobody wrote since it was read."""
    values = {key: doc[key] for key in DOCUMENT}
    done = conn.execute(
        endpoints.update()
        .where(endpoints.c.name == doc["name"], endpoints.c.generation == doc["generation"])
        .values(**values, generation=doc["generation"] + 1, modified_at=now)
    )
    if done.rowcount == 1:
        doc["generation"] += 1
        return True
    return False


def append_history(conn: Connection, endpoint: str, at: float, stage: str, message: str,
                   detail: dict[str, Any] | None = None) -> None:  # fmt: skip
    conn.execute(history.insert().values(endpoint=endpoint, at=at, stage=stage, message=message, detail=detail or {}))
