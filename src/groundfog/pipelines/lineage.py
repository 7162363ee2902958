"""Lineage: the object-store URIs a step read and the artifacts it produced.

>>> read_uris("Training", {"InputDataConfig": [{"ChannelName": "train",
...     "DataSource": {"S3DataSource": {"S3Uri": "s3://data/train/"}}}]})
[('Input', 's3://data/train/')]
>>> produced_uris("Training", {"ModelArtifacts": {"S3ModelArtifacts": "s3://out/model.tar.gz"}})
[('Model', 's3://out/model.tar.gz')]
"""

from __future__ import annotations

from typing import Any


def _get(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def read_uris(step_type: str, arguments: Any) -> list[tuple[str, str]]:
    """``(kind, uri)`` for each input a job step's (resolved) arguments name."""
    found: list[tuple[str, str]] = []
    if step_type == "Processing":
        for item in _listed(_get(arguments, "ProcessingInputs")):
            found.append(("Input", _get(item, "S3Input", "S3Uri")))
    elif step_type in ("Training", "Tuning"):
        channels = _get(arguments, "InputDataConfig") if step_type == "Training" else _get(
            arguments, "TrainingJobDefinition", "InputDataConfig")
        for channel in _listed(channels):
            found.append(("Input", _get(channel, "DataSource", "S3DataSource", "S3Uri")))
    return [(kind, uri) for kind, uri in found if isinstance(uri, str) and uri.startswith("s3://")]


def produced_uris(step_type: str, properties: Any) -> list[tuple[str, str]]:
    """``(kind, uri or ARN)`` for what a succeeded step made."""
    found: list[tuple[str, Any]] = []
    if step_type == "Processing":
        for item in _listed(_get(properties, "ProcessingOutputConfig", "Outputs")):
            found.append(("Output", _get(item, "S3Output", "S3Uri")))
    elif step_type == "Training":
        found.append(("Model", _get(properties, "ModelArtifacts", "S3ModelArtifacts")))
    elif step_type == "Tuning":
        found.append(("TrainingJob", _get(properties, "BestTrainingJob", "TrainingJobArn")))
    elif step_type == "Model":
        found.append(("ModelArn", _get(properties, "ModelArn")))
    elif step_type == "RegisterModel":
        found.append(("ModelPackage", _get(properties, "ModelPackageArn")))
    return [(kind, uri) for kind, uri in found if isinstance(uri, str) and uri]
