"""What every service has: the platform's shared parts, and a way to mark operations.

Methods decorated with ``@operation`` are a service's public API: the HTTP layer
exposes each as ``POST /api/<service>/<Operation>`` and the remote SDK calls it the
same way, so a service method is written once and reached three ways.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from groundfog.core.clock import Clock
    from groundfog.core.config import Config
    from groundfog.core.state import StateStore

F = TypeVar("F", bound=Callable[..., Any])


def operation(fn: F | None = None, *, name: str | None = None) -> Any:
    """Mark a method as a public operation (named in AWS's PascalCase by default)."""

    def mark(f: F) -> F:
        f.__groundfog_operation__ = name or "".join(p.capitalize() for p in f.__name__.split("_"))  # type: ignore[attr-defined]
        return f

    return mark(fn) if fn is not None else mark


def operations_of(obj: object) -> dict[str, Callable[..., Any]]:
    """``{"PutRule": bound_method, ...}`` for every ``@operation`` of a service."""
    found: dict[str, Callable[..., Any]] = {}
    for attr in dir(type(obj)):
        fn = getattr(type(obj), attr, None)
        op_name = getattr(fn, "__groundfog_operation__", None)
        if op_name:
            found[op_name] = getattr(obj, attr)
    return found


class Service:
    """Base of the service objects a ``Platform`` holds (``platform.storage`` ...)."""

    name: str = ""

    def __init__(self, *, config: "Config", state: "StateStore", clock: "Clock") -> None:
        self.config = config
        self.state = state
        self.clock = clock

    def start_background(self) -> None:
        """Start the service's loops (the server does; library use need not)."""

    def close(self) -> None:
        """Stop loops and flush what is pending."""
