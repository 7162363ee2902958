"""EventBridge event patterns: compile once, match many events.

``compile_pattern`` checks a pattern against the rules of AWS's "Amazon EventBridge
event patterns" and "Content filtering" documentation and returns an immutable
``CompiledPattern``; ``test_event_pattern`` is the TestEventPattern operation.

>>> rule = compile_pattern({"source": ["aws.ec2"], "detail": {"state": [{"anything-but": "pending"}]}})
>>> rule.matches({"source": "aws.ec2", "detail": {"state": "running"}})
True
>>> rule.matches({"source": "aws.ec2", "detail": {"state": "pending"}})
False

Matching, as documented: every field in the pattern must match (AND) and any value
in a pattern array may (OR); an event array matches when any element does; a field
the event lacks fails unless the pattern says ``{"exists": false}``; strings match
character by character and exact numbers by their JSON text (``300``, ``300.0`` and
``3.0e2`` differ), while ``numeric`` compares values to six decimal places within
-5e9..5e9. When a key appears twice in a JSON pattern the last one counts.

Choices where the documentation is silent, following AWS's engine (aws/event-ruler):

- Objects inside event arrays match one element at a time, so the fields of one
  sub-pattern must all come from the same element.
- ``exists`` looks at leaves: a field holding an object or an empty array does not
  exist; ``exists: false`` also holds when a parent object is missing.
- ``anything-but`` is the negation of the matching test: a listed number excludes
  that JSON text, as an exact match would match it; numbers, booleans and null are
  "anything but" a string prefix, suffix, wildcard or equals-ignore-case.
- ``numeric`` rounds event values to six decimals; numbers outside -5e9..5e9 never
  match it, and a pattern bound outside that range or finer than 1e-6 is rejected.
- A nested empty object is rejected; the empty pattern ``{}`` matches every event.
- ``cidr`` masks must be below 32 (IPv4) or 128 (IPv6); equals-ignore-case uses
  Unicode case folding.
- Patterns are limited to 4096 characters (the PutRule maximum) and, as a guard of
  groundfog's own, to 100 levels of nesting.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from groundfog.core.errors import ValidationError
from groundfog.events._pattern_ops import (
    RESERVED_IN_OR,
    Expr,
    JsonFloat,
    compile_value,
    invalid,
    leaf_values,
    object_elements,
    show,
    value_key,
)

__all__ = ["CompiledPattern", "compile_pattern", "test_event_pattern", "MAX_PATTERN_CHARS", "MAX_DEPTH"]

MAX_PATTERN_CHARS = 4096
MAX_DEPTH = 100
# TestEventPattern's mandatory event fields, as its API reference lists them.
REQUIRED_EVENT_FIELDS = ("id", "account", "source", "time", "region", "resources", "detail-type")

Matcher = Callable[[Mapping], bool]
_EMPTY: Mapping = MappingProxyType({})
_MISSING = object()


class CompiledPattern:
    """A validated event pattern, immutable and reusable across threads.

    >>> compile_pattern('{"detail": {"size": [{"numeric": [">", 10]}]}}').matches({"detail": {"size": 11}})
    True
    """

    __slots__ = ("_match", "_source")

    def __init__(self, match: Matcher, source: str) -> None:
        object.__setattr__(self, "_match", match)
        object.__setattr__(self, "_source", source)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("CompiledPattern is immutable")

    @property
    def source(self) -> str:
        """The pattern as compact JSON."""
        return self._source

    def matches(self, event: Mapping) -> bool:
        """Whether the event matches; never raises for a JSON-compatible event."""
        return self._match(event if isinstance(event, Mapping) else _EMPTY)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CompiledPattern) and other._source == self._source

    def __hash__(self) -> int:
        return hash(self._source)

    def __repr__(self) -> str:
        return f"CompiledPattern({self._source})"


def compile_pattern(pattern: str | Mapping) -> CompiledPattern:
    """Validate an event pattern (JSON text or a dict) and compile it for matching.

    Raises ValidationError naming the field path at fault.

    >>> compile_pattern({"detail": {"size": [{"numeric": [">", "x"]}]}})
    Traceback (most recent call last):
    ...
    groundfog.core.errors.ValidationError: detail.size: numeric operator '>' needs a number, got 'x'
    """
    if isinstance(pattern, str):
        if len(pattern) > MAX_PATTERN_CHARS:
            _too_large(len(pattern))
        pattern = _parse_json(pattern, "EventPattern")
    if not isinstance(pattern, Mapping):
        invalid("", f"an event pattern must be a JSON object, got {show(pattern)}")
    match = _compile_object(pattern, "", 0, in_or=False) if pattern else _match_all
    try:
        source = json.dumps(pattern, separators=(",", ":"), ensure_ascii=False)
    except (ValueError, RecursionError) as error:  # e.g. an integer too long to print
        invalid("", f"the pattern cannot be written as JSON: {error}")
    if len(source) > MAX_PATTERN_CHARS:
        _too_large(len(source))
    return CompiledPattern(match, source)


def test_event_pattern(event_pattern: str | Mapping, event: str | Mapping) -> bool:
    """TestEventPattern: whether the event matches the pattern.

    As AWS requires, the event must carry id, account, source, time, region,
    resources and detail-type.

    >>> event = {"id": "1", "account": "111122223333", "source": "aws.ec2", "time": "2017-12-22T18:43:48Z",
    ...          "region": "us-west-1", "resources": [], "detail-type": "EC2 Instance State-change Notification"}
    >>> test_event_pattern('{"source": ["aws.ec2"]}', event)
    True
    """
    compiled = compile_pattern(event_pattern)
    if isinstance(event, str):
        event = _parse_json(event, "Event")
    if not isinstance(event, Mapping):
        raise ValidationError(f"Event: an event must be a JSON object, got {show(event)}", field="Event")
    for name in REQUIRED_EVENT_FIELDS:
        if name not in event:
            raise ValidationError(
                f"Event: missing the mandatory field {name!r} (TestEventPattern requires "
                f"{', '.join(REQUIRED_EVENT_FIELDS)})",
                field="Event",
            )
    return compiled.matches(event)


test_event_pattern.__test__ = False  # type: ignore[attr-defined]  # its name is not a pytest test


def _too_large(size: int) -> None:
    invalid("", f"the pattern is {size} characters; the maximum is {MAX_PATTERN_CHARS}")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(text: str, argument: str) -> Any:
    """Parse JSON keeping each float's text (exact number matching compares the text)."""
    try:
        return json.loads(text, parse_float=JsonFloat, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        message = f"{argument}: invalid JSON: {error.msg} at line {error.lineno} column {error.colno}"
    except RecursionError:
        message = f"{argument}: invalid JSON: nested too deeply"
    except ValueError as error:  # NaN/Infinity, or an integer too long to convert
        message = f"{argument}: invalid JSON: {error}"
    raise ValidationError(message, field=argument)


def _match_all(event: Mapping) -> bool:
    return True


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _compile_object(pattern: Mapping, path: str, depth: int, *, in_or: bool) -> Matcher:
    """An object of the pattern: all its fields and $or groups must match."""
    if depth >= MAX_DEPTH:
        invalid(path, f"the pattern nests more than {MAX_DEPTH} levels deep")
    if not pattern:
        invalid(path, "empty objects are not allowed")
    checks: list[Matcher] = []
    for key, value in pattern.items():
        if not isinstance(key, str):
            invalid(path, f"field names must be strings, got {show(key)}")
        here = _join(path, key)
        if key == "$or":
            checks.append(_compile_or(value, here, depth))
        elif in_or and key in RESERVED_IN_OR:
            invalid(here, f"{key!r} is an operator, not a field; inside $or each entry must be an object of fields")
        elif isinstance(value, Mapping):
            checks.append(_nested_field(key, _compile_object(value, here, depth + 1, in_or=in_or)))
        elif isinstance(value, list):
            checks.append(_leaf_field(key, _compile_values(value, here)))
        else:
            invalid(here, f"must be an array of match values or an object, got {show(value)}")
    return checks[0] if len(checks) == 1 else _all_of(tuple(checks))


def _compile_or(branches: Any, path: str, depth: int) -> Matcher:
    if not isinstance(branches, list):
        invalid(path, f"$or needs an array of at least 2 objects, got {show(branches)}")
    if len(branches) < 2:
        invalid(path, f"$or needs at least 2 objects, got {len(branches)}")
    compiled = []
    for index, branch in enumerate(branches):
        where = f"{path}[{index}]"
        if not isinstance(branch, Mapping):
            invalid(where, f"each $or entry must be an object, got {show(branch)}")
        compiled.append(_compile_object(branch, where, depth + 1, in_or=True))
    return _any_of(tuple(compiled))


def _compile_values(values: list, path: str) -> list[Expr]:
    if not values:
        invalid(path, "empty arrays are not allowed")
    return [compile_value(value, path) for value in values]


def _all_of(checks: tuple[Matcher, ...]) -> Matcher:
    def all_of(obj: Mapping) -> bool:
        for check in checks:
            if not check(obj):
                return False
        return True

    return all_of


def _any_of(branches: tuple[Matcher, ...]) -> Matcher:
    def any_of(obj: Mapping) -> bool:
        for branch in branches:
            if branch(obj):
                return True
        return False

    return any_of


def _nested_field(key: str, sub: Matcher) -> Matcher:
    """A field whose pattern is an object; an array of objects matches element by element."""

    def nested(obj: Mapping) -> bool:
        value = obj.get(key)
        if isinstance(value, Mapping):
            return sub(value)
        if isinstance(value, (list, tuple)):
            elements = object_elements(value)
            if elements:
                return any(sub(element) for element in elements)
        # Missing, a leaf, or no objects: nothing below exists, which only exists:false accepts.
        return sub(_EMPTY)

    return nested


def _leaf_field(key: str, exprs: list[Expr]) -> Matcher:
    """A field whose pattern is an array of match values (OR between them)."""
    exact = frozenset(e.value for e in exprs if e.kind == "exact")
    tests = tuple(e.value for e in exprs if e.kind == "test")
    if_present = any(e.kind == "exists" and e.value for e in exprs)
    if_absent = any(e.kind == "exists" and not e.value for e in exprs)

    def leaf(obj: Mapping) -> bool:
        value = obj.get(key, _MISSING)
        if value is _MISSING:
            return if_absent
        if isinstance(value, str):  # the common case, without building a list
            if if_present or value in exact:
                return True
            for test in tests:
                if test(value):
                    return True
            return False
        leaves = leaf_values(value)
        if not leaves:  # an object or an empty array: no leaf, so the field does not exist
            return if_absent
        if if_present:
            return True
        for item in leaves:
            if value_key(item) in exact:
                return True
            for test in tests:
                if test(item):
                    return True
        return False

    return leaf
