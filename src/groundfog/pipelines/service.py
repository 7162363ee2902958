"""The pipelines service (SageMaker Pipelines): definitions with versions, executions
driven by the engine, step caching, retries, callbacks, and pipelines as event targets.

>>> p.pipelines.upsert_pipeline(pipeline_name="retrain", pipeline_definition=definition)  # doctest: +SKIP
{'PipelineArn': 'arn:groundfog:pipelines:local:000000000000:pipeline/retrain', 'PipelineVersionId': 1}
>>> p.pipelines.start_pipeline_execution(pipeline_name="retrain",
...     pipeline_parameters=[{"Name": "InputDataUrl", "Value": "s3://data/in.csv"}])  # doctest: +SKIP
{'PipelineExecutionArn': 'arn:groundfog:pipelines:local:000000000000:pipeline/retrain/execution/0a1b2c3d4e5f'}
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa

from groundfog.core.driven import DrivenService
from groundfog.core.errors import GroundfogError, PayloadTooLarge, ResourceNotFound
from groundfog.core.names import arn
from groundfog.pipelines import tables as t
from groundfog.pipelines.definition import Definition, parse_definition
from groundfog.core.times import iso_utc
from groundfog.pipelines.engine import EXECUTION_EVENT, ExecutionDriver, cache_fresh
from groundfog.pipelines.execution_ops import ExecutionOperations
from groundfog.pipelines.limits import shortened
from groundfog.pipelines.pipeline_ops import PipelineOperations
from groundfog.pipelines.triggers import start_from_event
from groundfog.training.uris import parse_s3_uri

log = logging.getLogger("groundfog.pipelines")


class PipelinesService(PipelineOperations, ExecutionOperations, DrivenService):
    """``platform.pipelines``: SageMaker Pipelines' operations, with the same names."""

    name = "pipelines"
    table = t.executions
    active_statuses = ("Executing", "Stopping")
    terminal_statuses = ("Succeeded", "Failed", "Stopped")
    heartbeat_seconds = 2.0

    def __init__(self, *, config, state, clock, storage, training, processing, tuning, registry, events) -> None:  # type: ignore[no-untyped-def]
        super().__init__(config=config, state=state, clock=clock)
        self.storage, self.training, self.processing, self.tuning = storage, training, processing, tuning
        self.registry, self.events = registry, events
        self._definitions: dict[tuple[str, int], Definition] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        events.register_target_type("pipelines", "pipeline", self._start_from_event, self._pipeline_exists)

    def _driver(self, name: str) -> Callable[[], None]:
        return ExecutionDriver(self, name).run

    # -- what the engine uses -------------------------------------------------------------

    def definition_of(self, pipeline: str, version: int) -> Definition:
        key = (pipeline, int(version))
        if key not in self._definitions:
            with self.state.read() as conn:
                document = conn.execute(sa.select(t.versions.c.definition).where(
                    t.versions.c.pipeline == pipeline, t.versions.c.version == int(version))).scalar()  # fmt: skip
            if document is None:
                raise ResourceNotFound(f"Pipeline {pipeline} has no version {version}", field="PipelineVersionId")
            self._definitions[key] = parse_definition(document)
        return self._definitions[key]

    @staticmethod
    def pipeline_arn(name: str) -> str:
        return arn("pipelines", "pipeline", name)

    def execution_arn(self, pipeline: str, execution_id: str) -> str:
        return f"{self.pipeline_arn(pipeline)}/execution/{execution_id}"

    def cached_step(self, pipeline: str, step: str, digest: str, expire_seconds: float) -> Any:
        c = t.step_cache.c
        with self.state.read() as conn:
            hit = conn.execute(sa.select(t.step_cache).where(c.pipeline == pipeline, c.step == step, c.args_hash == digest)
                               .order_by(c.succeeded_at.desc()).limit(1)).first()  # fmt: skip
        return hit if hit is not None and cache_fresh(hit.succeeded_at, expire_seconds, self.clock.time()) else None

    def remember_step(self, pipeline: str, step: str, digest: str, execution_arn: str, properties: Any,
                      metadata: Any) -> None:  # fmt: skip
        with self.state.write() as conn:
            conn.execute(t.step_cache.insert().values(
                pipeline=pipeline, step=step, args_hash=digest, execution_arn=execution_arn, properties=properties,
                metadata=metadata, succeeded_at=self.clock.time()))  # fmt: skip

    def record_lineage(self, execution_id: str, step: str, direction: str, uris: list[tuple[str, str]]) -> None:
        if not uris:
            return
        now = self.clock.time()
        rows = [{"execution": execution_id, "step": step, "direction": direction, "kind": kind, "uri": uri,
                 "etag": self._etag(uri) if direction == "Read" else None, "recorded_at": now} for kind, uri in uris]  # fmt: skip
        with self.state.write() as conn:
            conn.execute(t.lineage.insert(), rows)

    def _etag(self, uri: str) -> str | None:
        try:
            bucket, key = parse_s3_uri(uri, "S3Uri")
            if not key or key.endswith("/"):
                return None
            return self.storage.head_object(bucket, key).etag
        except (GroundfogError, AttributeError):
            return None  # a prefix, not one object

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(4, thread_name_prefix="groundfog-pipelines-fn")
            future = self._pool.submit(fn, *args)
        future.add_done_callback(lambda _: self.changed())
        return future

    def announce_callback(self, topic_arn: str | None, message: dict[str, Any]) -> None:
        """Tell the outside world a Callback step waits: on its topic, and as an event."""
        self.emit("SageMaker Model Building Pipeline Execution Step Callback", message, [message["pipelineExecutionArn"]])
        if topic_arn:
            self.events.topics.publish(topic_arn, json.dumps(message))

    def emit(self, detail_type: str, detail: dict[str, Any], resources: list[str]) -> None:
        try:
            try:
                self.events.emit("aws.sagemaker", detail_type, detail, resources=resources)
            except PayloadTooLarge:
                # A huge failure reason (a Fail step's message) or callback argument: the
                # event carries the start of each long text; the execution's record, all of it.
                self.events.emit("aws.sagemaker", detail_type, shortened(detail), resources=resources)
        except Exception:  # noqa: BLE001 - the execution's record stands; the event is a notification
            log.exception("could not emit %s", detail_type)

    def emit_execution_change(self, execution_id: str, previous: str | None) -> None:
        row = self._execution_row(execution_id)
        detail = {"pipelineArn": self.pipeline_arn(row.pipeline), "pipelineExecutionArn": row.arn,
                  "pipelineExecutionDisplayName": row.display_name or row.name,
                  "currentPipelineExecutionStatus": row.status, "previousPipelineExecutionStatus": previous,
                  "executionStartTime": iso_utc(row.created_at), "executionEndTime": iso_utc(row.ended_at),
                  "pipelineExecutionDescription": row.description, "failureReason": row.failure_reason}  # fmt: skip
        self.emit(EXECUTION_EVENT, {k: v for k, v in detail.items() if v is not None}, [row.arn])

    # -- rows and targets ---------------------------------------------------------------

    def _pipeline_row(self, name: str) -> Any:
        name = name.rsplit(":pipeline/", 1)[-1] if isinstance(name, str) else name
        with self.state.read() as conn:
            row = conn.execute(sa.select(t.pipelines).where(t.pipelines.c.name == name)).first()
        if row is None:
            raise ResourceNotFound(f"Pipeline {name} does not exist", field="PipelineName")
        return row

    def _execution_row(self, reference: str) -> Any:
        """An execution by its ARN (or its id)."""
        execution_id = reference.rsplit("/execution/", 1)[-1] if isinstance(reference, str) else ""
        with self.state.read() as conn:
            row = conn.execute(sa.select(t.executions).where(t.executions.c.name == execution_id)).first()
        if row is None:
            raise ResourceNotFound(f"Pipeline execution {reference} does not exist", field="PipelineExecutionArn")
        return row

    def _pipeline_exists(self, target_arn: str) -> bool:
        try:
            self._pipeline_row(target_arn)
        except ResourceNotFound:
            return False
        return True

    def _start_from_event(self, target_arn: str, payload: Any) -> None:
        start_from_event(self, target_arn, payload)

    def close(self) -> None:
        super().close()
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)


