"""Helpers for registry tests: a platform with a model artifact and an evaluation
report in its object store, the requests that register them, and a real HTTP server."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx

MODEL_DATA = "s3://models/churn/model.tar.gz"
REPORT_URI = "s3://models/churn/evaluation.json"
REPORT = {"binary_classification_metrics": {"auc": {"value": 0.91, "standard_deviation": 0.01},
                                            "accuracy": {"value": 0.87}}}  # fmt: skip


def make_platform(home: Path, **config: Any):
    """A platform (SQLite and local objects unless ``config`` says otherwise) holding
    ``MODEL_DATA`` and the JSON evaluation report at ``REPORT_URI``."""
    from groundfog import Platform
    from groundfog.core.config import Config

    p = Platform(Config(home=home, **config))
    p.storage.create_bucket("models")
    p.storage.put_object("models", "churn/model.tar.gz", b"not really a tarball")
    p.storage.put_object("models", "churn/evaluation.json", json.dumps(REPORT).encode())
    return p


def inference_spec(model_data: str = MODEL_DATA, image: str = "sklearn") -> dict[str, Any]:
    return {
        "Containers": [{"Image": image, "ModelDataUrl": model_data, "Framework": "SKLEARN", "FrameworkVersion": "1.4"}],
        "SupportedContentTypes": ["text/csv"],
        "SupportedResponseMIMETypes": ["text/csv"],
        "SupportedRealtimeInferenceInstanceTypes": ["ml.m5.large"],
    }


def quality_metrics(uri: str = REPORT_URI, content_type: str = "application/json") -> dict[str, Any]:
    return {"ModelQuality": {"Statistics": {"ContentType": content_type, "S3Uri": uri}}}


def register(platform: Any, group: str = "churn", **kwargs: Any) -> str:
    """CreateModelPackage with a valid inference specification; the version's ARN."""
    kwargs.setdefault("inference_specification", inference_spec())
    return platform.registry.create_model_package(model_package_group_name=group, **kwargs)["ModelPackageArn"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunningServer:
    """``create_app(platform)`` under uvicorn in a thread, on a real socket."""

    def __init__(self, platform: Any) -> None:
        import uvicorn

        from groundfog.api import create_app

        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(platform), host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "RunningServer":
        self.thread.start()
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def sink_lines(path: Path) -> list[dict[str, Any]]:
    """What a ``file`` topic subscription with raw delivery received, one event per line."""
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
