"""Text a user sends must be storable: no NUL character, no unpaired surrogate.

JSON can spell both (``"\\u0000"``, ``"\\ud800"``), and Python decodes them into
strings that PostgreSQL refuses to store (NUL) or that no UTF-8 encoder accepts (a
lone surrogate). Refusing them where requests come in, naming the field, keeps them
from failing later in a query, a file or a response.

>>> check_text({"name": "data", "tags": ["a", "b"]}, "body")
>>> check_text({"tags": ["a", "b\\x00"]}, "body")
Traceback (most recent call last):
...
groundfog.core.errors.ValidationError: body.tags[1] must not contain the NUL character (\\u0000)
"""

from __future__ import annotations

from typing import Any

from groundfog.core.errors import ValidationError


def check_text(value: Any, field: str) -> None:
    """Raise ``ValidationError`` naming a string in ``value`` (a JSON-like value:
    strings, numbers, lists, dicts) that is not storable text, key or value."""
    # Iterative: a deeply nested request must not exhaust the interpreter's stack.
    pending: list[tuple[Any, str]] = [(value, field)]
    while pending:
        item, where = pending.pop()
        if isinstance(item, str):
            check_string(item, where)
        elif isinstance(item, dict):
            for key, inner in item.items():
                problem = _problem(key) if isinstance(key, str) else None
                if problem:
                    raise ValidationError(f"{where} has a key ({key!r}) that {problem}", field=where)
                pending.append((inner, f"{where}.{key}"))
        elif isinstance(item, (list, tuple)):
            pending.extend((inner, f"{where}[{i}]") for i, inner in enumerate(item))


def check_string(value: str, field: str) -> None:
    """Raise ``ValidationError`` unless ``value`` can be encoded and stored."""
    problem = _problem(value)
    if problem:
        raise ValidationError(f"{field} {problem}", field=field)


def _problem(value: str) -> str | None:
    if "\x00" in value:
        return "must not contain the NUL character (\\u0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (f"contains an unpaired surrogate ({value[exc.start]!r} at position {exc.start}); "
                "text must be valid Unicode")
    return None


def shown(value: object) -> str:
    """A value a user sent, quoted for an error message and cut to a readable length."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
