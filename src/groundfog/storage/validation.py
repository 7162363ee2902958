"""The rules object keys, user metadata and byte ranges must follow.

>>> validate_key("data/train.csv")
'data/train.csv'
>>> parse_range("bytes=-50", size=200)
(150, 200)
"""

from __future__ import annotations

import re
from typing import Any

from groundfog.core.errors import ValidationError

MAX_KEY_BYTES = 1024
MAX_METADATA_BYTES = 2048  # S3: user-defined metadata, names and values, at most 2 KB
DEFAULT_CONTENT_TYPE = "binary/octet-stream"
# Header-safe metadata names (RFC 9110 token characters): they travel as x-amz-meta-*.
_META_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def validate_key(key: object, field: str = "Key") -> str:
    """An S3 key that is also a safe relative path: no escaping its bucket, ever."""
    if not isinstance(key, str):
        raise ValidationError(f"{field} must be a string, got {type(key).__name__}", field=field)
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValidationError(f"{field} {key!r} is not valid UTF-8 (lone surrogate)", field=field) from None
    problem = None
    if not 1 <= size <= MAX_KEY_BYTES:
        problem = f"must be 1-{MAX_KEY_BYTES} bytes of UTF-8 (got {size})"
    elif "\x00" in key:
        problem = "must not contain a NUL character"
    elif "\\" in key:
        problem = "must not contain a backslash (it is a path separator on some systems); use '/'"
    elif key.startswith("/"):
        problem = "must be relative: it must not start with '/'"
    elif key.endswith("/"):
        problem = "must not end with '/' (folder marker objects are not supported; folders are implied by keys)"
    else:
        for segment in key.split("/"):
            if segment in (".", ".."):
                problem = f"must not contain a {segment!r} path segment"
                break
            if segment == "":
                problem = "must not contain an empty path segment ('//')"
                break
    if problem:
        shown = key if len(key) <= 80 else key[:77] + "..."
        raise ValidationError(f"{field} {shown!r} {problem}", field=field)
    return key


def validate_metadata(metadata: object, field: str = "Metadata") -> dict[str, str]:
    """User metadata: header-safe names (lower-cased, as S3 returns them), 2 KB in all."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise ValidationError(f"{field} must be a mapping of names to strings", field=field)
    clean: dict[str, str] = {}
    total = 0
    for name, value in metadata.items():
        if not isinstance(name, str) or not _META_NAME.match(name):
            raise ValidationError(
                f"{field} name {name!r} must be a non-empty token of letters, digits and !#$%&'*+-.^_`|~",
                field=field,
            )
        if not isinstance(value, str):
            raise ValidationError(f"{field} value for {name!r} must be a string, got {type(value).__name__}", field=field)
        if any(ord(c) < 32 and c != "\t" or ord(c) == 127 for c in value):
            raise ValidationError(f"{field} value for {name!r} must not contain control characters", field=field)
        lowered = name.lower()
        if lowered in clean:
            raise ValidationError(f"{field} name {name!r} is given twice (names are case-insensitive)", field=field)
        clean[lowered] = value
        total += len(lowered.encode("utf-8")) + len(value.encode("utf-8"))
    if total > MAX_METADATA_BYTES:
        raise ValidationError(
            f"{field} is {total} bytes; user metadata (names and values) must be at most {MAX_METADATA_BYTES} bytes",
            field=field,
        )
    return clean


def validate_content_type(value: object) -> str:
    if value is None or value == "":
        return DEFAULT_CONTENT_TYPE
    if not isinstance(value, str) or len(value) > 255 or any(ord(c) < 32 or ord(c) > 126 for c in value):
        raise ValidationError(
            f"ContentType {value!r} must be at most 255 printable ASCII characters", field="ContentType"
        )
    return value


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """A single RFC 7233 byte range as ``(start, end_exclusive)``, clamped to the object."""
    if header is None or header == "":
        return None
    match = _RANGE.match(header.strip()) if isinstance(header, str) else None
    if not match or match.groups() == ("", ""):
        raise _invalid_range(header, size, "expected bytes=FIRST-LAST, bytes=FIRST- or bytes=-SUFFIX (one range)")
    first, last = match.groups()
    if first == "":
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise _invalid_range(header, size, "the suffix selects no bytes")
        return max(0, size - suffix), size
    start = int(first)
    if last != "" and int(last) < start:
        raise _invalid_range(header, size, "the last byte is before the first")
    if start >= size:
        raise _invalid_range(header, size, f"the first byte is beyond the end of the object ({size} bytes)")
    end = size if last == "" else min(size, int(last) + 1)
    return start, end


def _invalid_range(header: Any, size: int, why: str) -> ValidationError:
    return ValidationError(
        f"InvalidRange: the requested range {header!r} is not satisfiable for an object of {size} bytes: {why}",
        field="Range",
        code="InvalidRange",
    )
