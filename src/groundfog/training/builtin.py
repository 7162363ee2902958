"""Requests for a built-in algorithm (SageMaker's XGBoost in algorithm mode), checked
against what the algorithm documents: its hyperparameters, channels and content types."""

from __future__ import annotations

from typing import Any

from groundfog.core.errors import ValidationError


def validate_builtin_request(
    name: str, hyperparameters: dict[str, str], channels: list[dict[str, Any]], definitions: list[dict[str, str]]
) -> list[dict[str, str]]:
    """Check the request (filling in each channel's default content type); returns the
    metric definitions the job publishes: the algorithm's own, then the caller's."""
    from groundfog.training.algorithms import BUILTIN_ALGORITHMS

    algorithm = BUILTIN_ALGORITHMS[name]
    algorithm.validate_hyperparameters(hyperparameters)
    names = {c["ChannelName"] for c in channels}
    for channel in algorithm.channels:
        if channel.required and channel.name not in names:
            raise ValidationError(
                f"the built-in {name} algorithm needs a {channel.name!r} channel", field="InputDataConfig"
            )
    for channel in channels:
        channel["ContentType"] = algorithm.validate_content_type(channel["ChannelName"], channel["ContentType"])
    own = [{"Name": m.name, "Regex": m.regex} for m in algorithm.metric_definitions]
    taken = {d["Name"] for d in own}
    return own + [d for d in definitions if d["Name"] not in taken]
