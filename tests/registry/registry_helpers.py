"""Helpers for registry tests: a platform with a model artifact and an evaluation
report in its object store, and the requests that register them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MODEL_DATA = "s3://models/churn/model.tar.gz"
REPORT_URI = "s3://models/churn/evaluation.json"
REPORT = {"binary_classification_metrics": {"auc": {"value": 0.91, "standard_deviation": 0.01},
                                            "accuracy": {"value": 0.87}}}  # fmt: skip


def make_platform(home: Path, **config: Any):
    """A platform (SQLite and local objects unless ``config`` says otherwise) holding
    ``MODEL_DATA`` and the JSON evaluation report at ``REPORT_URI``."""
    from groundfog import Platform
    from groundfog.core.config import Config

    p = Platform(Config(home=home, **config))
    p.storage.create_bucket("models")
    p.storage.put_object("models", "churn/model.tar.gz", b"not really a tarball")
    p.storage.put_object("models", "churn/evaluation.json", json.dumps(REPORT).encode())
    return p


def inference_spec(model_data: str = MODEL_DATA, image: str = "sklearn") -> dict[str, Any]:
    return {
        "Containers": [{"Image": image, "ModelDataUrl": model_data, "Framework": "SKLEARN", "FrameworkVersion": "1.4"}],
        "SupportedContentTypes": ["text/csv"],
        "SupportedResponseMIMETypes": ["text/csv"],
        "SupportedRealtimeInferenceInstanceTypes": ["ml.m5.large"],
    }


def quality_metrics(uri: str = REPORT_URI, content_type: str = "application/json") -> dict[str, Any]:
    return {"ModelQuality": {"Statistics": {"ContentType": content_type, "S3Uri": uri}}}


def register(platform: Any, group: str = "churn", **kwargs: Any) -> str:
    """CreateModelPackage with a valid inference specification; the version's ARN."""
    kwargs.setdefault("inference_specification", inference_spec())
    return platform.registry.create_model_package(model_package_group_name=group, **kwargs)["ModelPackageArn"]


def sink_lines(path: Path) -> list[dict[str, Any]]:
    """What a ``file`` topic subscription with raw delivery received, one event per line."""
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
