"""HTTP routes for the operations that carry bytes: PUT/GET/HEAD/DELETE of an object.

Every other storage operation is exposed generically (``POST /api/storage/<Operation>``).
The app mounts ``router`` under ``/api/storage`` and puts the platform on
``app.state.platform`` (or overrides ``get_storage``). Bodies stream both ways: a put
never holds the whole request in memory, a get never reads the whole object.

    PUT    /objects/{bucket}/{key}   body = bytes; Content-Type; x-amz-meta-* headers
    GET    /objects/{bucket}/{key}   Range: bytes=0-99 -> 206 + Content-Range
    HEAD   /objects/{bucket}/{key}
    DELETE /objects/{bucket}/{key}   204, also when the key was not there
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Annotated

import anyio
import anyio.from_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from groundfog.core.errors import PayloadTooLarge, ValidationError
from groundfog.storage.headers import metadata_from_headers, object_headers
from groundfog.storage.models import GetObjectResult, ObjectInfo
from groundfog.storage.service import StorageService

router = APIRouter()


def get_storage(request: Request) -> StorageService:
    """The storage service of the app's platform (``app.state.platform``)."""
    return request.app.state.platform.storage


Storage = Annotated[StorageService, Depends(get_storage)]


def _request_chunks(request: Request) -> Iterator[bytes]:
    """The request body as a sync iterator, for a service call running in a worker thread."""
    stream = request.stream().__aiter__()

    async def next_chunk() -> bytes | None:
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return None

    while (chunk := anyio.from_thread.run(next_chunk)) is not None:
        if chunk:
            yield chunk


@router.put("/objects/{bucket}/{key:path}")
async def put_object(bucket: str, key: str, request: Request, storage: Storage) -> Response:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ValidationError(f"Content-Length {declared!r} is not a number", field="Content-Length")
        if int(declared) > storage.max_object_size:
            raise PayloadTooLarge(
                f"EntityTooLarge: {declared} bytes is more than the {storage.max_object_size}-byte "
                "limit of a single put",
                field="Body",
            )
    call = functools.partial(
        storage.put_object,
        bucket,
        key,
        _request_chunks(request),
        content_type=request.headers.get("content-type"),
        metadata=metadata_from_headers(request.headers),
    )
    info: ObjectInfo = await anyio.to_thread.run_sync(call)
    return JSONResponse(info.model_dump(mode="json"), headers={"ETag": info.etag})


@router.get("/objects/{bucket}/{key:path}")
def get_object(bucket: str, key: str, request: Request, storage: Storage) -> Response:
    result: GetObjectResult = storage.get_object(bucket, key, range=request.headers.get("range"))
    headers = object_headers(result, length=result.content_length, content_range=result.content_range)
    return StreamingResponse(
        result.iter_chunks(),
        status_code=206 if result.content_range else 200,
        headers=headers,
        media_type=result.content_type,
    )


@router.head("/objects/{bucket}/{key:path}")
def head_object(bucket: str, key: str, storage: Storage) -> Response:
    info = storage.head_object(bucket, key)
    return Response(status_code=200, headers=object_headers(info, length=info.size))


@router.delete("/objects/{bucket}/{key:path}", status_code=204)
def delete_object(bucket: str, key: str, storage: Storage) -> Response:
    storage.delete_object(bucket, key)
    return Response(status_code=204)
