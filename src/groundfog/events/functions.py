"""Lambda-like functions: a named Python handler that events, topics and users invoke.

A handler is ``package.module:function`` (or Lambda's ``module.function``), called as
``handler(event, context)``; ``code_path`` names a directory put on ``sys.path`` first,
as Lambda does with a deployment package. The handler must import when the function is
created, so a typo fails then, not at 3 a.m. on the first event.

>>> fn = events.create_function("thumbnail", handler="shop.handlers:on_upload")  # doctest: +SKIP
>>> events.invoke("thumbnail", {"key": "a.png"})                                # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from groundfog.core.errors import AlreadyExists, GroundfogError, ResourceNotFound, ValidationError
from groundfog.core.names import arn, name_from_arn, validate_name
from groundfog.core.paths import user_path
from groundfog.core.service import operation
from groundfog.events import tables as t
from groundfog.events.models import Function

FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")
DEFAULT_TIMEOUT_SECONDS = 3.0  # Lambda's default
MAX_TIMEOUT_SECONDS = 900.0  # and its maximum

Spec = tuple[str, "str | None", float]  # handler, code path, timeout in seconds


class FunctionError(GroundfogError):
    """The handler raised; carries Lambda's ``errorType`` / ``errorMessage``."""

    status_code = 502
    code = "FunctionError"
    exit_code = 1


class FunctionTimeout(RuntimeError):
    """The handler ran past the function's timeout (it is left to finish on its own)."""


def call_with_timeout(handler: Callable[..., Any], payload: Any, context: "LambdaContext", timeout: float) -> Any:
    """``handler(payload, context)``, or ``FunctionTimeout`` after ``timeout`` seconds, as
    Lambda reports it. A thread cannot be killed: a handler that overruns keeps running
    in the background, but whoever invoked it gets its answer on time."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = handler(payload, context)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            outcome["error"] = exc

    worker = threading.Thread(target=run, name=f"groundfog-fn-{context.function_name}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise FunctionTimeout(f"Task timed out after {timeout:.2f} seconds")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


class LambdaContext:
    """The ``context`` argument, with the attributes Lambda handlers use."""

    def __init__(self, function_name: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function_arn(function_name)
        self.memory_limit_in_mb = 128
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"{datetime.now(timezone.utc):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def function_arn(name: str) -> str:
    return arn("events", "function", name)


def load_handler(handler: str, code_path: str | None = None) -> Callable[..., Any]:
    """Import ``handler``; ``ValidationError`` naming it when that is not possible."""
    if not isinstance(handler, str) or not handler.strip():
        raise ValidationError("Handler must be 'package.module:function'", field="Handler")
    module_name, sep, attr = handler.partition(":")
    if not sep:
        module_name, _, attr = handler.rpartition(".")
    if not module_name or not attr:
        raise ValidationError(
            f"Handler {handler!r} must be 'package.module:function' (or Lambda's 'module.function')",
            field="Handler",
        )
    if code_path:
        directory = str(user_path(code_path, "CodePath").resolve())
        if not Path(directory).is_dir():
            raise ValidationError(f"CodePath {code_path!r} is not a directory", field="CodePath")
        if directory not in sys.path:
            sys.path.insert(0, directory)
    importlib.invalidate_caches()  # files written since start-up must be found
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except Exception as exc:  # an import runs user code: any failure is the handler's
        raise ValidationError(
            f"Handler {handler!r} cannot be imported: {type(exc).__name__}: {exc}", field="Handler"
        ) from None
    if not callable(target):
        raise ValidationError(f"Handler {handler!r} is not callable", field="Handler")
    return target


class FunctionRegistry:
    """Function definitions (cached; the dispatcher refreshes the cache) and invocation."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self._specs: dict[str, Spec] = {}
        self._handlers: dict[tuple[str, str | None], Callable[..., Any]] = {}
        self._lock = threading.Lock()

    def refresh(self, specs: dict[str, Spec]) -> None:
        """Take the definitions the dispatcher just loaded (so invoking reads no table)."""
        self._specs = specs

    def spec(self, name: str) -> Spec:
        """``(handler, code_path, timeout)`` of a function; ``ResourceNotFound`` if there is none."""
        spec = self._specs.get(name)
        if spec is None:
            with self.state.read() as conn:
                row = conn.execute(sa.select(t.functions).where(t.functions.c.name == name)).first()
            if row is None:
                raise ResourceNotFound(f"Function not found: {function_arn(name)}", field="FunctionName")
            spec = function_spec(row)
        return spec

    def handler(self, spec: Spec) -> Callable[..., Any]:
        key = (spec[0], spec[1])
        fn = self._handlers.get(key)
        if fn is None:
            with self._lock:
                fn = self._handlers.get(key) or load_handler(*key)
                self._handlers[key] = fn
        return fn

    def call(self, name: str, payload: Any, spec: Spec | None = None) -> Any:
        """Run function ``name`` (whose ``spec`` the caller may have looked up) on
        ``payload`` here, within its timeout."""
        spec = spec or self.spec(name)
        handler = self.handler(spec)
        return call_with_timeout(handler, payload, LambdaContext(name, spec[2]), spec[2])

    def invoke_arn(self, target_arn: str, payload: Any) -> None:
        """The invoker of function targets: a missing function is ``ResourceNotFound``
        (dead-lettered at once); anything the handler raises (or a timeout) is retried."""
        name = name_from_arn(target_arn)
        spec = self.spec(name)  # a missing function: ResourceNotFound, before the handler's own errors
        try:
            self.call(name, payload, spec)
        except (ResourceNotFound, ValidationError) as exc:  # the handler's own error, to be retried
            raise RuntimeError(f"{type(exc).__name__}: {exc}") from exc

    def exists(self, target_arn: str) -> bool:
        with self.state.read() as conn:
            found = conn.execute(
                sa.select(t.functions.c.name).where(t.functions.c.name == name_from_arn(target_arn))
            ).first()
        return found is not None


def function_spec(row: Any) -> Spec:
    timeout = getattr(row, "timeout_seconds", None)
    return (row.handler, row.code_path, DEFAULT_TIMEOUT_SECONDS if timeout is None else float(timeout))


def _model(row: Any) -> Function:
    return Function(
        function_name=row.name,
        function_arn=function_arn(row.name),
        handler=row.handler,
        code_path=row.code_path,
        description=row.description,
        timeout=function_spec(row)[2],
        last_modified=datetime.fromtimestamp(row.created_at, timezone.utc),
    )


class FunctionOperations:
    """The function operations of ``EventsService`` (a mixin: it owns ``functions``)."""

    state: Any
    clock: Any
    functions: FunctionRegistry

    @operation
    def create_function(
        self, name: str, handler: str, description: str | None = None, code_path: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> Function:
        """Define a function; the handler must be importable now (``ValidationError`` if not).
        ``timeout`` (seconds, 1-900, Lambda's default 3) bounds each invocation."""
        validate_name(name, "FunctionName", pattern=FUNCTION_NAME, max_length=64)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
                or not 1 <= timeout <= MAX_TIMEOUT_SECONDS:
            raise ValidationError(f"Timeout must be 1-{MAX_TIMEOUT_SECONDS:.0f} seconds, got {timeout!r}", field="Timeout")
        if description is not None and len(description) > 256:
            raise ValidationError("Description must be at most 256 characters", field="Description")
        if code_path:
            code_path = str(user_path(code_path, "CodePath").resolve())
        load_handler(handler, code_path)
        with self.state.write() as conn:
            if conn.execute(sa.select(t.functions.c.name).where(t.functions.c.name == name)).first():
                raise AlreadyExists(f"Function already exist: {name}", field="FunctionName")
            conn.execute(
                t.functions.insert().values(
                    name=name, handler=handler, code_path=code_path, description=description,
                    created_at=self.clock.time(), timeout_seconds=float(timeout),
                )
            )
            t.bump_config(conn)
            row = conn.execute(sa.select(t.functions).where(t.functions.c.name == name)).one()
        return _model(row)

    @operation
    def list_functions(self) -> list[Function]:
        with self.state.read() as conn:
            rows = conn.execute(sa.select(t.functions).order_by(t.functions.c.name)).all()
        return [_model(r) for r in rows]

    @operation
    def get_function(self, name: str) -> Function:
        with self.state.read() as conn:
            row = conn.execute(sa.select(t.functions).where(t.functions.c.name == name_from_arn(name))).first()
        if row is None:
            raise ResourceNotFound(f"Function not found: {function_arn(name_from_arn(name))}", field="FunctionName")
        return _model(row)

    @operation
    def delete_function(self, name: str) -> None:
        with self.state.write() as conn:
            gone = conn.execute(t.functions.delete().where(t.functions.c.name == name_from_arn(name))).rowcount
            if not gone:
                raise ResourceNotFound(
                    f"Function not found: {function_arn(name_from_arn(name))}", field="FunctionName"
                )
            t.bump_config(conn)

    @operation
    def invoke(self, name: str, payload: Any = None) -> Any:
        """Run the function now, in this process, and return what the handler returned.

        A handler that raises becomes ``FunctionError`` with Lambda's ``errorType`` and
        ``errorMessage`` (and the stack trace in ``details``).
        """
        fn_name = name_from_arn(name)
        spec = self.functions.spec(fn_name)  # ResourceNotFound stays itself
        try:
            return self.functions.call(fn_name, payload, spec)
        except Exception as exc:
            raise FunctionError(
                f"{fn_name}: {type(exc).__name__}: {exc}",
                errorType=type(exc).__name__,
                errorMessage=str(exc),
                stackTrace=traceback.format_exception(exc)[-5:],
            ) from None
