"""The router: SageMaker Runtime's InvokeEndpoint. Picks a variant by traffic share and
weight (or ``TargetVariant``), forwards the request to one of its workers over a
keep-alive connection, copies it to shadow variants, and records metrics and data
capture off the request path.

One ``Router`` serves every event loop of its process (the server's, and a private
one for library calls); connections are pooled per loop. Routes come from the hosting
loop of this process at once, and from the state store for endpoints another process
hosts, read again when their generation moves (checked at most every
``REFRESH_SECONDS``).
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
import uuid
import weakref
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from groundfog.core.errors import ModelError, PayloadTooLarge, ServiceUnavailable
from groundfog.serving.capture import capture_line
from groundfog.serving.records import load
from groundfog.serving.routes import SERVING_STATUSES, Route, VariantRoute
from groundfog.serving.tables import endpoints
from groundfog.serving.upstream import Upstreams, UpstreamError, UpstreamTimeout

if TYPE_CHECKING:
    from groundfog.serving.service import ServingService

REFRESH_SECONDS = 0.5
# How long a request waits for an instance of its variant while none serves but this
# process's hosting loop is starting one (a replaced worker, a new host's workers).
INSTANCE_WAIT_SECONDS = 5.0
MODEL_LATENCY_HEADER = "x-groundfog-model-latency-us"


@dataclass(frozen=True)
class Invocation:
    """What InvokeEndpoint answers: the model's body and content type, and which
    variant served it."""

    body: bytes
    content_type: str
    invoked_production_variant: str
    custom_attributes: str | None = None


class Router:
    def __init__(self, service: "ServingService") -> None:
        self.service = service
        self._local: dict[str, Route] = {}
        self._signatures: dict[str, tuple[str, str]] = {}
        self._remote: dict[str, tuple[Route, float]] = {}
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Upstreams] = weakref.WeakKeyDictionary()
        self._shadow_tasks: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_lock = threading.Lock()

    # -- routes ----------------------------------------------------------------------------

    def update(self, doc: dict[str, Any]) -> None:
        """The hosting loop's latest document of an endpoint it hosts (every tick: a
        document that did not change costs a comparison)."""
        signature = (doc["status"], json.dumps(doc["fleets"], sort_keys=True))
        if self._signatures.get(doc["name"]) == signature and doc["name"] in self._local:
            return
        self._signatures[doc["name"]] = signature
        route = Route.build(doc)
        previous = self._local.get(doc["name"])
        self._local[doc["name"]] = route
        self._remote.pop(doc["name"], None)
        if previous is not None:
            gone = {p for v in previous.by_name.values() for p in v.ports} - {p for v in route.by_name.values() for p in v.ports}
            for port in gone:
                for pool in list(self._pools.values()):
                    pool.forget(port)
        for variant in route.by_name.values():
            self.service.metrics_sink.set_instances(route.name, variant.name, variant.instances)

    def forget(self, name: str) -> None:
        self._local.pop(name, None)
        self._signatures.pop(name, None)
        self._remote.pop(name, None)

    def route(self, name: str) -> Route:
        local = self._local.get(name)
        if local is not None and local.status in SERVING_STATUSES:
            return local
        now = time.monotonic()
        cached = self._remote.get(name)
        if cached is not None and now - cached[1] < REFRESH_SECONDS:
            return cached[0]
        state = self.service.state
        if cached is not None:
            with state.read() as conn:
                generation = conn.execute(sa.select(endpoints.c.generation).where(endpoints.c.name == name)).scalar()
            if generation == cached[0].generation:
                self._remote[name] = (cached[0], now)
                return cached[0]
        if cached is None and local is None:
            self.service.ensure_hosted(name)
            local = self._local.get(name)
            if local is not None and local.status in SERVING_STATUSES:
                return local
        # Just committed by the hosting loop, which tells this router a moment later.
        with state.read() as conn:
            route = Route.build(load(conn, name))
        self._remote[name] = (route, now)
        return route

    # -- invocations -----------------------------------------------------------------------

    def _pool(self) -> Upstreams:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            pool = self._pools[loop] = Upstreams()
        return pool

    async def invoke(
        self,
        endpoint_name: str,
        body: bytes,
        *,
        content_type: str = "application/json",
        accept: str | None = None,
        custom_attributes: str | None = None,
        target_variant: str | None = None,
        inference_id: str | None = None,
    ) -> Invocation:
        started = time.perf_counter()
        limit = self.service.max_payload_bytes
        if len(body) > limit:
            raise PayloadTooLarge(f"the request body is {len(body)} bytes; an invocation takes at most {limit} bytes",
                                  field="Body")  # fmt: skip
        route = self.route(endpoint_name)
        route.check_serving()
        variant = route.target(target_variant) if target_variant else route.pick(random.random(), random.random())
        headers = [("content-type", content_type), ("accept", accept or "*/*")]
        if custom_attributes:
            headers.append(("x-amzn-sagemaker-custom-attributes", custom_attributes))
        if inference_id:
            headers.append(("x-amzn-sagemaker-inference-id", inference_id))
        for shadow in route.shadows:
            if shadow.share >= 1.0 or random.random() < shadow.share:
                self._spawn_shadow(route.name, shadow, headers, body, content_type, inference_id)
        response = await self._forward(route.name, variant, headers, body, started)
        self._capture(route.name, variant, body, content_type, response, inference_id)
        if response.status != 200:
            message = response.body.decode("utf-8", "replace").strip()[:1024]
            side = "client" if response.status < 500 else "server"
            raise ModelError(
                f'Received {side} error ({response.status}) from variant {variant.name} with message "{message}"',
                OriginalStatusCode=response.status, OriginalMessage=message,
            )  # fmt: skip
        return Invocation(response.body, response.headers.get("content-type", "application/octet-stream"),
                          variant.name, response.headers.get("x-amzn-sagemaker-custom-attributes"))  # fmt: skip

    async def _forward(self, endpoint: str, variant: VariantRoute, headers: list[tuple[str, str]], body: bytes,
                       started: float) -> Any:  # fmt: skip
        timeout = self.service.invocation_timeout
        pool = self._pool()
        if variant.ports:  # the hot path: no coroutine, no clock
            port = variant.port()
        else:
            variant, port = await self._instance(endpoint, variant, min(INSTANCE_WAIT_SECONDS, timeout))
        try:
            try:
                response = await pool.request(port, "POST", "/invocations", headers, body, timeout)
            except UpstreamTimeout:
                raise
            except UpstreamError as exc:
                if exc.sent or len(variant.ports) < 2:
                    raise
                port = variant.port(avoid=port)  # nothing reached the dead worker: another may serve
                response = await pool.request(port, "POST", "/invocations", headers, body, timeout)
        except UpstreamTimeout:
            self._record(endpoint, variant, 500, None, started)
            raise ModelError(f"Your invocation timed out while waiting for a response from variant {variant.name}: "
                             f"it took longer than {timeout:g} s", OriginalStatusCode=0,
                             OriginalMessage="invocation timed out") from None  # fmt: skip
        except UpstreamError as exc:
            self._record(endpoint, variant, 503, None, started)
            raise ServiceUnavailable(f"the instance of variant {variant.name} that took the request stopped before "
                                     f"answering ({exc}); the request may be retried") from None  # fmt: skip
        model_us = response.headers.get(MODEL_LATENCY_HEADER)
        self._record(endpoint, variant, response.status, float(model_us) if model_us else None, started)
        return response

    async def _instance(self, endpoint: str, variant: VariantRoute, wait: float) -> tuple[VariantRoute, int]:
        """A serving instance's port. While the variant has none, and this process hosts
        the endpoint (so its hosting loop is starting one and tells this router at once),
        wait up to ``wait`` seconds instead of failing: a restart is a delay, not an error."""
        deadline = time.monotonic() + wait
        while not variant.ports and endpoint in self._local and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            route = self._local.get(endpoint)
            found = route.variant(variant.fleet, variant.name) if route is not None else None
            if found is None:
                break  # its fleet is gone (rolled back, retired): say so as before
            variant = found
        return variant, variant.port()

    def _record(self, endpoint: str, variant: VariantRoute, status: int, model_us: float | None, started: float) -> None:
        total_us = (time.perf_counter() - started) * 1e6
        overhead = max(0.0, total_us - (model_us or 0.0))
        self.service.metrics_sink.record(endpoint, variant.name, status=status, model_us=model_us, overhead_us=overhead)

    def _capture(self, endpoint: str, variant: VariantRoute, body: bytes, content_type: str, response: Any,
                 inference_id: str | None) -> None:  # fmt: skip
        capture = variant.capture
        if capture is None or random.random() * 100.0 >= capture["InitialSamplingPercentage"]:
            return
        modes = {o["CaptureMode"] for o in capture["CaptureOptions"]}
        types = capture["CaptureContentTypeHeader"]
        now = time.time()
        line = capture_line(
            endpoint_input=(content_type, body) if "Input" in modes else None,
            endpoint_output=(response.headers.get("content-type", ""), response.body) if "Output" in modes else None,
            event_id=str(uuid.uuid4()), inference_time=now, inference_id=inference_id,
            csv_types=types["CsvContentTypes"], json_types=types["JsonContentTypes"],
        )  # fmt: skip
        self.service.capture_writer.record(capture["DestinationS3Uri"], endpoint, variant.name, now, line)

    def _spawn_shadow(self, endpoint: str, shadow: VariantRoute, headers: list[tuple[str, str]], body: bytes,
                      content_type: str, inference_id: str | None) -> None:  # fmt: skip
        async def copy() -> None:
            started = time.perf_counter()
            try:
                response = await self._forward(endpoint, shadow, headers, body, started)
            except Exception:  # noqa: BLE001 - a shadow's failure is its metrics' business, never the caller's
                return
            self._capture(endpoint, shadow, body, content_type, response, inference_id)

        task = asyncio.get_running_loop().create_task(copy())
        self._shadow_tasks.add(task)
        task.add_done_callback(self._shadow_tasks.discard)

    # -- library calls ---------------------------------------------------------------------

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run a coroutine on the router's own loop (a daemon thread) and wait for it."""
        with self._loop_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="groundfog-serving-router", daemon=True).start()
                self._loop = loop
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def close(self) -> None:
        with self._loop_lock:
            loop, self._loop = self._loop, None
        if loop is not None:
            pool = self._pools.get(loop)
            if pool is not None:
                asyncio.run_coroutine_threadsafe(pool.aclose(), loop).result(timeout=5)
            loop.call_soon_threadsafe(loop.stop)
