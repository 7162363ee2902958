"""The storage service of a running server, with the same methods and models.

Byte-carrying calls (``put_object``, ``put_file``, ``get_object``,
``get_object_bytes``) stream over the dedicated routes in ``api.py``; every other
``@operation`` goes through ``call(method_name, kwargs)`` (the service's Python
method name, e.g. ``"head_object"``, as ``groundfog.client.RemotePlatform`` wires it)
and comes back as the model the service returns.

>>> storage = RemoteStorage(httpx.Client(base_url=url), call)   # doctest: +SKIP
>>> storage.put_file("data", "train.csv", "train.csv").etag      # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter

from groundfog.core.errors import (
    Conflict,
    GroundfogError,
    PayloadTooLarge,
    ResourceNotFound,
    ValidationError,
    error_from_dict,
)
from groundfog.storage.headers import META_PREFIX, decode_header_value, encode_header_value
from groundfog.storage.backends import CHUNK
from groundfog.storage.bodies import chunks as body_chunks
from groundfog.storage.models import GetObjectResult, ObjectInfo
from groundfog.storage.service import StorageService
from groundfog.storage.validation import validate_content_type, validate_key, validate_metadata

_BY_STATUS: dict[int, type[GroundfogError]] = {
    400: ValidationError,
    404: ResourceNotFound,
    409: Conflict,
    413: PayloadTooLarge,
}


class RemoteStorage:
    """``platform.storage`` for a remote platform."""

    def __init__(
        self, http: httpx.Client, call: Callable[[str, dict[str, Any]], Any], *, prefix: str = "/api/storage"
    ) -> None:
        self._http = http
        self._call = call
        self._prefix = prefix.rstrip("/")

    def _url(self, bucket: str, key: str) -> str:
        validate_key(key)
        return f"{self._prefix}/objects/{quote(bucket, safe='')}/{quote(key, safe='/')}"

    def put_object(
        self,
        bucket: str,
        key: str,
        body: Any = b"",
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        headers = {META_PREFIX + k: encode_header_value(v) for k, v in validate_metadata(metadata).items()}
        if content_type is not None:
            headers["Content-Type"] = validate_content_type(content_type)
        content, length = _request_body(body)
        if length is not None:
            headers["Content-Length"] = str(length)
        response = self._http.put(self._url(bucket, key), content=content, headers=headers)
        _raise_for(response)
        return ObjectInfo.model_validate(response.json())

    def put_file(
        self,
        bucket: str,
        key: str,
        path: str | os.PathLike[str],
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        source = Path(path)
        if not source.is_file():
            raise ValidationError(f"{str(source)!r} is not a readable file", field="path")
        return self.put_object(bucket, key, source, content_type=content_type, metadata=metadata)

    def get_object(self, bucket: str, key: str, range: str | None = None) -> GetObjectResult:  # noqa: A002
        request = self._http.build_request("GET", self._url(bucket, key), headers={"Range": range} if range else {})
        response = self._http.send(request, stream=True)
        if response.status_code >= 400:
            response.read()
            response.close()
            _raise_for(response)
        headers = response.headers
        content_range = headers.get("content-range")
        length = int(headers.get("content-length", "0"))
        size = int(content_range.rsplit("/", 1)[1]) if content_range else length
        return GetObjectResult(
            bucket=bucket,
            key=key,
            size=size,
            etag=headers.get("etag", ""),
            content_type=headers.get("content-type", ""),
            metadata={
                name[len(META_PREFIX):]: decode_header_value(value)
                for name, value in headers.items()
                if name.startswith(META_PREFIX)
            },
            last_modified=parsedate_to_datetime(headers["last-modified"]),
            content_length=length,
            content_range=content_range,
            body=_response_chunks(response),
        )

    def get_object_bytes(self, bucket: str, key: str, range: str | None = None) -> bytes:  # noqa: A002
        return self.get_object(bucket, key, range=range).read()

    def get_file(self, bucket: str, key: str, path: str | os.PathLike[str]) -> ObjectInfo:
        """Download an object into a local file, streamed (the file appears whole or not at all)."""
        result = self.get_object(bucket, key)
        result.save(path)
        return ObjectInfo(**result.model_dump(include=set(ObjectInfo.model_fields)))

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        function = getattr(StorageService, name, None)
        if getattr(function, "__groundfog_operation__", None) is None:
            raise AttributeError(f"the storage service has no operation {name!r}")
        signature = inspect.signature(function)
        returns = get_type_hints(function).get("return")
        adapter = TypeAdapter(returns) if returns not in (None, type(None)) else None

        def remote(*args: Any, **kwargs: Any) -> Any:
            try:
                bound = signature.bind(None, *args, **kwargs)
            except TypeError as exc:
                raise ValidationError(f"{name}: {exc}") from None
            arguments = dict(bound.arguments)
            arguments.pop(next(iter(signature.parameters)))  # self
            result = self._call(name, arguments)
            return adapter.validate_python(result) if adapter is not None else None

        remote.__name__ = name
        remote.__doc__ = function.__doc__
        return remote


def _request_body(body: Any) -> tuple[Any, int | None]:
    """Something httpx can send without loading files whole, and its length when known."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        data = bytes(body)
        return data, len(data)
    length = Path(body).stat().st_size if isinstance(body, os.PathLike) else None
    return body_chunks(body), length


def _response_chunks(response: httpx.Response) -> Iterator[bytes]:
    try:
        yield from response.iter_bytes(CHUNK)
    finally:
        response.close()


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body = body["error"]
    if isinstance(body, dict) and "__type" in body:
        raise error_from_dict(body, response.status_code)
    cls = _BY_STATUS.get(response.status_code, GroundfogError)
    raise cls(f"{response.request.method} {response.request.url.path} failed with HTTP {response.status_code}")
