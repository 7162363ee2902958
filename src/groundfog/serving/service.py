"""The serving service: SageMaker hosting (endpoint configs, endpoints, invocations)
and Application Auto Scaling for its variants.

The operations live in one module per concept, composed here: ``config_ops``,
``endpoint_ops``, ``autoscaling``; the data plane is ``router`` (with ``upstream``,
``capture`` and ``invocation_metrics``), the worker processes are run by ``hosting``,
and traffic shifts are decided by ``deployment``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from groundfog.core.owners import owner_token
from groundfog.serving.autoscaling import AutoscalingOperations
from groundfog.serving.capture import CaptureWriter
from groundfog.serving.config_ops import EndpointConfigOperations
from groundfog.serving.endpoint_ops import EndpointOperations
from groundfog.serving.hosting import EndpointHost
from groundfog.serving.invocation_metrics import InvocationMetrics
from groundfog.serving.router import Invocation, Router
from groundfog.training.uris import parse_s3_uri

if TYPE_CHECKING:
    from groundfog.core.bus import Bus
    from groundfog.core.clock import Clock
    from groundfog.core.config import Config
    from groundfog.core.state import StateStore
    from groundfog.metrics import MetricsService
    from groundfog.registry import RegistryService
    from groundfog.storage import StorageService


class ServingService(EndpointConfigOperations, EndpointOperations, AutoscalingOperations):
    """Endpoint configs, endpoints and their invocations, as SageMaker names them."""

    name = "serving"

    def __init__(
        self,
        *,
        config: "Config",
        state: "StateStore",
        clock: "Clock",
        storage: "StorageService",
        registry: "RegistryService",
        metrics: "MetricsService",
        bus: "Bus | None" = None,
    ) -> None:
        super().__init__(config=config, state=state, clock=clock)
        self.storage = storage
        self.registry = registry
        self.metrics = metrics
        self.bus = bus
        self.owner = owner_token()
        self.auto_host = True
        self.capture_writer = CaptureWriter(self._put_capture)
        self.metrics_sink = InvocationMetrics(lambda data: metrics.put_service_metric_data("AWS/SageMaker", data))
        self.router = Router(self)
        self.host = EndpointHost(self)
        self._running = False

    def _put_capture(self, uri: str, data: bytes) -> None:
        bucket, key = parse_s3_uri(uri, "DestinationS3Uri")
        self.storage.put_object(bucket, key, data, content_type="application/jsonlines")

    def start_serving(self) -> None:
        """Start the capture writer and the metrics sink (once; cheap after that)."""
        if not self._running:
            self._running = True
            self.capture_writer.start()
            self.metrics_sink.start()

    def ensure_hosted(self, name: str) -> None:
        if self.auto_host:
            self.start_serving()
        super().ensure_hosted(name)

    def invoke_endpoint(
        self,
        endpoint_name: str,
        body: bytes | str,
        content_type: str = "application/json",
        accept: str | None = None,
        custom_attributes: str | None = None,
        target_variant: str | None = None,
        inference_id: str | None = None,
    ) -> Invocation:
        """Invoke an endpoint (SageMaker Runtime InvokeEndpoint) from this process."""
        self.start_serving()
        data = body.encode() if isinstance(body, str) else bytes(body)
        return self.router.run(self.router.invoke(
            endpoint_name, data, content_type=content_type, accept=accept, custom_attributes=custom_attributes,
            target_variant=target_variant, inference_id=inference_id,
        ))  # fmt: skip

    def start_background(self) -> None:
        """Host every endpoint whose host is gone, and keep doing so (the server)."""
        self.start_serving()
        self.host.start(claim_all=True)

    def close(self) -> None:
        self.host.close()
        self.router.close()
        if self._running:
            self.capture_writer.close()
            self.metrics_sink.close()
            self._running = False
