"""What the registry reads from the object store: model data that must be there, and the
evaluation reports a version's ModelMetrics point at, attached at registration.

A report is attached when its ContentType is JSON (``application/json``) and the object
is at most ``MAX_REPORT_BYTES``; a larger one stays a reference (its S3Uri). A report
that is missing, or that says it is JSON and is not, is a ``ValidationError`` naming its
field (``ModelMetrics.ModelQuality.Statistics.S3Uri``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from groundfog.core.errors import ResourceNotFound, ValidationError
from groundfog.core.text import check_text
from groundfog.training.uris import parse_s3_uri

if TYPE_CHECKING:
    from groundfog.storage import StorageService

MAX_REPORT_BYTES = 1 << 20


def check_model_data(storage: "StorageService", uri: str, field: str) -> None:
    """The object (or, for a URI ending in ``/``, at least one object under the prefix)
    exists, as SageMaker checks that it can read a model's data."""
    bucket, key = parse_s3_uri(uri, field)
    try:
        if key and not key.endswith("/"):
            storage.head_object(bucket, key)
            return
        found = storage.list_objects_v2(bucket, prefix=key, max_keys=1).contents
    except ResourceNotFound:
        raise ValidationError(f"{field} {uri!r}: no such object; upload the model data first", field=field) from None
    except ValidationError as exc:
        raise ValidationError(f"{field} {uri!r}: {exc.message}", field=field) from None
    if not found:
        raise ValidationError(f"{field} {uri!r} matches no objects; upload the model data first", field=field)


def read_reports(storage: "StorageService", model_metrics: dict[str, Any] | None) -> dict[str, Any]:
    """``{"ModelQuality.Statistics": <parsed JSON>, ...}`` for every JSON report of
    ``model_metrics`` small enough to keep; every report must exist."""
    reports: dict[str, Any] = {}
    for section, members in (model_metrics or {}).items():
        for name, source in members.items():
            field = f"ModelMetrics.{section}.{name}.S3Uri"
            content = _read(storage, source["S3Uri"], field, is_json="json" in source["ContentType"].lower())
            if content is not None:
                reports[f"{section}.{name}"] = content
    return reports


def _read(storage: "StorageService", uri: str, field: str, *, is_json: bool) -> Any:
    bucket, key = parse_s3_uri(uri, field)
    try:
        result = storage.get_object(bucket, key)
    except ResourceNotFound:
        raise ValidationError(f"{field} {uri!r}: no such report in the object store", field=field) from None
    except ValidationError as exc:
        raise ValidationError(f"{field} {uri!r}: {exc.message}", field=field) from None
    if not is_json or result.size > MAX_REPORT_BYTES:
        result.close()
        return None
    data = result.read()
    try:
        content = json.loads(data, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        reason = exc.args[0] if isinstance(exc, ValueError) and exc.args else type(exc).__name__
        raise ValidationError(f"{field} {uri!r} is not a JSON report ({reason})", field=field) from None
    try:
        check_text(content, field)
    except ValidationError as exc:
        raise ValidationError(f"{field} {uri!r} holds text that cannot be stored: {exc.message}", field=field) from None
    return content


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
