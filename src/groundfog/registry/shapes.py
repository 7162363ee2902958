"""SageMaker's nested request shapes, checked member by member: InferenceSpecification
and its containers, a model's ContainerDefinition, ModelMetrics and DriftCheckBaselines,
MetadataProperties, and groundfog's Lineage.

>>> parse_lineage({"PipelineStepName": "RegisterModel"})
{'PipelineStepName': 'RegisterModel'}
"""

from __future__ import annotations

import re
from typing import Any

from groundfog.core.names import SAGEMAKER_NAME
from groundfog.registry.validation import (
    fail,
    parse_environment,
    parse_image,
    parse_object,
    parse_s3,
    parse_string_list,
    parse_text,
    shown,
)

_CONTENT_TYPE = re.compile(r"^\S+$")
_INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")

# ModelMetrics and DriftCheckBaselines: section → member → "metrics" (MetricsSource:
# ContentType and S3Uri required) or "file" (FileSource: S3Uri required).
MODEL_METRICS = {
    "ModelQuality": {"Statistics": "metrics", "Constraints": "metrics"},
    "ModelDataQuality": {"Statistics": "metrics", "Constraints": "metrics"},
    "Bias": {"Report": "metrics", "PreTrainingReport": "metrics", "PostTrainingReport": "metrics"},
    "Explainability": {"Report": "metrics"},
}
DRIFT_CHECK_BASELINES = {
    "Bias": {"ConfigFile": "file", "PreTrainingConstraints": "metrics", "PostTrainingConstraints": "metrics"},
    "Explainability": {"Constraints": "metrics", "ConfigFile": "file"},
    "ModelQuality": {"Statistics": "metrics", "Constraints": "metrics"},
    "ModelDataQuality": {"Statistics": "metrics", "Constraints": "metrics"},
}
LINEAGE_KEYS = ("TrainingJobArn", "PipelineExecutionArn", "PipelineStepName")
METADATA_PROPERTIES_KEYS = ("CommitId", "GeneratedBy", "ProjectId", "Repository")


# ---- model packages ---------------------------------------------------------------------

_PACKAGE_CONTAINER = ("ContainerHostname", "Image", "ImageDigest", "ModelDataUrl", "ProductId", "Environment",
                      "Framework", "FrameworkVersion", "NearestModelName")  # fmt: skip
_INFERENCE_SPEC = ("Containers", "SupportedTransformInstanceTypes", "SupportedRealtimeInferenceInstanceTypes",
                   "SupportedContentTypes", "SupportedResponseMIMETypes")  # fmt: skip


def parse_inference_specification(value: object, field: str = "InferenceSpecification") -> dict[str, Any] | None:
    """SageMaker's InferenceSpecification: 1-15 Containers [{Image, ModelDataUrl, ...}] and
    the content types and instance types it supports."""
    if value is None:
        return None
    parse_object(value, field, _INFERENCE_SPEC)
    assert isinstance(value, dict)
    containers = value.get("Containers")
    if containers is None:
        raise fail(f"{field}.Containers", "is required")
    if not isinstance(containers, list) or not 1 <= len(containers) <= 15:
        raise fail(f"{field}.Containers", "must be a list of 1 to 15 containers")
    out: dict[str, Any] = {"Containers": [_package_container(c, f"{field}.Containers[{i}]") for i, c in enumerate(containers)]}
    for key in ("SupportedContentTypes", "SupportedResponseMIMETypes"):
        if key in value:
            out[key] = parse_string_list(value[key], f"{field}.{key}", max_items=100, item_max=256, pattern=_CONTENT_TYPE)
    for key in ("SupportedRealtimeInferenceInstanceTypes", "SupportedTransformInstanceTypes"):
        if key in value:
            out[key] = parse_string_list(value[key], f"{field}.{key}", max_items=100, item_max=64, pattern=_INSTANCE_TYPE)
    return out


def _package_container(value: object, field: str) -> dict[str, Any]:
    parse_object(value, field, _PACKAGE_CONTAINER)
    assert isinstance(value, dict)
    if "Image" not in value:
        raise fail(f"{field}.Image", "is required (a framework name such as sklearn, or an image URI)")
    out: dict[str, Any] = {"Image": parse_image(value["Image"], f"{field}.Image")}
    if "ModelDataUrl" in value:
        out["ModelDataUrl"] = parse_s3(value["ModelDataUrl"], f"{field}.ModelDataUrl")
    if "Environment" in value:
        out["Environment"] = parse_environment(value["Environment"], f"{field}.Environment", max_entries=16)
    for key in ("ContainerHostname", "ImageDigest", "ProductId", "Framework", "FrameworkVersion", "NearestModelName"):
        if key in value:
            out[key] = parse_text(value[key], f"{field}.{key}", max_length=256)
    return out


def parse_metric_sources(value: object, field: str, shape: dict[str, dict[str, str]]) -> dict[str, Any] | None:
    """ModelMetrics or DriftCheckBaselines: sections of MetricsSource / FileSource objects."""
    if value is None:
        return None
    parse_object(value, field, shape)
    assert isinstance(value, dict)
    out: dict[str, Any] = {}
    for section, members in value.items():
        where = f"{field}.{section}"
        parse_object(members, where, shape[section])
        out[section] = {name: _source(source, f"{where}.{name}", shape[section][name]) for name, source in members.items()}
    return out


def _source(value: object, field: str, kind: str) -> dict[str, str]:
    parse_object(value, field, ("ContentType", "ContentDigest", "S3Uri"))
    assert isinstance(value, dict)
    required = ("ContentType", "S3Uri") if kind == "metrics" else ("S3Uri",)
    for key in required:
        if key not in value:
            raise fail(f"{field}.{key}", "is required")
    out = {"S3Uri": parse_s3(value["S3Uri"], f"{field}.S3Uri")}
    for key in ("ContentType", "ContentDigest"):
        if key in value:
            out[key] = parse_text(value[key], f"{field}.{key}", max_length=256, pattern=_CONTENT_TYPE if key == "ContentType" else None)
    return out


def parse_lineage(value: object, field: str = "Lineage") -> dict[str, str] | None:
    """groundfog's lineage: the training job, pipeline execution and step that made the model."""
    if value is None:
        return None
    parse_object(value, field, LINEAGE_KEYS)
    assert isinstance(value, dict)
    return {k: parse_text(v, f"{field}.{k}", max_length=2048) for k, v in value.items()}


def parse_metadata_properties(value: object, field: str = "MetadataProperties") -> dict[str, str] | None:
    if value is None:
        return None
    parse_object(value, field, METADATA_PROPERTIES_KEYS)
    assert isinstance(value, dict)
    return {k: parse_text(v, f"{field}.{k}", max_length=1024) for k, v in value.items()}


# ---- models ---------------------------------------------------------------------------

_MODEL_CONTAINER = ("ContainerHostname", "Image", "ModelDataUrl", "Environment", "ModelPackageName", "Mode")


def parse_model_container(value: object, field: str) -> dict[str, Any]:
    """SageMaker's ContainerDefinition: Image + ModelDataUrl, or a ModelPackageName."""
    parse_object(value, field, _MODEL_CONTAINER)
    assert isinstance(value, dict)
    out: dict[str, Any] = {}
    if "ModelPackageName" in value:
        out["ModelPackageName"] = parse_text(value["ModelPackageName"], f"{field}.ModelPackageName", max_length=2048)
    elif "Image" not in value:
        raise fail(f"{field}.Image", "is required unless ModelPackageName is given")
    if "Image" in value:
        out["Image"] = parse_image(value["Image"], f"{field}.Image")
    if "ModelDataUrl" in value:
        out["ModelDataUrl"] = parse_s3(value["ModelDataUrl"], f"{field}.ModelDataUrl")
    if "Environment" in value:
        out["Environment"] = parse_environment(value["Environment"], f"{field}.Environment", max_entries=100)
    if "ContainerHostname" in value:
        out["ContainerHostname"] = parse_text(value["ContainerHostname"], f"{field}.ContainerHostname", max_length=63,
                                              pattern=SAGEMAKER_NAME)  # fmt: skip
    if "Mode" in value:
        if value["Mode"] not in ("SingleModel", "MultiModel"):
            raise fail(f"{field}.Mode", f"must be SingleModel or MultiModel, got {shown(value['Mode'])}")
        out["Mode"] = value["Mode"]
    return out
