"""Pipelines (SageMaker Pipelines): definitions, executions, caching, retries, triggers.

``PipelinesService`` is ``platform.pipelines``; the SDK classes (``Pipeline``,
``ProcessingStep``, ``ConditionStep``, ...) live in ``groundfog.pipelines.sdk``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PipelinesService"]


def __getattr__(name: str) -> Any:
    # Lazy, so the CLI and the SDK do not load the engine (and SQLAlchemy) to start.
    if name == "PipelinesService":
        from groundfog.pipelines.service import PipelinesService

        return PipelinesService
    raise AttributeError(f"module 'groundfog.pipelines' has no attribute {name!r}")
