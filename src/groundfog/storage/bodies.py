"""Every kind of body a put accepts, as an iterator of byte chunks of at most 1 MiB.

>>> list(chunks("hé"))
[b'h\\xc3\\xa9']
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from groundfog.core.errors import ValidationError
from groundfog.storage.backends import CHUNK


def chunks(body: Any) -> Iterator[bytes]:
    """Any supported body as an iterator of non-empty byte chunks of at most 1 MiB."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        view = memoryview(body).cast("B")
        return (bytes(view[i : i + CHUNK]) for i in range(0, len(view), CHUNK))
    if isinstance(body, os.PathLike):
        return _file_chunks(Path(body))
    if hasattr(body, "read"):
        return _reader_chunks(body)
    if isinstance(body, Iterable):
        return _iter_chunks(body)
    raise ValidationError(
        f"Body must be bytes, str, a binary file, a path or an iterable of bytes, got {type(body).__name__}",
        field="Body",
    )


def _file_chunks(path: Path) -> Iterator[bytes]:
    try:
        f = open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise ValidationError(f"cannot read {str(path)!r}: {exc.strerror}", field="Body") from None
    with f:
        while data := f.read(CHUNK):
            yield data


def _reader_chunks(reader: Any) -> Iterator[bytes]:
    while data := reader.read(CHUNK):
        yield data.encode("utf-8") if isinstance(data, str) else bytes(data)


def _iter_chunks(items: Iterable[Any]) -> Iterator[bytes]:
    for item in items:
        if isinstance(item, str):
            item = item.encode("utf-8")
        if not isinstance(item, (bytes, bytearray, memoryview)):
            raise ValidationError(f"Body iterables must yield bytes, got {type(item).__name__}", field="Body")
        if item:
            yield bytes(item)
