"""One mapping from groundfog's error hierarchy to HTTP responses."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from groundfog.core.errors import GroundfogError

log = logging.getLogger("groundfog.api")


def _field(error: dict) -> str:
    """Where a request-model error is (``targets.0.Arn``); "" for the body as a whole."""
    if error.get("type") == "json_invalid":  # its loc is a character position, not a field
        return ""
    # A key of the body may be "" (``{"": 1}``): quoted, so it is still named.
    return ".".join('""' if p == "" else str(p) for p in error.get("loc", ())[1:])


def _problem(error: dict) -> str:
    if error.get("type") == "json_invalid":
        reason = (error.get("ctx") or {}).get("error")
        return f"not valid JSON ({reason})" if reason else "not valid JSON"
    return str(error.get("msg"))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GroundfogError)
    async def _groundfog(_: Request, exc: GroundfogError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{_field(err) or 'body'}: {_problem(err)}" for err in exc.errors()]
        first = exc.errors()[0] if exc.errors() else {}
        field = _field(first) or None
        body = {"__type": "ValidationException", "message": "; ".join(problems) or "invalid request"}
        if field:
            body["field"] = field
        return JSONResponse(body, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # A 400 here is a body that could not be read at all (not UTF-8, nested too deep).
        code = {400: "ValidationException", 404: "UnknownOperationException", 405: "MethodNotAllowed"}.get(
            exc.status_code, "HttpError"
        )
        return JSONResponse({"__type": code, "message": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not user input: log it whole, answer without a traceback.
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"__type": "InternalFailure", "message": f"internal error ({type(exc).__name__}); see the server log"},
            status_code=500,
        )
