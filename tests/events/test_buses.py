"""Event buses: ``default`` always exists; custom ones are named as EventBridge names them."""

from __future__ import annotations

import pytest

from groundfog.core.errors import AlreadyExists, ResourceInUse, ResourceNotFound, ValidationError


def test_the_default_bus_exists_and_cannot_be_deleted(events):
    assert [b.name for b in events.list_event_buses()] == ["default"]
    assert events.describe_event_bus().arn == "arn:groundfog:events:local:000000000000:event-bus/default"
    with pytest.raises(ValidationError, match="Cannot delete event bus default"):
        events.delete_event_bus("default")


def test_custom_buses_are_created_listed_and_deleted_once_empty(events):
    bus = events.create_event_bus("orders", description="shop orders")
    assert events.describe_event_bus(bus.arn) == bus
    with pytest.raises(AlreadyExists):
        events.create_event_bus("orders")
    events.put_rule("r", event_pattern={"source": ["shop"]}, event_bus_name=bus.arn)
    with pytest.raises(ResourceInUse, match="rules"):
        events.delete_event_bus("orders")
    events.delete_rule("r", event_bus_name="orders")
    events.delete_event_bus("orders")
    with pytest.raises(ResourceNotFound, match="Event bus orders does not exist"):
        events.describe_event_bus("orders")


def test_bus_names_follow_eventbridge_rules(events):
    for name in ["", "has space", "slash/y", "x" * 257]:
        with pytest.raises(ValidationError, match="Name"):
            events.create_event_bus(name)
