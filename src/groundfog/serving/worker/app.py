"""The worker's HTTP face: SageMaker's container contract as a raw ASGI app.

    GET  /ping         200, empty body (the worker serves only once its model is loaded)
    POST /invocations  the handler chain's answer, with ``content-type`` and
                       ``x-groundfog-model-latency-us`` (microseconds in the chain)

Errors answer ``text/plain`` with one line a person can act on: 400 (payload cannot
be decoded), 406 (Accept), 415 (Content-Type), 500 (the user's code or the model
raised; the traceback goes to stderr), 404 / 405 for other paths and methods.

The handler chain runs inline on the event loop, one request at a time per worker
like a SageMaker model-server worker: no thread hop on the hot path.

    app = create_app(load_handler("/models/churn", "sklearn"))
    uvicorn.run(app, ...)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from groundfog.serving.worker.codecs import InvocationError
from groundfog.serving.worker.handlers import InvocationContext, ModelHandler

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LATENCY_HEADER = b"x-groundfog-model-latency-us"
_TEXT = b"text/plain; charset=utf-8"

logger = logging.getLogger("groundfog.serving.worker")


async def _read_body(receive: Receive) -> bytes:
    message = await receive()
    body = message.get("body", b"")
    if not message.get("more_body", False):
        return body
    chunks = [body]
    while message.get("more_body", False):
        message = await receive()
        chunks.append(message.get("body", b""))
    return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _error(send: Send, status: int, message: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    one_line = " ".join(message.split())
    await _respond(send, status, one_line.encode(), [(b"content-type", _TEXT), *(extra or [])])


def create_app(handler: ModelHandler) -> ASGIApp:
    """The ASGI app serving ``handler``'s model on ``/ping`` and ``/invocations``."""

    async def invocations(scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read_body(receive)
        content_type = accept = custom_attributes = inference_id = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"accept":
                accept = value.decode("latin-1")
            elif name == b"x-amzn-sagemaker-custom-attributes":
                custom_attributes = value.decode("latin-1")
            elif name == b"x-amzn-sagemaker-inference-id":
                inference_id = value.decode("latin-1")
        context = InvocationContext(custom_attributes, inference_id)
        started = time.perf_counter_ns()
        try:
            response = handler.invoke(body, content_type, accept, context)
        except InvocationError as exc:
            await _error(send, exc.status_code, str(exc))
            return
        except Exception as exc:
            logger.exception("invocation failed")
            await _error(send, 500, f"{type(exc).__name__}: {exc}")
            return
        latency_us = (time.perf_counter_ns() - started) // 1000
        headers = [
            (b"content-type", response.content_type.encode()),
            (LATENCY_HEADER, str(latency_us).encode()),
        ]
        if response.custom_attributes is not None:
            headers.append((b"x-amzn-sagemaker-custom-attributes", str(response.custom_attributes).encode()))
        await _respond(send, 200, response.body, headers)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == "/invocations":
            if method == "POST":
                await invocations(scope, receive, send)
            else:
                await _error(send, 405, f"{method} /invocations: use POST", [(b"allow", b"POST")])
        elif path == "/ping":
            if method in ("GET", "HEAD"):
                await _respond(send, 200, b"", [])
            else:
                await _error(send, 405, f"{method} /ping: use GET", [(b"allow", b"GET")])
        else:
            await _error(send, 404, f"no route {path}: this model server answers GET /ping and POST /invocations")

    return app
