"""Pages of a List* call, with SageMaker's ``MaxResults`` and ``NextToken``.

A page is read by key, not by offset: the token holds the sort key of the page's last
row, and the next page starts after it. A row created between two calls therefore
neither repeats nor hides a row of the pages already read (newest-first lists grow at
their head), and a token works as long as the listing's sort is the same.

>>> import sqlalchemy as sa
>>> from groundfog.core.state import StateStore
>>> table = sa.Table("doc_paging", sa.MetaData(), sa.Column("name", sa.String, primary_key=True),
...                  sa.Column("created_at", sa.Float))
>>> store = StateStore("sqlite://")
>>> with store.write() as conn:
...     table.create(conn)
...     _ = conn.execute(table.insert(), [{"name": f"m{i}", "created_at": float(i)} for i in range(5)])
>>> order = [(table.c.created_at, True), (table.c.name, False)]
>>> with store.read() as conn:
...     rows, token = read_page(conn, sa.select(table), order, max_results=2, next_token=None)
...     [r.name for r in rows], read_page(conn, sa.select(table), order, max_results=2, next_token=token)[0][0].name
(['m4', 'm3'], 'm2')
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from groundfog.core.errors import ValidationError
from groundfog.core.text import check_string, shown

Order = list[tuple[sa.ColumnElement[Any], bool]]  # (column, descending); the last one unique


def parse_max_results(value: object, field: str = "MaxResults", *, maximum: int = 100) -> int:
    """A whole number from 1 to ``maximum`` (SageMaker's lists take at most 100)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise ValidationError(f"{field} must be a whole number from 1 to {maximum}, got {shown(value)}", field=field)
    return value


def parse_sort(sort_by: object, sort_order: object, keys: tuple[str, ...] = ("Name", "CreationTime")) -> tuple[str, bool]:
    """``(SortBy, descending)``, SortBy one of ``keys``."""
    if sort_by not in keys:
        choices = " or ".join(keys) if len(keys) < 3 else f"{', '.join(keys[:-1])} or {keys[-1]}"
        raise ValidationError(f"SortBy must be {choices}, got {shown(sort_by)}", field="SortBy")
    if sort_order not in ("Ascending", "Descending"):
        raise ValidationError(f"SortOrder must be Ascending or Descending, got {shown(sort_order)}", field="SortOrder")
    return str(sort_by), sort_order == "Descending"


def list_named(
    conn: Connection,
    table: sa.Table,
    *,
    name_contains: str | None,
    max_results: int,
    sort_by: str,
    sort_order: str,
    next_token: str | None,
    where: tuple[sa.ColumnElement[bool], ...] = (),
    sort_keys: tuple[str, ...] = ("Name", "CreationTime"),
    maximum: int = 100,
) -> tuple[list[Any], str | None]:
    """A page of a SageMaker List* of named resources (models, endpoint configs, ...):
    filtered on the name, sorted by one of ``sort_keys``, then by name."""
    if name_contains is not None:
        if not isinstance(name_contains, str) or len(name_contains) > 63:
            raise ValidationError(f"NameContains must be a string of at most 63 characters, got {shown(name_contains)}",
                                  field="NameContains")  # fmt: skip
        check_string(name_contains, "NameContains")
    limit = parse_max_results(max_results, maximum=maximum)
    key, descending = parse_sort(sort_by, sort_order, sort_keys)
    query = sa.select(table).where(*where)
    if name_contains:
        query = query.where(table.c.name.contains(name_contains, autoescape=True))
    return read_page(conn, query, sort_order_of(table, key, descending), max_results=limit, next_token=next_token)


def sort_order_of(table: sa.Table, key: str, descending: bool) -> Order:
    """The order of a SortBy (Name, CreationTime or Status) over ``table``: that column,
    then the name, which makes every row's place unique."""
    column = {"Name": "name", "CreationTime": "created_at", "Status": "status"}[key]
    if column == "name":
        return [(table.c.name, descending)]
    return [(table.c[column], descending), (table.c.name, False)]


def read_page(
    conn: Connection,
    query: sa.Select[Any],
    order: Order,
    *,
    max_results: int,
    next_token: str | None,
    field: str = "NextToken",
) -> tuple[list[Any], str | None]:
    """The rows of ``query`` in ``order`` after ``next_token``, at most ``max_results``,
    and the token of the page after them (None on the last page)."""
    if next_token is not None:
        query = query.where(_after(order, _decode(next_token, order, field)))
    query = query.order_by(*(column.desc() if descending else column.asc() for column, descending in order))
    rows = list(conn.execute(query.limit(max_results + 1)))
    if len(rows) <= max_results:
        return rows, None
    rows = rows[:max_results]
    last = rows[-1]._mapping
    return rows, _encode([last[column] for column, _ in order], order)


def collect(list_call: Callable[..., dict[str, Any]], key: str, *, most: int = 1000, **kwargs: Any) -> list[Any]:
    """The items under ``key`` of every page of a List* call, following ``NextToken``,
    at most ``most`` of them (a console page shows a bounded list).

    >>> pages = {None: {"Items": [1, 2], "NextToken": "t"}, "t": {"Items": [3]}}
    >>> collect(lambda max_results, next_token=None: pages[next_token], "Items")
    [1, 2, 3]
    """
    items: list[Any] = []
    token = None
    while len(items) < most:
        page = list_call(max_results=min(100, most - len(items)), **kwargs, **({"next_token": token} if token else {}))
        items += page[key]
        token = page.get("NextToken")
        if token is None:
            break
    return items[:most]


def with_token(response: dict[str, Any], token: str | None) -> dict[str, Any]:
    """The response with ``NextToken`` when there is a page after this one."""
    if token is not None:
        response["NextToken"] = token
    return response


def _fingerprint(order: Order) -> str:
    """What a token is valid for: the sort's columns and directions."""
    text = ",".join(f"{column}:{int(descending)}" for column, descending in order)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _encode(values: list[Any], order: Order) -> str:
    payload = json.dumps({"k": values, "s": _fingerprint(order)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode(token: object, order: Order, field: str) -> list[Any]:
    refused = ValidationError(f"{field} is not a token this listing returned (or its sort has changed since)",
                              field=field)  # fmt: skip
    if not isinstance(token, str) or not 0 < len(token) <= 8192:
        raise refused
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise refused from None
    if not isinstance(payload, dict) or payload.get("s") != _fingerprint(order):
        raise refused
    values = payload.get("k")
    if not isinstance(values, list) or len(values) != len(order):
        raise refused
    if not all(_fits(column, value) for (column, _), value in zip(order, values)):
        raise refused
    return values


def _fits(column: sa.ColumnElement[Any], value: object) -> bool:
    """A key value of the column's own type: a database must not be asked to compare
    text with a number (PostgreSQL refuses to)."""
    if isinstance(value, bool):
        return False
    kind = column.type.python_type
    if kind is float:
        # Within what a double holds exactly: a bigger int would be sent as a bigint.
        return isinstance(value, (int, float)) and math.isfinite(value) and abs(value) < 2**53
    if kind is int:
        return isinstance(value, int) and abs(value) < 2**63
    return isinstance(value, kind)


def _after(order: Order, values: list[Any]) -> sa.ColumnElement[bool]:
    """Rows that sort after ``values``: (c1 past v1) or (c1 = v1 and c2 past v2) or ..."""
    clauses = []
    for i, (column, descending) in enumerate(order):
        past = column < values[i] if descending else column > values[i]
        clauses.append(sa.and_(*(c == v for (c, _), v in zip(order[:i], values[:i])), past))
    return sa.or_(*clauses)
