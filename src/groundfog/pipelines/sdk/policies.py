"""How steps are cached and retried, and how many run at once
(``sagemaker.workflow.steps.CacheConfig``, ``retry``, ``parallelism_config``).

>>> CacheConfig(enable_caching=True, expire_after="P30D").to_request()
{'Enabled': True, 'ExpireAfter': 'P30D'}
>>> SageMakerJobStepRetryPolicy(exception_types=[SageMakerJobExceptionTypeEnum.CAPACITY_ERROR], max_attempts=3).to_request()
{'ExceptionType': ['SageMaker.CAPACITY_ERROR'], 'IntervalSeconds': 1, 'BackoffRate': 2.0, 'MaxAttempts': 3}
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from typing import Any

# ISO-8601 durations: P30D, PT1H, P1DT2H30M, P2W.
_DURATION = re.compile(r"^P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")


class CacheConfig:
    """Reuse a previous execution's result of an identical step (same type and resolved
    arguments) for ``expire_after`` (an ISO-8601 duration; forever when not given)."""

    def __init__(self, enable_caching: bool = False, expire_after: str | None = None) -> None:
        if expire_after is not None and not (isinstance(expire_after, str) and _DURATION.match(expire_after)):
            raise ValueError(f"CacheConfig expire_after {expire_after!r} is not an ISO-8601 duration like P30D or PT1H")
        self.enable_caching = bool(enable_caching)
        self.expire_after = expire_after

    def to_request(self) -> dict[str, Any]:
        request: dict[str, Any] = {"Enabled": self.enable_caching}
        if self.expire_after is not None:
            request["ExpireAfter"] = self.expire_after
        return request

    @property
    def config(self) -> dict[str, Any]:
        """``{"CacheConfig": to_request()}``, as the SDK's ``config``."""
        return {"CacheConfig": self.to_request()}


class StepExceptionTypeEnum(str, enum.Enum):
    """Failures of the step itself (any step type)."""

    SERVICE_FAULT = "Step.SERVICE_FAULT"
    THROTTLING = "Step.THROTTLING"


class SageMakerJobExceptionTypeEnum(str, enum.Enum):
    """Failures of a job step's job."""

    INTERNAL_ERROR = "SageMaker.JOB_INTERNAL_ERROR"
    CAPACITY_ERROR = "SageMaker.CAPACITY_ERROR"
    RESOURCE_LIMIT = "SageMaker.RESOURCE_LIMIT"


class RetryPolicy:
    """Retry after ``interval_seconds``, each wait ``backoff_rate`` times the last, up to
    ``max_attempts`` attempts or for ``expire_after_mins`` minutes."""

    def __init__(
        self,
        exception_types: Sequence[Any],
        backoff_rate: float = 2.0,
        interval_seconds: int = 1,
        max_attempts: int | None = None,
        expire_after_mins: int | None = None,
    ) -> None:
        if not 1.0 <= backoff_rate <= 10.0:
            raise ValueError(f"backoff_rate must be 1-10, got {backoff_rate}")
        if not 1 <= interval_seconds <= 43200:
            raise ValueError(f"interval_seconds must be 1-43200, got {interval_seconds}")
        if max_attempts is not None and not 1 <= max_attempts <= 20:
            raise ValueError(f"max_attempts must be 1-20, got {max_attempts}")
        if expire_after_mins is not None and not 0 <= expire_after_mins <= 14400:
            raise ValueError(f"expire_after_mins must be 0-14400, got {expire_after_mins}")
        self.exception_types = list(exception_types)
        self.backoff_rate = backoff_rate
        self.interval_seconds = interval_seconds
        self.max_attempts = max_attempts
        self.expire_after_mins = expire_after_mins

    def to_request(self) -> dict[str, Any]:
        request: dict[str, Any] = {
            "ExceptionType": [getattr(e, "value", e) for e in self.exception_types],
            "IntervalSeconds": self.interval_seconds,
            "BackoffRate": self.backoff_rate,
        }
        if self.max_attempts is not None:
            request["MaxAttempts"] = self.max_attempts
        if self.expire_after_mins is not None:
            request["ExpireAfterMin"] = self.expire_after_mins
        return request


class StepRetryPolicy(RetryPolicy):
    """Retry a step that failed with one of ``exception_types`` (``StepExceptionTypeEnum``).

    >>> StepRetryPolicy([StepExceptionTypeEnum.THROTTLING], expire_after_mins=60).to_request()
    {'ExceptionType': ['Step.THROTTLING'], 'IntervalSeconds': 1, 'BackoffRate': 2.0, 'ExpireAfterMin': 60}
    """

    def __init__(
        self,
        exception_types: Sequence[StepExceptionTypeEnum],
        backoff_rate: float = 2.0,
        interval_seconds: int = 1,
        max_attempts: int | None = None,
        expire_after_mins: int | None = None,
    ) -> None:
        types = [StepExceptionTypeEnum(e) for e in exception_types]
        if not types:
            raise ValueError("StepRetryPolicy needs at least one exception type")
        super().__init__(types, backoff_rate, interval_seconds, max_attempts, expire_after_mins)


class SageMakerJobStepRetryPolicy(RetryPolicy):
    """Retry a job step whose job failed with one of ``exception_types``
    (``SageMakerJobExceptionTypeEnum``); ``failure_reason_type`` is the SDK's older name."""

    def __init__(
        self,
        exception_types: Sequence[SageMakerJobExceptionTypeEnum] | None = None,
        failure_reason_type: Sequence[SageMakerJobExceptionTypeEnum] | None = None,
        backoff_rate: float = 2.0,
        interval_seconds: int = 1,
        max_attempts: int | None = None,
        expire_after_mins: int | None = None,
    ) -> None:
        types = [SageMakerJobExceptionTypeEnum(e) for e in [*(exception_types or []), *(failure_reason_type or [])]]
        if not types:
            raise ValueError("SageMakerJobStepRetryPolicy needs exception_types (or failure_reason_type)")
        super().__init__(list(dict.fromkeys(types)), backoff_rate, interval_seconds, max_attempts, expire_after_mins)


class ParallelismConfiguration:
    """At most ``max_parallel_execution_steps`` steps of an execution run at once.

    >>> ParallelismConfiguration(2).to_request()
    {'MaxParallelExecutionSteps': 2}
    """

    def __init__(self, max_parallel_execution_steps: int) -> None:
        if isinstance(max_parallel_execution_steps, bool) or not isinstance(max_parallel_execution_steps, int) \
                or max_parallel_execution_steps < 1:  # fmt: skip
            raise ValueError(f"max_parallel_execution_steps must be a positive int, got {max_parallel_execution_steps!r}")
        self.max_parallel_execution_steps = max_parallel_execution_steps

    def to_request(self) -> dict[str, Any]:
        return {"MaxParallelExecutionSteps": self.max_parallel_execution_steps}
