"""What every request string, time and path must be before a service stores or uses it."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from groundfog.core.errors import ValidationError
from groundfog.core.paths import user_path
from groundfog.core.text import check_text
from groundfog.core.times import epoch_seconds


def test_storable_text_passes_whatever_its_shape():
    check_text({"name": "données 🦊", "tags": ["a", {"k": "v"}], "n": 1, "none": None}, "body")


@pytest.mark.parametrize(
    "value, field",
    [
        ("a\x00b", "body"),
        ({"tags": ["ok", "x\ud800"]}, "body.tags[1]"),
        ({"a": {"b\x00": 1}}, "body.a"),  # a bad key is named by where it is
    ],
)
def test_nul_and_unpaired_surrogates_are_refused_naming_where(value, field):
    with pytest.raises(ValidationError) as raised:
        check_text(value, "body")
    assert raised.value.field == field
    str(raised.value).encode("utf-8")  # the message itself must be sendable


def test_deeply_nested_values_are_checked_without_recursion():
    value: object = "x\x00"
    for _ in range(100_000):
        value = [value]
    with pytest.raises(ValidationError):
        check_text(value, "body")


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2026-01-01T00:00:00Z", 1767225600.0),
        ("2026-01-01", 1767225600.0),
        (" 1767225600 ", 1767225600.0),
        (1767225600, 1767225600.0),
        (datetime(2026, 1, 1), 1767225600.0),
        (datetime(2026, 1, 1, tzinfo=timezone.utc), 1767225600.0),
    ],
)
def test_times_are_datetimes_epoch_seconds_or_iso_text(value, expected):
    assert epoch_seconds(value, "Time") == expected


@pytest.mark.parametrize(
    "value, message",
    [
        (1e300, "out of range"), (-1e308, "out of range"), (10**400, "out of range"), ("nan", "out of range"),
        ("1e999", "out of range"), (float("inf"), "out of range"), ("0001-01-01T00:00:00+05:00", "out of range"),
        ("yesterday", "not a time"), (True, "must be a time"), ([1], "must be a time"),
    ],
)
def test_times_no_datetime_can_show_are_validation_errors(value, message):
    with pytest.raises(ValidationError, match=message) as raised:
        epoch_seconds(value, "Time")
    assert raised.value.field == "Time" and len(str(raised.value)) < 200


def test_user_paths_expand_home_and_refuse_what_cannot_be_a_path():
    assert user_path("~/x.jsonl", "Endpoint") == Path.home() / "x.jsonl"
    assert user_path(Path("/tmp/x"), "Endpoint") == Path("/tmp/x")
    for bad in ("", "~gf-no-such-user/x", "/tmp/a\x00b"):
        with pytest.raises(ValidationError) as raised:
            user_path(bad, "Endpoint")
        assert raised.value.field == "Endpoint"
