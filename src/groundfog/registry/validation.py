"""The registry's request values checked one by one, with SageMaker's field paths in
every error (``InferenceSpecification.Containers[0].ModelDataUrl``); the nested
members built from them are in ``shapes``.

Each ``parse_*`` function takes what a caller sent and gives back the value to store,
or raises ``ValidationError`` naming the field. Only the members SageMaker documents
(and groundfog interprets) are accepted, so nothing arbitrary is stored.

>>> parse_approval_status("Approved", "ModelApprovalStatus")
'Approved'
"""

from __future__ import annotations

import re
from typing import Any

from groundfog.core.errors import ValidationError
from groundfog.core.names import SAGEMAKER_NAME, validate_name
from groundfog.core.text import check_string, shown
from groundfog.training.uris import parse_s3_uri

APPROVAL_STATUSES = ("PendingManualApproval", "Approved", "Rejected")
MAX_VERSION = 2**31 - 1

_IMAGE = re.compile(r"^\S+$")
_ENV_KEY = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_METADATA_KEY = re.compile(r"^[\w\s.:/=+\-@]+$")


def fail(field: str, problem: str) -> ValidationError:
    return ValidationError(f"{field} {problem}", field=field)


def parse_text(value: object, field: str, *, max_length: int, min_length: int = 1,
               pattern: re.Pattern[str] | None = None) -> str:  # fmt: skip
    """A string of ``min_length``-``max_length`` storable characters (matching ``pattern``)."""
    if not isinstance(value, str):
        raise fail(field, f"must be a string, got {type(value).__name__}")
    check_string(value, field)
    if not min_length <= len(value) <= max_length:
        raise fail(field, f"must be {min_length}-{max_length} characters long (got {len(value)})")
    if pattern is not None and not pattern.match(value):
        raise fail(field, f"{shown(value)} must match {pattern.pattern}")
    return value


def parse_optional_text(value: object, field: str, *, max_length: int) -> str | None:
    return None if value is None else parse_text(value, field, max_length=max_length, min_length=0)


def parse_object(value: object, field: str, allowed: tuple[str, ...] | dict[str, Any]) -> dict[str, Any]:
    """A JSON object whose keys are all among ``allowed``."""
    if not isinstance(value, dict):
        raise fail(field, f"must be an object, got {type(value).__name__}")
    for key in value:
        if key not in allowed:
            where = f"{field}.{key}" if isinstance(key, str) and key else field
            raise ValidationError(f"{field}: {key!r} is not a known member; expected {', '.join(allowed)}", field=where)
    return value


def parse_string_map(value: object, field: str, *, max_entries: int, key_max: int, value_max: int,
                     key_pattern: re.Pattern[str] | None = None, value_min: int = 0) -> dict[str, str]:  # fmt: skip
    if not isinstance(value, dict):
        raise fail(field, f"must map names to strings, got {type(value).__name__}")
    if len(value) > max_entries:
        raise fail(field, f"may hold at most {max_entries} entries (got {len(value)})")
    out = {}
    for key, item in value.items():
        parse_text(key, field, max_length=key_max, pattern=key_pattern)
        out[key] = parse_text(item, f"{field}.{key}", max_length=value_max, min_length=value_min)
    return out


def parse_string_list(value: object, field: str, *, max_items: int, item_max: int,
                      pattern: re.Pattern[str] | None = None) -> list[str]:  # fmt: skip
    if not isinstance(value, list):
        raise fail(field, f"must be a list of strings, got {type(value).__name__}")
    if len(value) > max_items:
        raise fail(field, f"may hold at most {max_items} items (got {len(value)})")
    return [parse_text(v, f"{field}[{i}]", max_length=item_max, pattern=pattern) for i, v in enumerate(value)]


def parse_s3(value: object, field: str) -> str:
    """An ``s3://bucket/key`` URI (the object's existence is checked elsewhere)."""
    uri = parse_text(value, field, max_length=1024)
    parse_s3_uri(uri, field)
    return uri


def parse_tags(value: object, field: str = "Tags") -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise fail(field, f"must be a list of {{Key, Value}} objects, got {type(value).__name__}")
    if len(value) > 50:
        raise fail(field, f"may hold at most 50 tags (got {len(value)})")
    out = []
    for i, tag in enumerate(value):
        where = f"{field}[{i}]"
        parse_object(tag, where, ("Key", "Value"))
        if "Key" not in tag:
            raise fail(f"{where}.Key", "is required")
        out.append({"Key": parse_text(tag["Key"], f"{where}.Key", max_length=128),
                    "Value": parse_text(tag.get("Value", ""), f"{where}.Value", max_length=256, min_length=0)})
    return out


def parse_group_name(value: object, field: str = "ModelPackageGroupName") -> str:
    return validate_name(value, field, pattern=SAGEMAKER_NAME, max_length=63)


def parse_approval_status(value: object, field: str = "ModelApprovalStatus") -> str:
    if value not in APPROVAL_STATUSES:
        raise fail(field, f"must be one of {', '.join(APPROVAL_STATUSES)}, got {shown(value)}")
    return value  # type: ignore[return-value]


def parse_description(value: object, field: str) -> str | None:
    return parse_optional_text(value, field, max_length=1024)


def parse_flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise fail(field, f"must be true or false, got {shown(value)}")
    return value


def parse_skip_validation(value: object, field: str = "SkipModelValidation") -> str | None:
    if value is not None and value not in ("All", "None"):
        raise fail(field, f"must be All or None, got {shown(value)}")
    return value  # type: ignore[return-value]


def parse_customer_metadata(value: object, field: str = "CustomerMetadataProperties") -> dict[str, str]:
    if value is None:
        return {}
    return parse_string_map(value, field, max_entries=50, key_max=128, value_max=256, value_min=1,
                            key_pattern=_METADATA_KEY)  # fmt: skip


def parse_metadata_keys(value: object, field: str = "CustomerMetadataPropertiesToRemove") -> list[str]:
    if value is None:
        return []
    return parse_string_list(value, field, max_items=50, item_max=128, pattern=_METADATA_KEY)


def parse_environment(value: object, field: str, *, max_entries: int) -> dict[str, str]:
    return parse_string_map(value, field, max_entries=max_entries, key_max=1024, value_max=1024, key_pattern=_ENV_KEY)


def parse_execution_role(value: object, field: str = "ExecutionRoleArn") -> str | None:
    if value is None:
        return None
    role = parse_text(value, field, max_length=2048, min_length=20)
    if not role.startswith("arn:"):
        raise fail(field, f"{shown(role)} must be an ARN (arn:...)")
    return role


def parse_image(value: object, field: str) -> str:
    """A framework name (``sklearn``, ``xgboost``, ``pytorch``) or an image URI."""
    return parse_text(value, field, max_length=255, pattern=_IMAGE)


def parse_package_name(value: object, field: str, arn_prefix: str) -> tuple[str, int]:
    """``"<group>/<version>"`` or the version's ARN → ``(group, version)``."""
    if not isinstance(value, str):
        raise fail(field, f"must be a model package ARN or GROUP/VERSION, got {type(value).__name__}")
    text = value[len(arn_prefix):] if value.startswith(arn_prefix) else value
    group, sep, version = text.partition("/")
    if not sep or value.startswith("arn:") and not value.startswith(arn_prefix):
        raise fail(field, f"{shown(value)} must be a model package ARN ({arn_prefix}GROUP/VERSION) or GROUP/VERSION")
    try:
        validate_name(group, field)
    except ValidationError:
        raise fail(field, f"{shown(value)} does not name a model package group") from None
    if not version.isascii() or not version.isdigit() or not 1 <= int(version) <= MAX_VERSION:
        raise fail(field, f"{shown(value)} must end in a version number (1, 2, ...)")
    return group, int(version)


