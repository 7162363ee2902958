"""EventBridge event patterns against the examples of AWS's documentation.

Each case in pattern_cases.json names the documentation section it reflects. Patterns
and events given as JSON text (``pattern_json`` / ``event_json``) keep the exact
number literals that AWS's matching distinguishes; text events carry the envelope
TestEventPattern requires and go through it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groundfog.core.errors import ValidationError
from groundfog.events import patterns

CASES = json.loads((Path(__file__).parent / "pattern_cases.json").read_text(encoding="utf-8"))
ENVELOPE = {
    "id": "1", "account": "123456789012", "source": "app", "time": "2024-01-01T00:00:00Z",
    "region": "us-east-1", "resources": [], "detail-type": "t",
}


def _case_id(case: dict) -> str:
    return case["doc"][:70]


@pytest.mark.parametrize("case", CASES["matching"], ids=_case_id)
def test_documented_example_matches_as_aws_says(case: dict) -> None:
    pattern = case.get("pattern_json", case.get("pattern"))
    if "event_json" in case:
        assert patterns.test_event_pattern(pattern, case["event_json"]) is case["matches"]
        return
    event = case["event"]
    assert patterns.compile_pattern(pattern).matches(event) is case["matches"]
    if all(name in event for name in patterns.REQUIRED_EVENT_FIELDS):
        assert patterns.test_event_pattern(pattern, event) is case["matches"]


@pytest.mark.parametrize("case", CASES["invalid"], ids=_case_id)
def test_invalid_pattern_is_rejected_naming_the_field(case: dict) -> None:
    pattern = case.get("pattern_json", case.get("pattern"))
    with pytest.raises(ValidationError) as caught:
        patterns.compile_pattern(pattern)
    assert case["error"] in caught.value.message
    assert caught.value.field == case["field"]
    assert caught.value.message.startswith(f"{case['field']}: ")


def test_there_are_at_least_a_hundred_documented_cases() -> None:
    assert len(CASES["matching"]) >= 100
    assert all(case["doc"] for case in CASES["matching"] + CASES["invalid"])


def test_empty_pattern_matches_every_event() -> None:
    assert patterns.compile_pattern({}).matches({"anything": [1, {"x": None}]})
    assert patterns.compile_pattern("{}").matches({})


@pytest.mark.parametrize("missing", patterns.REQUIRED_EVENT_FIELDS)
def test_test_event_pattern_requires_the_mandatory_envelope_field(missing: str) -> None:
    event = {k: v for k, v in ENVELOPE.items() if k != missing}
    with pytest.raises(ValidationError, match=f"missing the mandatory field '{missing}'") as caught:
        patterns.test_event_pattern({"source": ["app"]}, event)
    assert caught.value.field == "Event"


def test_test_event_pattern_reports_invalid_event_json_with_its_position() -> None:
    with pytest.raises(ValidationError, match=r"Event: invalid JSON: .* line 2 column") as caught:
        patterns.test_event_pattern({"source": ["app"]}, '{"id": "1",\n "account": }')
    assert caught.value.field == "Event"


def test_test_event_pattern_rejects_an_event_that_is_not_an_object() -> None:
    with pytest.raises(ValidationError, match="Event: an event must be a JSON object"):
        patterns.test_event_pattern({"source": ["app"]}, "[1, 2]")


def test_compiled_pattern_is_immutable_hashable_and_reusable() -> None:
    compiled = patterns.compile_pattern({"source": ["app"]})
    with pytest.raises(AttributeError):
        compiled._match = None  # type: ignore[misc]
    assert compiled == patterns.compile_pattern('{"source": ["app"]}')
    assert len({compiled, patterns.compile_pattern({"source": ["app"]})}) == 1
    assert [compiled.matches(ENVELOPE) for _ in range(3)] == [True, True, True]
    assert compiled.source == '{"source":["app"]}'


def test_a_pattern_string_over_the_size_limit_is_rejected_before_parsing() -> None:
    with pytest.raises(ValidationError, match="maximum is 4096"):
        patterns.compile_pattern("{" + " " * 5000 + "}")


def test_nesting_beyond_the_guard_is_rejected() -> None:
    deep: dict = {"leaf": ["x"]}
    for _ in range(patterns.MAX_DEPTH + 1):
        deep = {"a": deep}
    with pytest.raises(ValidationError, match="nests more than"):
        patterns.compile_pattern(deep)


def test_a_non_event_is_treated_as_an_empty_event() -> None:
    compiled = patterns.compile_pattern({"a": [{"exists": False}]})
    assert compiled.matches([1, 2, 3])  # type: ignore[arg-type]
    assert not patterns.compile_pattern({"a": ["x"]}).matches("text")  # type: ignore[arg-type]
