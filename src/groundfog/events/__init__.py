"""Events: EventBridge buses, rules and targets, SNS-like topics, Lambda-like functions.

>>> from groundfog.events import EventsService, test_event_pattern
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from groundfog.core.lazy import lazy_exports

_EXPORTS = {
    "Archive": "groundfog.events.models",
    "CompiledPattern": "groundfog.events.patterns",
    "DeadLetter": "groundfog.events.models",
    "DeadLetterConfig": "groundfog.events.models",
    "EventBus": "groundfog.events.models",
    "EventsService": "groundfog.events.service",
    "FilterPolicy": "groundfog.events.filter_policy",
    "Function": "groundfog.events.models",
    "FunctionError": "groundfog.events.functions",
    "InputTransformer": "groundfog.events.models",
    "LambdaContext": "groundfog.events.functions",
    "Replay": "groundfog.events.models",
    "ReplayDestination": "groundfog.events.models",
    "RetryPolicy": "groundfog.events.models",
    "Rule": "groundfog.events.models",
    "Subscription": "groundfog.events.models",
    "Target": "groundfog.events.models",
    "Topic": "groundfog.events.models",
    "TopicsService": "groundfog.events.topics",
    "compile_pattern": "groundfog.events.patterns",
    "test_event_pattern": "groundfog.events.patterns",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from groundfog.events.filter_policy import FilterPolicy
    from groundfog.events.functions import FunctionError, LambdaContext
    from groundfog.events.models import Archive, DeadLetter, DeadLetterConfig, EventBus, Function, InputTransformer, Replay, ReplayDestination, RetryPolicy, Rule, Subscription, Target, Topic
    from groundfog.events.patterns import CompiledPattern, compile_pattern, test_event_pattern
    from groundfog.events.service import EventsService
    from groundfog.events.topics import TopicsService
