"""What the serving service's parts share: the platform services they use, and the
running parts (router, hosting loop, capture writer, metrics sink) the service builds."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from groundfog.core.names import arn
from groundfog.core.service import Service

if TYPE_CHECKING:
    from groundfog.core.bus import Bus
    from groundfog.metrics import MetricsService
    from groundfog.registry import RegistryService
    from groundfog.serving.capture import CaptureWriter
    from groundfog.serving.hosting import EndpointHost
    from groundfog.serving.invocation_metrics import InvocationMetrics
    from groundfog.serving.router import Router
    from groundfog.storage import StorageService

STATE_CHANGE = "SageMaker Endpoint State Change"
DEPLOYMENT_CHANGE = "SageMaker Endpoint Deployment State Change"
# Statuses in which an endpoint is still on its way somewhere.
MOVING = ("Creating", "Updating", "RollingBack", "SystemUpdating", "Deleting")


def endpoint_arn(name: str) -> str:
    return arn("serving", "endpoint", name)


class ServingBase(Service):
    storage: "StorageService"
    registry: "RegistryService"
    metrics: "MetricsService"
    bus: "Bus | None"
    router: "Router"
    host: "EndpointHost"
    capture_writer: "CaptureWriter"
    metrics_sink: "InvocationMetrics"
    owner: str
    auto_host: bool

    @property
    def serving_dir(self) -> Path:
        return self.config.home / "serving"

    @property
    def models_dir(self) -> Path:
        return self.serving_dir / "models"

    def run_dir(self, endpoint: str) -> Path:
        return self.serving_dir / "endpoints" / endpoint

    @property
    def max_payload_bytes(self) -> int:
        return self.config.max_invocation_bytes

    @property
    def invocation_timeout(self) -> float:
        return self.config.invocation_timeout

    def ensure_hosted(self, name: str) -> None:
        """Host ``name`` in this process if nobody does (library use needs no server)."""
        if self.auto_host:
            self.host.host(name)

    def alarm_reason(self, names: list[str]) -> str | None:
        """Why a deployment must roll back: the first of ``names`` in ALARM, if any."""
        for alarm in self.metrics.describe_alarms(alarm_names=names):
            if alarm.state_value == "ALARM":
                return f"alarm {alarm.alarm_name} went to ALARM: {alarm.state_reason}"
        return None

    def announce(self, doc: dict[str, Any], old_status: str, steps: list[tuple[str, str, dict[str, Any]]]) -> None:
        """Events for a status change and for each deployment step."""
        if self.bus is None:
            return
        resources = [endpoint_arn(doc["name"])]
        for stage, message, detail in steps:
            self.bus.emit("aws.sagemaker", DEPLOYMENT_CHANGE,
                          {"EndpointName": doc["name"], "Stage": stage, "Message": message, **detail},
                          resources=resources)  # fmt: skip
        if doc["status"] != old_status:
            detail = {"EndpointName": doc["name"], "EndpointArn": resources[0],
                      "EndpointConfigName": doc["config_name"], "EndpointStatus": doc["status"]}  # fmt: skip
            if doc.get("failure_reason"):
                detail["FailureReason"] = doc["failure_reason"]
            self.bus.emit("aws.sagemaker", STATE_CHANGE, detail, resources=resources)
