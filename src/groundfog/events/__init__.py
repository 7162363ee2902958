"""Events: EventBridge buses, rules and targets, SNS-like topics, Lambda-like functions.

>>> from groundfog.events import EventsService, test_event_pattern
"""

from groundfog.events.filter_policy import FilterPolicy
from groundfog.events.functions import FunctionError, LambdaContext
from groundfog.events.models import (
    Archive,
    DeadLetter,
    DeadLetterConfig,
    EventBus,
    Function,
    InputTransformer,
    Replay,
    ReplayDestination,
    RetryPolicy,
    Rule,
    Subscription,
    Target,
    Topic,
)
from groundfog.events.patterns import CompiledPattern, compile_pattern, test_event_pattern
from groundfog.events.service import EventsService
from groundfog.events.topics import TopicsService

__all__ = [
    "Archive",
    "CompiledPattern",
    "DeadLetter",
    "DeadLetterConfig",
    "EventBus",
    "EventsService",
    "FilterPolicy",
    "Function",
    "FunctionError",
    "InputTransformer",
    "LambdaContext",
    "Replay",
    "ReplayDestination",
    "RetryPolicy",
    "Rule",
    "Subscription",
    "Target",
    "Topic",
    "TopicsService",
    "compile_pattern",
    "test_event_pattern",
]
