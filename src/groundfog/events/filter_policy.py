"""SNS subscription filter policies, matched by the EventBridge pattern engine.

An SNS filter policy is an event pattern in all but two details, so it is translated
and compiled by ``patterns.compile_pattern`` rather than matched by a second engine:

- a leaf may be bare (``{"store": "shop-1"}``, ``{"price": {"numeric": [">", 5]}}``),
  where a pattern needs an array: bare leaves are wrapped;
- with ``FilterPolicyScope: MessageAttributes`` (the default) the policy is flat and
  matches the message attributes: ``String`` values as strings, ``Number`` values as
  numbers (so ``numeric`` works), ``String.Array`` values as arrays (any element may
  match); ``Binary`` attributes are never matched. With ``MessageBody`` it matches the
  message parsed as a JSON object, nested keys and all.

>>> p = FilterPolicy({"store": "shop-1", "price": [{"numeric": [">=", 100]}]}, "MessageAttributes")
>>> p.matches("hi", {"store": {"DataType": "String", "StringValue": "shop-1"},
...                  "price": {"DataType": "Number", "StringValue": "120"}})
True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from groundfog.core.errors import ValidationError
from groundfog.events.patterns import CompiledPattern, compile_pattern

SCOPES = ("MessageAttributes", "MessageBody")
_OPERATORS = frozenset(
    {"prefix", "suffix", "anything-but", "numeric", "exists", "equals-ignore-case", "cidr", "wildcard"}
)


class FilterPolicy:
    """A compiled filter policy for one subscription."""

    def __init__(self, policy: str | Mapping[str, Any], scope: str = "MessageAttributes") -> None:
        if scope not in SCOPES:
            raise ValidationError(
                f"FilterPolicyScope {scope!r} must be MessageAttributes or MessageBody", field="FilterPolicyScope"
            )
        if isinstance(policy, str):
            try:
                policy = json.loads(policy)
            except ValueError as exc:
                raise ValidationError(f"FilterPolicy is not valid JSON: {exc}", field="FilterPolicy") from None
        if not isinstance(policy, Mapping):
            raise ValidationError("FilterPolicy must be a JSON object", field="FilterPolicy")
        self.scope = scope
        pattern = _as_pattern(policy, "", nested=scope == "MessageBody")
        try:
            self.pattern: CompiledPattern = compile_pattern(pattern)
        except ValidationError as exc:
            raise ValidationError(f"FilterPolicy: {exc.message}", field="FilterPolicy") from None

    def matches(self, message: str, attributes: Mapping[str, Any] | None) -> bool:
        if self.scope == "MessageBody":
            try:
                body = json.loads(message)
            except ValueError:
                return False
            return isinstance(body, dict) and self.pattern.matches(body)
        return self.pattern.matches(attribute_values(attributes or {}))


def _as_pattern(policy: Mapping[str, Any], path: str, *, nested: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in policy.items():
        where = f"{path}.{key}" if path else key
        if key == "$or" and isinstance(value, list):
            out[key] = [_as_pattern(b, where, nested=nested) if isinstance(b, Mapping) else b for b in value]
        elif isinstance(value, list):
            out[key] = value
        elif isinstance(value, Mapping) and value and set(value) <= _OPERATORS:
            out[key] = [dict(value)]
        elif isinstance(value, Mapping):
            if not nested:
                raise ValidationError(
                    f"FilterPolicy: {where}: nested keys need FilterPolicyScope MessageBody; "
                    "message attribute policies are flat",
                    field="FilterPolicy",
                )
            out[key] = _as_pattern(value, where, nested=nested)
        else:
            out[key] = [value]
    return out


def attribute_values(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Message attributes as the values a policy sees (``Binary`` ones left out)."""
    values: dict[str, Any] = {}
    for name, attr in attributes.items():
        kind = attr.get("DataType", "String")
        text = attr.get("StringValue")
        if text is None:
            continue
        if kind.startswith("Number"):
            try:
                number = json.loads(text)
            except ValueError:
                continue
            values[name] = number
        elif kind == "String.Array":
            try:
                values[name] = json.loads(text)
            except ValueError:
                values[name] = text
        elif kind.startswith("String"):
            values[name] = text
    return values
