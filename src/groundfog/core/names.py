"""Resource names by AWS's rules, and ARNs.

>>> arn("storage", "bucket", "data")
'arn:groundfog:storage:local:000000000000:bucket/data'
"""

from __future__ import annotations

import re

from groundfog.core.errors import ValidationError

ACCOUNT = "000000000000"
REGION = "local"

# SageMaker-style resource names (training jobs, endpoints, pipelines...).
SAGEMAKER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
# EventBridge rules, buses, archives; SNS topics; CloudWatch alarms are looser.
EVENTS_NAME = re.compile(r"^[\.\-_A-Za-z0-9]+$")
BUS_NAME = re.compile(r"^[/\.\-_A-Za-z0-9]+$")
TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def arn(service: str, resource_type: str, name: str) -> str:
    return f"arn:groundfog:{service}:{REGION}:{ACCOUNT}:{resource_type}/{name}"


def name_from_arn(value: str) -> str:
    """Accept either a name or an ARN and give back the name."""
    if value.startswith("arn:"):
        return value.rsplit("/", 1)[-1] if "/" in value else value.rsplit(":", 1)[-1]
    return value


def validate_name(
    value: object,
    field: str,
    *,
    pattern: re.Pattern[str] = SAGEMAKER_NAME,
    max_length: int = 63,
    min_length: int = 1,
) -> str:
    """Check a resource name; the error names the field and the rule broken."""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string, got {type(value).__name__}", field=field)
    if not min_length <= len(value) <= max_length:
        raise ValidationError(
            f"{field} {value!r} must be {min_length}-{max_length} characters long (got {len(value)})",
            field=field,
        )
    if not pattern.match(value):
        raise ValidationError(
            f"{field} {value!r} must match {pattern.pattern}",
            field=field,
        )
    return value


def validate_prefix(value: object, field: str, *, max_length: int) -> str:
    """A name prefix to list by: a string no longer than the names it could match."""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string, got {type(value).__name__}", field=field)
    if len(value) > max_length:
        raise ValidationError(f"{field} must be at most {max_length} characters long (got {len(value)})", field=field)
    return value


def validate_bucket_name(value: object, field: str = "Bucket") -> str:
    """S3's general-purpose bucket naming rules."""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string", field=field)
    problem = None
    if not 3 <= len(value) <= 63:
        problem = f"must be 3-63 characters long (got {len(value)})"
    elif not _BUCKET.match(value):
        problem = "may contain only lowercase letters, digits, dots and hyphens, and must begin and end with a letter or digit"
    elif ".." in value or ".-" in value or "-." in value:
        problem = "must not contain two adjacent periods or a period next to a hyphen"
    elif _IPV4.match(value):
        problem = "must not be formatted as an IP address"
    elif value.startswith(("xn--", "sthree-", "amzn-s3-demo-")):
        problem = "must not start with a reserved prefix (xn--, sthree-, amzn-s3-demo-)"
    elif value.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")):
        problem = "must not end with a reserved suffix (-s3alias, --ol-s3, .mrap, --x-s3, --table-s3)"
    if problem:
        raise ValidationError(f"Bucket name {value!r} {problem}", field=field)
    return value
