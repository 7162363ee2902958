"""Requests for a built-in algorithm (SageMaker's XGBoost in algorithm mode), checked
against what the algorithm documents: its hyperparameters, channels and content types."""

from __future__ import annotations

from typing import Any

from groundfog.core.errors import ValidationError


def validate_builtin_request(
    name: str,
    hyperparameters: dict[str, str],
    channels: list[dict[str, Any]],
    definitions: list[dict[str, str]],
    instance_count: int,
) -> list[dict[str, str]]:
    """Check the request (filling in each channel's canonical content type); returns the
    metric definitions the job publishes: the algorithm's own, then the caller's."""
    from groundfog.training.algorithms import BUILTIN_ALGORITHMS

    algorithm = BUILTIN_ALGORITHMS[name]
    if instance_count > 1:
        raise ValidationError(
            f"the built-in {name} algorithm runs on one instance here; set InstanceCount to 1",
            field="ResourceConfig.InstanceCount",
        )
    piped = [c["ChannelName"] for c in channels if c["InputMode"] == "Pipe"]
    if piped:
        raise ValidationError(
            f"the built-in {name} algorithm reads File or FastFile channels here; channel {piped[0]!r} is in Pipe mode",
            field="InputDataConfig.InputMode",
        )
    algorithm.validate_hyperparameters(hyperparameters)
    content_types = algorithm.validate_input_data_config(
        {c["ChannelName"]: {"ContentType": c["ContentType"], "TrainingInputMode": c["InputMode"]} for c in channels}
    )
    for channel in channels:
        channel["ContentType"] = content_types[channel["ChannelName"]]
    own = [m.to_dict() for m in algorithm.metric_definitions]
    taken = {d["Name"] for d in own}
    return own + [d for d in definitions if d["Name"] not in taken]
