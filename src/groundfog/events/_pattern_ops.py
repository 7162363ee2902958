"""The leaf operators of the EventBridge event-pattern language.

A pattern array such as ``["running", {"prefix": "us-"}, {"exists": false}]`` holds
match values; ``compile_value`` turns each into an ``Expr``: an exact key, an
``exists`` flag, or a test on one leaf value of an event (a string, number, boolean
or null). ``patterns.py`` wires these into the object structure of a pattern.

>>> compile_value({"prefix": "us-"}, "region").value("us-east-1")
True
>>> compile_value({"numeric": [">", 0, "<=", 5]}, "detail.c-count").value(5)
True
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, NamedTuple, NoReturn

from groundfog.core.errors import ValidationError

__all__ = [
    "Expr", "JsonFloat", "RESERVED_IN_OR", "compile_value", "invalid",
    "leaf_values", "object_elements", "show", "value_key",
]

# AWS's numeric matching covers -5e9..5e9 at six decimal places (event-ruler's
# ComparableNumber); numbers are compared as integers scaled by 10**6.
NUMERIC_LIMIT = 5_000_000_000
NUMERIC_DECIMALS = 6
_SCALE = 10**NUMERIC_DECIMALS

# Field names that may not appear inside a $or branch: AWS reads them as operators,
# so {"$or": [{"prefix": "a"}, ...]} is a mistake, not a field called "prefix".
RESERVED_IN_OR = frozenset(
    {"exactly", "equals-ignore-case", "prefix", "suffix", "anything-but", "exists", "wildcard", "numeric", "cidr"}
    | {"=", "<", "<=", ">", ">="}
)

LeafTest = Callable[[Any], bool]


class Expr(NamedTuple):
    """One compiled match value: ``kind`` is "exact" (a value_key), "exists" (a bool) or "test"."""

    kind: str
    value: Any


class JsonFloat(float):
    """A float that remembers its JSON text: AWS compares exact numbers by their text,
    so ``300.0`` and ``3.0e2`` differ even though both parse to the same float."""

    __slots__ = ("text",)

    def __new__(cls, text: str) -> JsonFloat:
        self = super().__new__(cls, text)
        self.text = text
        return self


def invalid(path: str, problem: str) -> NoReturn:
    """Raise the ValidationError for a bad pattern, naming the field path at fault."""
    field = path or "EventPattern"
    raise ValidationError(f"{field}: {problem}", field=field)


def show(value: Any) -> str:
    """A value as a message shows it: strings quoted Python-style, the rest as JSON, cut short."""
    try:
        text = repr(value) if isinstance(value, str) else json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        return type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


# Distinct keys for the JSON literals, so True never equals 1 and null never equals "null".
_NULL, _TRUE, _FALSE = ("null",), ("true",), ("false",)


def value_key(value: Any) -> Any:
    """The identity of a leaf value for exact matching (None for a non-leaf).

    >>> value_key(300) == value_key(300.0), value_key("a") == value_key("a")
    (False, True)
    """
    if isinstance(value, str):
        return value
    if value is None:
        return _NULL
    if value is True:
        return _TRUE
    if value is False:
        return _FALSE
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("num", getattr(value, "text", None) or float.__repr__(value))
    return None


def _is_leaf(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float))


def leaf_values(value: Any) -> list:
    """The leaf values of an event field: arrays (of arrays) are flattened, objects have none.

    >>> leaf_values(["a", ["b", {"c": 1}]]), leaf_values({"c": 1})
    (['a', 'b'], [])
    """
    if _is_leaf(value):
        return [value]
    out: list = []
    stack = [value] if isinstance(value, (list, tuple)) else []
    while stack:  # iterative, so arrays nested thousands deep cannot overflow the stack
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))  # reversed, so leaves come out in event order
        elif _is_leaf(item):
            out.append(item)
    return out


def object_elements(value: list | tuple) -> list[Mapping]:
    """The objects inside an event array, at any array depth."""
    out: list[Mapping] = []
    stack = list(reversed(value))
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            out.append(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
    return out


def scaled_number(value: Any) -> int | None:
    """An event number times 10**6, or None when numeric matching cannot see it
    (not a number, a boolean, outside -5e9..5e9, NaN or infinite)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, int):
        return value * _SCALE if -NUMERIC_LIMIT <= value <= NUMERIC_LIMIT else None
    if not -NUMERIC_LIMIT <= value <= NUMERIC_LIMIT:  # also false for NaN
        return None
    text = getattr(value, "text", None) or float.__repr__(value)
    return int(Decimal(text).scaleb(NUMERIC_DECIMALS).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _pattern_number(value: Any, path: str, what: str) -> int:
    """A number written in a pattern, scaled by 10**6; AWS rejects what it cannot compare."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        invalid(path, f"{what} needs a number, got {show(value)}")
    if isinstance(value, int):  # compared, not printed: str() refuses ints over 4300 digits
        if abs(value) > NUMERIC_LIMIT:
            invalid(path, f"{what}: the value is outside -5e9..5e9, the range numeric matching supports")
        return value * _SCALE
    text = getattr(value, "text", None) or float.__repr__(value)
    try:
        number = Decimal(text)
        if not number.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        invalid(path, f"{what} needs a finite number, got {text}")
    if number.normalize().as_tuple().exponent < -NUMERIC_DECIMALS:  # type: ignore[operator]
        invalid(path, f"{what}: {text} has more than {NUMERIC_DECIMALS} digits after the decimal point")
    if abs(number) > NUMERIC_LIMIT:
        invalid(path, f"{what}: {text} is outside -5e9..5e9, the range numeric matching supports")
    return int(number.scaleb(NUMERIC_DECIMALS))


_RANGE_OPS = frozenset({"=", "<", "<=", ">", ">="})


def _numeric(operand: Any, path: str) -> LeafTest:
    if not isinstance(operand, list) or not operand:
        invalid(path, f'numeric needs a non-empty array such as [">", 0, "<=", 5], got {show(operand)}')
    first = operand[0]
    if not isinstance(first, str) or first not in _RANGE_OPS:
        invalid(path, f"unrecognized numeric operator {show(first)}; use =, <, <=, > or >=")
    if len(operand) < 2:
        invalid(path, f"numeric operator {first!r} needs a number, got nothing")
    value = _pattern_number(operand[1], path, f"numeric operator {first!r}")
    longest = 4 if first in (">", ">=") else 2  # only a lower bound may be followed by an upper one
    if len(operand) > longest:
        invalid(path, f"too many elements in numeric expression {show(operand)}")
    low = high = None
    low_open = high_open = False
    if first == "=":
        low = high = value
    elif first in ("<", "<="):
        high, high_open = value, first == "<"
    else:
        low, low_open = value, first == ">"
        if len(operand) > 2:
            second = operand[2]
            if second not in ("<", "<="):
                invalid(path, f"numeric range after {first!r} must continue with '<' or '<=', got {show(second)}")
            if len(operand) < 4:
                invalid(path, f"numeric operator {second!r} needs a number, got nothing")
            high, high_open = _pattern_number(operand[3], path, f"numeric operator {second!r}"), second == "<"
            if high <= low:
                invalid(path, "numeric range is empty: the lower bound must be below the upper bound")

    def numeric(leaf: Any) -> bool:
        n = scaled_number(leaf)
        if n is None:
            return False
        if low is not None and (n <= low if low_open else n < low):
            return False
        return high is None or (n < high if high_open else n <= high)

    return numeric


def _parse_wildcard(pattern: str) -> tuple[str, ...]:
    """The literal segments between unescaped '*'; raises ValueError as AWS rejects."""
    segments, current, i = [], [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            if i + 1 < len(pattern) and pattern[i + 1] == "*":
                raise ValueError(f"consecutive wildcard characters at position {i}")
            segments.append("".join(current))
            current = []
        elif char == "\\":
            if i + 1 < len(pattern) and pattern[i + 1] in "*\\":
                current.append(pattern[i + 1])
                i += 1
            else:
                raise ValueError(f"invalid escape at position {i}; only \\* and \\\\ are allowed")
        else:
            current.append(char)
        i += 1
    segments.append("".join(current))
    return tuple(segments)


@lru_cache(maxsize=1024)
def wildcard_test(pattern: str) -> Callable[[str], bool]:
    """A matcher for one wildcard string; '*' matches any run of characters.

    Matching walks the literal segments left to right, so it stays linear where a
    regular expression could backtrack.

    >>> wildcard_test("dir/*.png")("dir/sub/a.png")
    True
    """
    segments = _parse_wildcard(pattern)
    if len(segments) == 1:
        return segments[0].__eq__
    head, middle, tail = segments[0], segments[1:-1], segments[-1]

    def match(text: str) -> bool:
        end = len(text) - len(tail)
        if end < len(head) or not text.startswith(head) or not text.endswith(tail):
            return False
        at = len(head)
        for part in middle:
            at = text.find(part, at, end)
            if at < 0:
                return False
            at += len(part)
        return True

    return match


def _checked_wildcard(pattern: str, path: str) -> Callable[[str], bool]:
    try:
        return wildcard_test(pattern)
    except ValueError as error:
        invalid(path, f"wildcard {show(pattern)}: {error}")


def _string(operand: Any, path: str, what: str) -> str:
    if not isinstance(operand, str):
        invalid(path, f"{what} needs a string, got {show(operand)}")
    return operand


def _string_test(kind: str, operand: str, path: str) -> Callable[[str], bool]:
    """prefix / suffix / equals-ignore-case / wildcard on a known string operand."""
    if kind == "prefix":
        return lambda text: text.startswith(operand)
    if kind == "suffix":
        return lambda text: text.endswith(operand)
    if kind == "equals-ignore-case":
        folded = operand.casefold()
        return lambda text: text.casefold() == folded
    return _checked_wildcard(operand, path)


def _on_strings(test: Callable[[str], bool]) -> LeafTest:
    return lambda leaf: isinstance(leaf, str) and test(leaf)


def _affix(kind: str) -> Callable[[Any, str], Expr]:
    """prefix or suffix: a string, or {"equals-ignore-case": string}."""

    def build(operand: Any, path: str) -> Expr:
        if isinstance(operand, Mapping):
            if list(operand) != ["equals-ignore-case"]:
                invalid(path, f"{kind} accepts a string or {{\"equals-ignore-case\": string}}, got {show(operand)}")
            folded = _string(operand["equals-ignore-case"], path, f"{kind} equals-ignore-case").casefold()
            if kind == "prefix":
                return Expr("test", _on_strings(lambda text: text.casefold().startswith(folded)))
            return Expr("test", _on_strings(lambda text: text.casefold().endswith(folded)))
        return Expr("test", _on_strings(_string_test(kind, _string(operand, path, kind), path)))

    return build


_ANYTHING_BUT_INNER = ("equals-ignore-case", "prefix", "suffix", "wildcard")


def _anything_but(operand: Any, path: str) -> Expr:
    if isinstance(operand, Mapping):
        if len(operand) != 1 or next(iter(operand)) not in _ANYTHING_BUT_INNER:
            choices = ", ".join(_ANYTHING_BUT_INNER)
            invalid(path, f"anything-but accepts one of {choices} in an object, got {show(operand)}")
        kind, inner = next(iter(operand.items()))
        values = inner if isinstance(inner, list) else [inner]
        if not values:
            invalid(path, f"anything-but {kind} needs at least one string")
        tests = []
        for value in values:
            text = _string(value, path, f"anything-but {kind}")
            if not text and kind in ("prefix", "suffix"):
                invalid(path, f"anything-but {kind} cannot be empty")
            tests.append(_string_test(kind, text, path))
        # Negation of a string test: numbers, booleans and null are "anything but".
        return Expr("test", lambda leaf: not (isinstance(leaf, str) and any(t(leaf) for t in tests)))
    values = operand if isinstance(operand, list) else [operand]
    strings = all(isinstance(v, str) for v in values)
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if not values or not (strings or numbers):
        invalid(
            path,
            "anything-but needs a string, a number, or a non-empty list of only strings or only numbers, "
            f"got {show(operand)}",
        )
    if numbers:
        for value in values:
            _pattern_number(value, path, "anything-but")
    excluded = frozenset(value_key(v) for v in values)
    return Expr("test", lambda leaf: value_key(leaf) not in excluded)


def _exists(operand: Any, path: str) -> Expr:
    if not isinstance(operand, bool):
        invalid(path, f"exists needs true or false, got {show(operand)}")
    return Expr("exists", operand)


@lru_cache(maxsize=4096)  # parsing costs microseconds and events repeat their addresses
def _event_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _cidr(operand: Any, path: str) -> Expr:
    block = _string(operand, path, "cidr")
    address, slash, mask = block.partition("/")
    if not slash or "/" in mask:
        invalid(path, f"cidr {show(block)} is malformed: exactly one '/' is required")
    if not (mask.isascii() and mask.isdigit()) or len(mask) > 3:
        invalid(path, f"cidr {show(block)} is malformed: mask bits must be a non-negative integer")
    base = _event_ip(address)
    if base is None:
        invalid(path, f"cidr {show(block)}: {show(address)} is not an IPv4 or IPv6 address")
    bits = base.max_prefixlen
    if int(mask) >= bits:  # AWS (event-ruler) rejects /32 and /128
        invalid(path, f"cidr {show(block)}: IPv{base.version} mask bits must be < {bits}")
    low = int(base)
    high = low | ((1 << (bits - int(mask))) - 1)  # AWS ranges from the address as written
    version = base.version

    def in_block(leaf: Any) -> bool:
        ip = _event_ip(leaf) if isinstance(leaf, str) else None
        return ip is not None and ip.version == version and low <= int(ip) <= high

    return Expr("test", in_block)


def _equals_ignore_case(operand: Any, path: str) -> Expr:
    target = _string(operand, path, "equals-ignore-case")
    return Expr("test", _on_strings(_string_test("equals-ignore-case", target, path)))


def _wildcard(operand: Any, path: str) -> Expr:
    return Expr("test", _on_strings(_checked_wildcard(_string(operand, path, "wildcard"), path)))


_OPERATORS: dict[str, Callable[[Any, str], Expr]] = {
    "exactly": lambda operand, path: Expr("exact", _string(operand, path, "exactly")),
    "prefix": _affix("prefix"),
    "suffix": _affix("suffix"),
    "equals-ignore-case": _equals_ignore_case,
    "wildcard": _wildcard,
    "anything-but": _anything_but,
    "numeric": lambda operand, path: Expr("test", _numeric(operand, path)),
    "exists": _exists,
    "cidr": _cidr,
}


def compile_value(value: Any, path: str) -> Expr:
    """Compile one element of a pattern array: a literal or a one-operator match expression.

    >>> compile_value("running", "detail.state")
    Expr(kind='exact', value='running')
    """
    if isinstance(value, Mapping):
        if len(value) != 1:
            invalid(path, f"a match expression needs exactly one operator, got {len(value)}: {show(value)}")
        name, operand = next(iter(value.items()))
        build = _OPERATORS.get(name)
        if build is None:
            invalid(path, f"unrecognized match type {show(name)}")
        return build(operand, path)
    if isinstance(value, float) and not math.isfinite(value):
        invalid(path, f"{value} is not a JSON number")
    if _is_leaf(value):
        return Expr("exact", value_key(value))
    invalid(path, f"match values must be strings, numbers, true, false, null or match expressions, got {show(value)}")
