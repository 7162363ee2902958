"""How object metadata travels in HTTP headers, shared by the routes and the remote client.

>>> decode_header_value(encode_header_value("naïve"))
'naïve'
"""

from __future__ import annotations

import base64
from email.utils import format_datetime
from typing import Any

from groundfog.storage.models import ObjectInfo

META_PREFIX = "x-amz-meta-"


def encode_header_value(value: str) -> str:
    """Non-ASCII metadata travels RFC 2047-encoded, as S3 sends it."""
    if value.isascii():
        return value
    return "=?UTF-8?B?" + base64.b64encode(value.encode("utf-8")).decode("ascii") + "?="


def decode_header_value(value: str) -> str:
    if value.startswith("=?UTF-8?B?") and value.endswith("?="):
        try:
            return base64.b64decode(value[10:-2]).decode("utf-8")
        except ValueError:
            return value
    return value


def metadata_from_headers(headers: Any) -> dict[str, str]:
    return {
        name[len(META_PREFIX):]: decode_header_value(value)
        for name, value in headers.items()
        if name.lower().startswith(META_PREFIX)
    }


def object_headers(info: ObjectInfo, *, length: int, content_range: str | None = None) -> dict[str, str]:
    headers = {
        "ETag": info.etag,
        "Last-Modified": format_datetime(info.last_modified, usegmt=True),
        "Content-Length": str(length),
        "Content-Type": info.content_type,
        "Accept-Ranges": "bytes",
    }
    if content_range:
        headers["Content-Range"] = content_range
    for name, value in info.metadata.items():
        headers[META_PREFIX + name] = encode_header_value(value)
    return headers
