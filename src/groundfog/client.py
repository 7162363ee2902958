"""The remote SDK: a running server's services, with the embedded ones' methods.

>>> import groundfog as gf
>>> p = gf.connect("http://127.0.0.1:8750")                                          # doctest: +SKIP
>>> p.events.test_event_pattern(event_pattern={"source": ["aws.s3"]}, event={...})  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import time
import typing
from functools import cache
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter

from groundfog.core.errors import GroundfogError, ServiceUnavailable, error_from_dict
from groundfog.core.serialize import to_jsonable

if typing.TYPE_CHECKING:
    from groundfog.serving.router import Invocation

# Where each remote service's local class lives, so results come back as the same types.
SERVICE_CLASSES = {
    "storage": "groundfog.storage:StorageService",
    "events": "groundfog.events:EventsService",
    "topics": "groundfog.events:TopicsService",
    "metrics": "groundfog.metrics:MetricsService",
    "instances": "groundfog.training.instances_service:InstancesService",
    "training": "groundfog.training.training_service:TrainingService",
    "processing": "groundfog.training.processing_service:ProcessingService",
    "tuning": "groundfog.training.tuning_service:TuningService",
    "registry": "groundfog.registry:RegistryService",
    "pipelines": "groundfog.pipelines.service:PipelinesService",
    "serving": "groundfog.serving.service:ServingService",
}


@cache
def _service_class(name: str) -> type:
    module, _, attr = SERVICE_CLASSES[name].partition(":")
    return getattr(importlib.import_module(module), attr)


@cache
def _operation(service: str, method: str) -> tuple[str, TypeAdapter | None]:
    cls = _service_class(service)
    fn = getattr(cls, method, None)
    op_name = getattr(fn, "__groundfog_operation__", None)
    if not op_name:
        raise AttributeError(f"{service} has no operation {method!r}")
    hints = typing.get_type_hints(fn)
    returns = hints.get("return")
    adapter = None if returns in (None, type(None), Any) else TypeAdapter(returns)
    return op_name, adapter


def raise_for_error(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        body = response.json()
    except ValueError:
        body = {"message": response.text or response.reason_phrase}
    raise error_from_dict(body if isinstance(body, dict) else {"message": str(body)}, response.status_code)


WAIT_SLICE = 20.0  # seconds one WaitFor* request may block the server
_ENDED = frozenset(("Completed", "Failed", "Stopped", "Succeeded"))
_STEADY_ENDPOINT = frozenset(("InService", "Failed", "OutOfService", "UpdateRollbackFailed"))


def _ended(result: Any) -> bool:
    """Whether a job or execution description (``{"TrainingJobStatus": "Completed", ...}``,
    ``{"PipelineExecutionStatus": "Succeeded", ...}``) has ended."""
    return isinstance(result, dict) and any(
        (key.endswith(("JobStatus", "ExecutionStatus")) and value in _ENDED)
        or (key == "EndpointStatus" and value in _STEADY_ENDPOINT)
        for key, value in result.items()
    )


class RemoteService:
    """Each method call is one ``POST /api/<service>/<Operation>``."""

    def __init__(self, name: str, http: httpx.Client) -> None:
        self._name = name
        self._http = http

    def call(self, op_name: str, kwargs: dict[str, Any]) -> Any:
        try:
            response = self._http.post(f"/api/{self._name}/{op_name}", json=to_jsonable(kwargs))
        except httpx.TransportError as exc:
            raise ServiceUnavailable(f"groundfog server at {self._http.base_url} is unreachable: {exc}") from None
        raise_for_error(response)
        return response.json()

    def wait(self, op_name: str, kwargs: dict[str, Any]) -> Any:
        """A ``WaitFor*`` operation as several short requests, so that neither the HTTP
        client's timeout nor a server thread is held for the whole of a long job."""
        timeout = kwargs.get("timeout")
        deadline = None if timeout is None else time.monotonic() + float(timeout)
        while True:
            left = WAIT_SLICE if deadline is None else max(0.0, min(WAIT_SLICE, deadline - time.monotonic()))
            result = self.call(op_name, {**kwargs, "timeout": left})
            if _ended(result) or (deadline is not None and time.monotonic() >= deadline):
                return result

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_"):
            raise AttributeError(method)
        op_name, adapter = _operation(self._name, method)
        send = self.wait if op_name.startswith("WaitFor") else self.call

        def invoke(**kwargs: Any) -> Any:
            result = send(op_name, kwargs)
            return adapter.validate_python(result) if adapter is not None else result

        invoke.__name__ = method
        return invoke


class RemoteServing(RemoteService):
    """The serving service of a server: its operations, and InvokeEndpoint on SageMaker
    Runtime's own route (the request body is the payload, not JSON)."""

    def invoke_endpoint(
        self,
        endpoint_name: str,
        body: bytes | str,
        content_type: str = "application/json",
        accept: str | None = None,
        custom_attributes: str | None = None,
        target_variant: str | None = None,
        inference_id: str | None = None,
    ) -> "Invocation":
        """``POST /endpoints/{name}/invocations``; an ``Invocation``, as the embedded service returns.

        >>> gf.connect(url).serving.invoke_endpoint("churn", b"1.0,2.0", content_type="text/csv").body  # doctest: +SKIP
        b'0\\n'
        """
        # Imported here: the router module loads SQLAlchemy, which a client that never invokes does without.
        from groundfog.serving.router import Invocation

        headers = {"Content-Type": content_type}
        for header, value in (("Accept", accept), ("X-Amzn-SageMaker-Custom-Attributes", custom_attributes),
                              ("X-Amzn-SageMaker-Target-Variant", target_variant),
                              ("X-Amzn-SageMaker-Inference-Id", inference_id)):  # fmt: skip
            if value:
                headers[header] = value
        data = body.encode() if isinstance(body, str) else bytes(body)
        try:
            response = self._http.post(f"/endpoints/{quote(endpoint_name, safe='')}/invocations", content=data,
                                       headers=headers)  # fmt: skip
        except httpx.TransportError as exc:
            raise ServiceUnavailable(f"groundfog server at {self._http.base_url} is unreachable: {exc}") from None
        if not response.is_success:
            raise _invocation_error(response)
        return Invocation(response.content, response.headers.get("content-type", "application/octet-stream"),
                          response.headers.get("x-amzn-invoked-production-variant", ""),
                          response.headers.get("x-amzn-sagemaker-custom-attributes"))  # fmt: skip


def _invocation_error(response: httpx.Response) -> GroundfogError:
    """The typed error of an invocation's JSON error body, whose extra keys (a
    ModelError's ``OriginalStatusCode`` / ``OriginalMessage``) are its details."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return error_from_dict({"message": response.text or response.reason_phrase}, response.status_code)
    details = {k: v for k, v in body.items() if k not in ("__type", "message", "field", "details")}
    return error_from_dict({**body, "details": {**(body.get("details") or {}), **details}}, response.status_code)


class RemotePlatform:
    """What ``groundfog.connect(url)`` returns: ``.storage``, ``.events``, ``.topics``, ``.metrics``."""

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 60.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)
        for name in SERVICE_CLASSES:
            setattr(self, name, RemoteService(name, self._http))
        from groundfog.storage.client import RemoteStorage

        self.serving = RemoteServing("serving", self._http)
        storage = RemoteService("storage", self._http)
        self.storage = RemoteStorage(self._http, lambda op, kw: storage.__getattr__(op)(**kw))

    def health(self) -> dict[str, Any]:
        try:
            response = self._http.get("/health")
        except httpx.TransportError as exc:
            raise ServiceUnavailable(f"groundfog server at {self.url} is unreachable: {exc}") from None
        raise_for_error(response)
        return response.json()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "RemotePlatform":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["RemotePlatform", "GroundfogError"]
