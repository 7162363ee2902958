"""How ``list_objects_v2`` walks the index: S3's prefix/delimiter grouping in UTF-8
binary order, with opaque continuation tokens.

Keys are compared as code points, which is UTF-8 byte order (SQLite's BINARY
collation; the "C" collation on PostgreSQL). After a common prefix the walk jumps past
every key under it in one query instead of reading them.

>>> _successor("logs/")
'logs0'
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

import sqlalchemy as sa

from groundfog.core.errors import ValidationError
from groundfog.storage.models import ObjectSummary
from groundfog.storage.tables import objects


def _successor(value: str) -> str | None:
    """The smallest string greater than every string that starts with ``value``."""
    while value:
        last = ord(value[-1])
        if last < 0x10FFFF:
            nxt = last + 1 if not 0xD800 <= last + 1 <= 0xDFFF else 0xE000
            return value[:-1] + chr(nxt)
        value = value[:-1]
    return None


def encode_token(after: str, is_prefix: bool) -> str:
    raw = json.dumps({"a": after, "p": is_prefix}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: object) -> tuple[str, bool]:
    """The listing resumes after ``after`` (and after everything under it when a prefix)."""
    try:
        assert isinstance(token, str)
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        after, is_prefix = data["a"], data["p"]
        assert isinstance(after, str) and isinstance(is_prefix, bool)
    except Exception:  # noqa: BLE001 (any malformed token is the same user error)
        raise ValidationError(
            "The continuation token provided is incorrect: pass back next_continuation_token unchanged",
            field="ContinuationToken",
        ) from None
    if is_prefix:
        nxt = _successor(after)
        return (nxt, True) if nxt is not None else ("\U0010ffff" * 2, True)
    return after, False


def scan(
    conn: sa.Connection,
    bucket: str,
    prefix: str,
    delimiter: str | None,
    max_keys: int,
    cursor: tuple[str, bool],
) -> tuple[list[ObjectSummary], list[str], tuple[str, bool] | None]:
    """Walk keys from ``cursor`` (value, inclusive); returns contents, prefixes, and the
    last item returned when more remain (the next page's token), else None."""
    contents: list[ObjectSummary] = []
    prefixes: list[str] = []
    if max_keys == 0:
        return contents, prefixes, None
    upper = _successor(prefix) if prefix else None
    batch = min(max_keys + 1, 1000)
    bound, inclusive = cursor
    last: tuple[str, bool] | None = None
    while True:
        query = sa.select(objects).where(objects.c.bucket == bucket)
        query = query.where(objects.c.key >= bound if inclusive else objects.c.key > bound)
        if prefix:
            query = query.where(objects.c.key >= prefix)
        if upper is not None:
            query = query.where(objects.c.key < upper)
        rows = conn.execute(query.order_by(objects.c.key).limit(batch)).all()
        jumped = False
        for row in rows:
            key = row.key
            if not key.startswith(prefix):
                return contents, prefixes, None
            if delimiter:
                cut = key.find(delimiter, len(prefix))
                if cut >= 0:
                    common = key[: cut + len(delimiter)]
                    if len(contents) + len(prefixes) == max_keys:
                        return contents, prefixes, last
                    prefixes.append(common)
                    last = (common, True)
                    nxt = _successor(common)
                    if nxt is None:  # only keys of U+10FFFF characters remain
                        return contents, prefixes, None
                    bound, inclusive, jumped = nxt, True, True
                    break
            if len(contents) + len(prefixes) == max_keys:
                return contents, prefixes, last
            contents.append(
                ObjectSummary(key=key, size=row.size, etag=row.etag, last_modified=datetime.fromtimestamp(row.last_modified, tz=timezone.utc))
            )
            last = (key, False)
            bound, inclusive = key, False
        if not jumped and len(rows) < batch:
            return contents, prefixes, None
