"""Small helpers shared by the events tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from groundfog.events import EventsService

HANDLERS_DIR = str(Path(__file__).parent)


def deploy(events: EventsService, name: str, handler: str = "record") -> str:
    """Create a function running ``gf_event_handlers.<handler>``; returns its ARN."""
    return events.create_function(name, handler=f"gf_event_handlers:{handler}", code_path=HANDLERS_DIR).function_arn


def entry(detail: dict, source: str = "shop", detail_type: str = "Order Placed", **extra: Any) -> dict:
    return {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail), **extra}
