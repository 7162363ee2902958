"""Expose ``@operation`` methods as ``POST /api/<service>/<Operation>`` routes.

The request model is derived from the method's signature, so the OpenAPI schema, the
validation messages and the remote SDK all follow the service code with no second
declaration to keep in step. Every string in a request must also be storable text
(``groundfog.core.text``): JSON can carry NUL and unpaired surrogates, which a service
would otherwise meet only when a query or an encoder fails.
"""

from __future__ import annotations

import inspect
import math
import typing
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body
from pydantic import ConfigDict, create_model

from groundfog.core.serialize import to_jsonable
from groundfog.core.service import Service, operations_of
from groundfog.core.text import check_text


def request_model(service_name: str, op_name: str, method: Callable[..., Any]) -> type:
    hints = typing.get_type_hints(method)
    fields: dict[str, Any] = {}
    for name, param in inspect.signature(method).parameters.items():
        if param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        annotation = hints.get(name, Any)
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[name] = (annotation, default)
    return create_model(  # type: ignore[call-overload]
        f"{service_name.capitalize()}{op_name}Request",
        __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=True),
        **fields,
    )


# How long one HTTP request may wait in a WaitFor* operation: a request without a
# timeout must not hold a server thread for a whole job. The remote SDK asks again.
MAX_HTTP_WAIT_SECONDS = 60.0


def _endpoint(method: Callable[..., Any], model: type, op_name: str) -> Callable[..., Any]:
    has_required = any(f.is_required() for f in model.model_fields.values())  # type: ignore[attr-defined]
    waits = op_name.startswith("WaitFor") and "timeout" in model.model_fields  # type: ignore[attr-defined]

    def endpoint(body: Any = Body(...) if has_required else Body(None)) -> Any:
        kwargs = {} if body is None else {name: getattr(body, name) for name in body.model_fields_set}
        for name, value in kwargs.items():
            check_text(value, name)
        if waits:
            asked = kwargs.get("timeout")
            asked = MAX_HTTP_WAIT_SECONDS if asked is None or not math.isfinite(asked) else float(asked)
            kwargs["timeout"] = max(0.0, min(asked, MAX_HTTP_WAIT_SECONDS))
        return to_jsonable(method(**kwargs))

    endpoint.__annotations__ = {"body": model if has_required else model | None}
    endpoint.__doc__ = inspect.getdoc(method)
    return endpoint


def operations_router(service_name: str, service: Service) -> APIRouter:
    router = APIRouter(prefix=f"/api/{service_name}", tags=[service_name])
    for op_name, method in sorted(operations_of(service).items()):
        model = request_model(service_name, op_name, method)
        router.add_api_route(
            f"/{op_name}",
            _endpoint(method, model, op_name),
            methods=["POST"],
            name=f"{service_name}.{op_name}",
            summary=(inspect.getdoc(method) or op_name).splitlines()[0],
        )
    return router
