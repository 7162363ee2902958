"""One mapping from groundfog's error hierarchy to HTTP responses."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from groundfog.core.errors import GroundfogError

log = logging.getLogger("groundfog.api")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GroundfogError)
    async def _groundfog(_: Request, exc: GroundfogError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append(f"{loc or 'body'}: {err.get('msg')}")
        first = exc.errors()[0] if exc.errors() else {}
        field = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or None
        body = {"__type": "ValidationException", "message": "; ".join(problems) or "invalid request"}
        if field:
            body["field"] = field
        return JSONResponse(body, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "UnknownOperationException", 405: "MethodNotAllowed"}.get(exc.status_code, "HttpError")
        return JSONResponse({"__type": code, "message": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not user input: log it whole, answer without a traceback.
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"__type": "InternalFailure", "message": f"internal error ({type(exc).__name__}); see the server log"},
            status_code=500,
        )
