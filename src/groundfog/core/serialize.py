"""What operations return (models, lists, dicts, scalars) as JSON-ready values.

The HTTP API answers in field names (``by_alias=False``) so the remote SDK can rebuild
the same models; the CLI prints AWS's names (``by_alias=True``), as the AWS CLI does.

>>> to_jsonable({"a": [b"x", 1]})
{'a': ['x', 1]}
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


def to_jsonable(value: Any, *, by_alias: bool = False) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=by_alias)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v, by_alias=by_alias) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, by_alias=by_alias) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, datetime):
        return value.isoformat()
    return value
