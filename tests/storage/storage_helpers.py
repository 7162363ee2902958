"""Helpers for the storage tests: a recording Bus double and a service factory."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from groundfog.core.clock import ManualClock
from groundfog.core.config import Config
from groundfog.core.errors import ValidationError
from groundfog.core.names import arn
from groundfog.core.state import StateStore
from groundfog.storage import StorageService


class RecordingBus:
    """A test double of ``groundfog.core.bus.Bus``: records what is emitted and sent;
    only topic/function ARNs a test registered pass ``check_target``."""

    def __init__(self) -> None:
        self.emitted: list[dict[str, Any]] = []
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.targets: set[str] = set()

    def register(self, kind: str, name: str) -> str:
        target = arn("events", kind, name)
        self.targets.add(target)
        return target

    def emit(
        self, source: str, detail_type: str, detail: dict[str, Any], *, resources: Sequence[str] = (), bus: str = "default"
    ) -> str:
        self.emitted.append(
            {"source": source, "detail_type": detail_type, "detail": detail, "resources": list(resources), "bus": bus}
        )
        return str(uuid.uuid4())

    def send(self, target_arn: str, payload: dict[str, Any], *, subject: str | None = None) -> str:
        self.sent.append((target_arn, payload))
        return str(uuid.uuid4())

    def check_target(self, target_arn: str, *, allowed_types: Sequence[str] = ()) -> None:
        kind = "function" if ":function/" in target_arn else "topic" if ":topic/" in target_arn else None
        if kind is None or (allowed_types and kind not in allowed_types):
            raise ValidationError(f"{target_arn!r} is not a {' or '.join(allowed_types)}", field="TargetArn")
        if target_arn not in self.targets:
            raise ValidationError(f"{target_arn!r} does not exist", field="TargetArn")


def make_storage(home: Path, state_url: str, objects: dict, bus: Any = None, **kwargs: Any) -> StorageService:
    config = Config(home=home, state_url=state_url, **objects)
    state = StateStore(state_url)
    state.migrate()
    return StorageService(config=config, state=state, clock=ManualClock(), bus=bus, **kwargs)


def files_under(root: Path) -> list[str]:
    """Every regular file below ``root`` (relative, sorted), lock files aside."""
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and ".groundfog-locks" not in p.parts
    )


def blob_paths(service: StorageService) -> list[str]:
    """What the backend holds, whichever backend it is."""
    backend = service.backend
    if hasattr(backend, "fs"):
        backend.fs.invalidate_cache()
        return sorted(p[len(backend.root) + 1 :] for p in backend.fs.find(backend.root))
    return files_under(backend.root)


@functools.cache
def s3_client(endpoint: str) -> Any:
    """A boto3 client for the test S3 server (made once: creating one is slow)."""
    import boto3

    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )


def settle(service: StorageService) -> None:
    """Let the retention of superseded versions pass, and collect them."""
    service.clock.advance(service.superseded_retention + 1)  # type: ignore[attr-defined]
    service.collect_garbage()
