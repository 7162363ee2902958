"""Pipelines (SageMaker Pipelines): definitions, executions, caching, retries, triggers.

``PipelinesService`` is ``platform.pipelines``; the SDK classes (``Pipeline``,
``ProcessingStep``, ``ConditionStep``, ...) live in ``groundfog.pipelines.sdk``.
"""

from __future__ import annotations

from groundfog.pipelines.service import PipelinesService

__all__ = ["PipelinesService"]
