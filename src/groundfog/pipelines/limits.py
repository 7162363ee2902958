"""The limits and small checks the pipelines operations share (SageMaker's limits,
which also keep status-change events well under their maximum size)."""

from __future__ import annotations

from typing import Any

from groundfog.core.errors import ValidationError

PIPELINE_NAME_MAX = 256
MAX_VERSION = 2**31 - 1
# SageMaker's limits; they also keep the status-change events well under their maximum size.
DESCRIPTION_MAX = 3072
DISPLAY_NAME_MAX = 256
ROLE_ARN_MAX = 2048
REQUEST_TOKEN_MAX = 128
FAILURE_REASON_MAX = 256
EVENT_TEXT_MAX = 1024  # a longer text in an event that would be too large is cut to this
DEFAULT_PARALLELISM = 50


def parallelism_limit(config: Any, field: str) -> int | None:
    if config is None:
        return None
    value = config.get("MaxParallelExecutionSteps") if isinstance(config, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 256:
        raise ValidationError(f"{field}.MaxParallelExecutionSteps must be an integer 1-256", field=field)
    return value


def check_text(value: Any, field: str, max_length: int) -> None:
    if value is not None and (not isinstance(value, str) or len(value) > max_length):
        raise ValidationError(f"{field} must be text of at most {max_length} characters", field=field)


def shortened(value: Any) -> Any:
    """``value`` with every text longer than ``EVENT_TEXT_MAX`` cut to that."""
    if isinstance(value, str) and len(value) > EVENT_TEXT_MAX:
        return value[:EVENT_TEXT_MAX] + f"... ({len(value)} characters)"
    if isinstance(value, dict):
        return {k: shortened(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shortened(v) for v in value]
    return value


def version_id(value: Any) -> int:
    """A PipelineVersionId: 1, 2, ... (a number the state store can hold)."""
    try:
        version = int(value) if not isinstance(value, bool) else 0
    except (TypeError, ValueError, OverflowError):
        version = 0
    if not 1 <= version <= MAX_VERSION:
        raise ValidationError(f"PipelineVersionId must be a version number, 1-{MAX_VERSION}", field="PipelineVersionId")
    return version
