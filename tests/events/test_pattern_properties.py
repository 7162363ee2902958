"""Properties of EventBridge event patterns that must hold for any input."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from groundfog.core.errors import ValidationError
from groundfog.events import patterns

KEYS = st.sampled_from(["a", "b", "detail", "state", "size", "ip", "name", "x-y", "é", ""])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["10.0.0.7", "2001:db8::1", "running", "dir/a.png", "us-east-1", "*"]),
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=4)),
    max_leaves=25,
)
EVENTS = st.dictionaries(KEYS, JSON, max_size=5)

# One valid match expression of every kind the language has.
EXPRESSIONS = [
    "running", 5, 2.5, True, None, "", {"exactly": "running"},
    {"prefix": "us-"}, {"prefix": {"equals-ignore-case": "US-"}}, {"suffix": ".png"},
    {"suffix": {"equals-ignore-case": ".PNG"}}, {"equals-ignore-case": "RUNNING"},
    {"wildcard": "dir/*.png"}, {"wildcard": "*a*\\*"}, {"anything-but": "running"}, {"anything-but": 5},
    {"anything-but": ["a", "b"]}, {"anything-but": [1, 2.5]}, {"anything-but": {"prefix": "us-"}},
    {"anything-but": {"suffix": [".png", ".jpg"]}}, {"anything-but": {"equals-ignore-case": "X"}},
    {"anything-but": {"wildcard": "*/lib/*"}}, {"numeric": [">", 0, "<=", 5]}, {"numeric": ["=", 2.5]},
    {"numeric": ["<", -1]}, {"numeric": [">=", -5000000000]}, {"exists": True}, {"exists": False},
    {"cidr": "10.0.0.0/24"}, {"cidr": "2001:db8::/32"},
]
VALUES = st.sampled_from(EXPRESSIONS)
OPERATORS = st.sampled_from([
    "exactly", "prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric", "exists", "cidr",
    "regex", "$or",
])
# Operator-shaped expressions with arbitrary operands: mostly invalid, all must be judged.
ODD_EXPRESSIONS = st.one_of(
    st.dictionaries(OPERATORS, JSON, min_size=1, max_size=2),
    st.builds(lambda op, args: {"numeric": [op, *args]}, st.sampled_from(["=", "<", ">", ">=", "<=", "!"]),
              st.lists(st.one_of(JSON, st.sampled_from(["<", "<=", ">"])), max_size=4)),
    st.builds(lambda op, arg: {"anything-but": {op: arg}}, OPERATORS, JSON),
    st.builds(lambda op, arg: {op: {"equals-ignore-case": arg}}, OPERATORS, JSON),
    st.builds(lambda op, text: {op: text}, OPERATORS, st.text(alphabet="*\\/ab.:0123456789", max_size=12)),
)
VALID_PATTERNS = st.recursive(
    st.dictionaries(KEYS, st.lists(VALUES, min_size=1, max_size=3), min_size=1, max_size=3),
    lambda children: st.one_of(
        st.dictionaries(KEYS, children, min_size=1, max_size=3),
        st.builds(lambda branches, rest: {**rest, "$or": branches}, st.lists(children, min_size=2, max_size=3),
                  st.dictionaries(KEYS, children, max_size=2)),
    ),
    max_leaves=6,
)
MALFORMED = st.one_of(
    JSON,
    st.dictionaries(KEYS, JSON, max_size=4),
    st.dictionaries(KEYS, st.lists(ODD_EXPRESSIONS, max_size=3), max_size=3),
    st.builds(lambda branches: {"$or": branches}, JSON),
    VALID_PATTERNS.map(str),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=VALID_PATTERNS, event=EVENTS)
def test_matching_never_raises_on_any_json_event(pattern: dict, event: dict) -> None:
    compiled = patterns.compile_pattern(pattern)
    assert compiled.matches(event) in (True, False)


@settings(max_examples=300)
@given(pattern=MALFORMED)
def test_any_malformed_pattern_compiles_or_raises_a_validation_error_naming_a_field(pattern: Any) -> None:
    try:
        patterns.compile_pattern(pattern)
    except ValidationError as error:
        assert error.field
        assert error.message.startswith(f"{error.field}: ")


@settings(max_examples=300)
@given(text=st.text(max_size=60))
def test_any_pattern_text_compiles_or_raises_a_validation_error(text: str) -> None:
    try:
        patterns.compile_pattern(text)
    except ValidationError as error:
        assert error.field


def _leaf_paths(event: dict, prefix: tuple = ()) -> list[tuple[tuple, Any]]:
    """(path, value) for every field reached through objects alone that holds a leaf or leaves."""
    out = []
    for key, value in event.items():
        if isinstance(value, dict):
            out += _leaf_paths(value, prefix + (key,))
        elif isinstance(value, list):
            leaves = [v for v in value if not isinstance(v, (dict, list))]
            if leaves:
                out.append((prefix + (key,), leaves[0]))
        else:
            out.append((prefix + (key,), value))
    return out


FINITE_SCALARS = SCALARS.filter(lambda v: not (isinstance(v, float) and (v != v or v in (float("inf"), float("-inf")))))
FINITE_JSON = st.recursive(
    FINITE_SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(KEYS, children, max_size=3)),
    max_leaves=15,
)


@settings(max_examples=300)
@given(event=st.dictionaries(KEYS, FINITE_JSON, min_size=1, max_size=5), data=st.data())
def test_a_pattern_built_from_the_events_own_values_matches_it(event: dict, data: st.DataObject) -> None:
    paths = _leaf_paths(event)
    assume(paths)
    chosen = data.draw(st.lists(st.sampled_from(paths), min_size=1, max_size=len(paths), unique_by=lambda p: p[0]))
    pattern: dict = {}
    for path, value in chosen:
        node = pattern
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = [value]
    assert patterns.compile_pattern(pattern).matches(event)


ANYTHING_BUT_OPERANDS = st.one_of(
    st.text(max_size=8),
    st.integers(min_value=-5_000_000_000, max_value=5_000_000_000),
    st.integers(min_value=-5_000_000_000_000, max_value=5_000_000_000_000).map(lambda n: n / 1000),
)


@settings(max_examples=300)
@given(operand=ANYTHING_BUT_OPERANDS, other=FINITE_SCALARS, same=st.booleans())
def test_anything_but_is_the_negation_of_an_exact_match(operand: Any, other: Any, same: bool) -> None:
    value = operand if same else other
    exact = patterns.compile_pattern({"f": [operand]})
    anything_but = patterns.compile_pattern({"f": [{"anything-but": operand}]})
    event = {"f": value}
    assert anything_but.matches(event) is not exact.matches(event)


@pytest.mark.parametrize(
    "event",
    [{"f": [[["a"]]]}, {"f": [[{"g": 1}]]}, {"f": 10**400}, {"f": float("nan")}, {"f": -0.0}, {"f": {"g": []}}],
)
@pytest.mark.parametrize("expression", EXPRESSIONS, ids=str)
def test_awkward_events_never_raise(event: dict, expression: Any) -> None:
    for pattern in ({"f": [expression]}, {"f": {"g": [expression]}}):
        assert patterns.compile_pattern(pattern).matches(event) in (True, False)
