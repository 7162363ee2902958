"""SageMaker Runtime's InvokeEndpoint over HTTP: ``POST /endpoints/{name}/invocations``,
the path boto3's ``sagemaker-runtime`` client uses, as raw ASGI: the request path of
every invocation, so no request model or JSON layer sits on it.

Request headers as SageMaker Runtime names them: ``Content-Type``, ``Accept``,
``X-Amzn-SageMaker-Custom-Attributes``, ``X-Amzn-SageMaker-Target-Variant``,
``X-Amzn-SageMaker-Inference-Id``. The answer carries the model's body and content type,
``x-Amzn-Invoked-Production-Variant`` and any custom attributes the model set. Errors
are AWS JSON error bodies; a ``ModelError`` (424) adds ``OriginalStatusCode`` and
``OriginalMessage``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from groundfog.core.errors import GroundfogError, PayloadTooLarge

if TYPE_CHECKING:
    from groundfog.serving.service import ServingService

Scope = dict[str, Any]


class InvocationsEndpoint:
    def __init__(self, serving: "ServingService") -> None:
        self.serving = serving

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        serving = self.serving
        name = scope["path_params"]["name"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            body = await _read_body(receive, serving.max_payload_bytes)
            serving.start_serving()
            result = await serving.router.invoke(
                name, body,
                content_type=headers.get("content-type", "application/json"),
                accept=headers.get("accept"),
                custom_attributes=headers.get("x-amzn-sagemaker-custom-attributes"),
                target_variant=headers.get("x-amzn-sagemaker-target-variant"),
                inference_id=headers.get("x-amzn-sagemaker-inference-id"),
            )  # fmt: skip
        except GroundfogError as exc:
            await _send_error(send, exc)
            return
        out = [(b"content-type", result.content_type.encode("latin-1")),
               (b"content-length", str(len(result.body)).encode()),
               (b"x-amzn-invoked-production-variant", result.invoked_production_variant.encode("latin-1"))]  # fmt: skip
        if result.custom_attributes:
            out.append((b"x-amzn-sagemaker-custom-attributes", result.custom_attributes.encode("latin-1")))
        await send({"type": "http.response.start", "status": 200, "headers": out})
        await send({"type": "http.response.body", "body": result.body})


async def _read_body(receive: Any, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the request body is over {limit} bytes, the most an invocation takes", field="Body")
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send_error(send: Any, exc: GroundfogError) -> None:
    body = exc.to_dict()
    body.update(body.pop("details", {}))
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": exc.status_code,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            (b"x-amzn-errortype", exc.code.encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": data})
