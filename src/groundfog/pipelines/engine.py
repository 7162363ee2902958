"""The execution engine: one driver per running execution, advancing its steps.

Each tick reads the execution and its step rows, looks at the steps in flight, starts
the steps whose inputs are ready (at most ``MaxParallelExecutionSteps`` at once), and
ends the execution when nothing is running and nothing more can start. Every decision
is written to the state store before it is acted on, so a driver that resumes after a
crash (``kill -9`` of the server) picks up where the last one stopped: a step's job is
named before it is created and attached to, never started twice.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from groundfog.core.errors import GroundfogError, ResourceNotFound
from groundfog.core.times import iso_utc
from groundfog.pipelines import tables as t
from groundfog.pipelines.definition import CACHEABLE, JOB_STEPS, Definition, Step
from groundfog.pipelines.expressions import Scope, Unresolvable, evaluate, get_path, parse_path, resolve
from groundfog.pipelines.lineage import produced_uris, read_uris
from groundfog.pipelines.runners import Outcome, Runners, arguments_hash, job_name, with_default_outputs
from groundfog.training.uris import parse_s3_uri

if TYPE_CHECKING:
    from groundfog.pipelines.service import PipelinesService

log = logging.getLogger("groundfog.pipelines")

TICK = 0.2  # seconds between looks at running jobs
ACTIVE_STEP = ("Starting", "Executing")
ENDED_STEP = ("Succeeded", "Failed", "Stopped")
STEP_EVENT = "SageMaker Model Building Pipeline Execution Step Status Change"
EXECUTION_EVENT = "SageMaker Model Building Pipeline Execution Status Change"


class ExecutionDriver:
    """Drives the execution ``execution_id`` until it ends or this platform closes."""

    def __init__(self, service: "PipelinesService", execution_id: str) -> None:
        self.service = service
        self.id = execution_id
        self.runners = Runners(service)
        self.futures: dict[str, Future[Outcome]] = {}
        self.property_files: dict[tuple[str, str], Any] = {}
        self.resumed: set[str] = set()  # steps found in flight when this driver began
        self.execution: Any = None
        self.definition: Definition | None = None
        self.rows: dict[str, Any] = {}

    # -- the loop -------------------------------------------------------------------------

    def run(self) -> None:
        first = True
        try:
            while not self.service.closing.is_set():
                if not self._load():
                    return
                if first:
                    self.resumed = {n for n, r in self.rows.items() if r.status in ACTIVE_STEP}
                    first = False
                progressed, wait = self.tick()
                if self.execution.status not in ("Executing", "Stopping"):
                    return
                if not progressed:
                    self.service.wait_for_change(wait)
        except Exception as exc:  # noqa: BLE001 - an engine fault must end the execution, not strand it
            log.exception("pipeline execution %s: the engine failed", self.id)
            self._end("Failed", f"groundfog's pipeline engine failed: {type(exc).__name__}: {exc}")

    def _load(self) -> bool:
        with self.service.state.read() as conn:
            self.execution = conn.execute(sa.select(t.executions).where(t.executions.c.name == self.id)).first()
            rows = conn.execute(sa.select(t.steps).where(t.steps.c.execution == self.id)).all()
        if self.execution is None or self.execution.owner != self.service.owner:
            return False
        self.rows = {r.name: r for r in rows}
        if self.definition is None:
            self.definition = self.service.definition_of(self.execution.pipeline, self.execution.version)
        return self.execution.status in ("Executing", "Stopping")

    def tick(self) -> tuple[bool, float]:
        """One pass; returns (whether anything changed, how long to sleep otherwise)."""
        assert self.definition is not None
        now = self.service.clock.time()
        progressed = False
        wait = TICK
        stopping = self.execution.status == "Stopping"
        for name, row in list(self.rows.items()):
            if row.status not in ACTIVE_STEP:
                continue
            step = self.definition.steps[name]
            if stopping:
                progressed |= self._stop_step(step, row)
            elif row.status == "Starting":
                if row.not_before is not None and row.not_before > now:
                    wait = min(wait, row.not_before - now)
                    continue
                self._start(step, row.arguments, row.attempts, row.job_name)
                progressed = True
            else:
                outcome = self._poll(step, row)
                if outcome is not None:
                    self._finish(step, row, outcome)
                    progressed = True
        if progressed:
            return True, 0.0
        active = [r for r in self.rows.values() if r.status in ACTIVE_STEP]
        failed = [r for r in self.rows.values() if r.status == "Failed"]
        if stopping:
            if not active:
                self._end("Stopped", None)
            return False, wait
        if failed:
            if not active:
                first = min(failed, key=lambda r: r.ended_at or 0)
                reason = first.failure_reason or "the step failed"
                self._end("Failed", reason if first.type == "Fail" else f"Step {first.name} failed: {reason}")
            return False, wait
        ready = self._ready()
        room = max(0, self.execution.parallelism - len(active))
        for step in ready[:room]:
            self._launch(step)
            progressed = True
        if not progressed and not active:
            self._end("Succeeded", None)
        return progressed, wait

    def _ready(self) -> list[Any]:
        assert self.definition is not None
        ready = []
        for step in self.definition.steps.values():
            if step.name in self.rows:
                continue
            if not all(self.rows.get(up) is not None and self.rows[up].status == "Succeeded" for up in step.upstream):
                continue
            if step.branch is not None:
                condition = self.rows[step.branch[0]]
                if bool((condition.properties or {}).get("Outcome")) != step.branch[1]:
                    continue
            ready.append(step)
        return ready

    # -- starting steps ---------------------------------------------------------------------

    def _scope(self) -> Scope:
        ex = self.execution

        def properties(name: str) -> Any:
            row = self.rows.get(name)
            if row is None or row.status != "Succeeded":
                raise Unresolvable(f"step {name} has not succeeded")
            return row.properties

        return Scope(
            parameters=ex.parameters,
            execution={"PipelineExecutionId": ex.name, "PipelineExecutionArn": ex.arn, "PipelineName": ex.pipeline,
                       "PipelineArn": self.service.pipeline_arn(ex.pipeline), "StartDateTime": iso_utc(ex.created_at)},
            step_properties=properties,
            property_file=self._property_file,
            now=lambda: iso_utc(self.service.clock.time()) or "",
        )  # fmt: skip

    def _property_file(self, step_name: str, file_name: str) -> Any:
        key = (step_name, file_name)
        if key not in self.property_files:
            assert self.definition is not None
            output, path = self.definition.steps[step_name].property_files[file_name]
            row = self.rows.get(step_name)
            if row is None or row.status != "Succeeded":
                raise Unresolvable(f"step {step_name} has not succeeded")
            where = get_path(row.properties, parse_path(f"ProcessingOutputConfig.Outputs['{output}'].S3Output.S3Uri"))
            if not isinstance(where, str):
                raise Unresolvable(f"step {step_name} has no output {output!r}")
            uri = where.rstrip("/") + "/" + path.lstrip("/")
            bucket, object_key = parse_s3_uri(uri, f"PropertyFiles.{file_name}")
            try:
                body = self.service.storage.get_object_bytes(bucket, object_key)
                self.property_files[key] = json.loads(body)
            except ResourceNotFound:
                raise Unresolvable(f"property file {file_name} ({uri}) was not written by step {step_name}") from None
            except ValueError as exc:
                raise Unresolvable(f"property file {file_name} ({uri}) is not JSON: {exc}") from None
        return self.property_files[key]

    def _launch(self, step: Step) -> None:
        """Start a step that has no row yet: decide, or record the intent and start it."""
        now = self.service.clock.time()
        base = {"execution": self.id, "name": step.name, "type": step.type, "attempts": 1, "started_at": now,
                "seq": max((r.seq for r in self.rows.values()), default=-1) + 1, "properties": {}, "metadata": {}}  # fmt: skip
        scope = self._scope()
        try:
            if step.type == "Condition":
                outcome = all(evaluate(c, scope) for c in step.arguments["Conditions"])
                self._insert({**base, "status": "Succeeded", "ended_at": now, "properties": {"Outcome": outcome},
                              "metadata": {"Condition": {"Outcome": "True" if outcome else "False"}}})  # fmt: skip
                return
            arguments = resolve(step.arguments, scope)
        except (Unresolvable, ValueError) as exc:
            self._insert({**base, "status": "Failed", "ended_at": now, "failure_reason": str(exc)})
            return
        if step.type == "Fail":
            message = arguments.get("ErrorMessage")
            message = message if isinstance(message, str) else json.dumps(message)
            self._insert({**base, "status": "Failed", "ended_at": now, "arguments": arguments,
                          "failure_reason": message, "metadata": {"Fail": {"ErrorMessage": message}}})  # fmt: skip
            return
        digest = arguments_hash(step, arguments)
        if step.type in CACHEABLE and step.cache_seconds is not None:
            hit = self.service.cached_step(self.execution.pipeline, step.name, digest, step.cache_seconds)
            if hit is not None:
                self._insert({**base, "status": "Succeeded", "ended_at": now, "arguments": arguments, "args_hash": digest,
                              "cache_source": hit.execution_arn, "properties": hit.properties, "metadata": hit.metadata})  # fmt: skip
                return
        if step.type in JOB_STEPS:
            arguments = with_default_outputs(step, arguments, self.execution.pipeline, digest)
        name = job_name(self.id, step.name, 1) if step.type in (*JOB_STEPS, "Model") else None
        self._insert({**base, "status": "Starting", "arguments": arguments, "args_hash": digest, "job_name": name})
        self._start(step, arguments, 1, name)

    def _start(self, step: Step, arguments: Any, attempt: int, name: str | None) -> None:
        """Do a recorded step's work (again, after a crash: idempotently)."""
        try:
            if step.type in JOB_STEPS:
                assert name is not None
                arn = self.runners.create_job(step, name, arguments, self._tags(step))
                metadata = {{"Processing": "ProcessingJob", "Training": "TrainingJob", "Tuning": "TuningJob"}[step.type]: {"Arn": arn}}
                self._update(step.name, status="Executing", metadata=metadata)
                self.service.record_lineage(self.id, step.name, "Read", read_uris(step.type, arguments))
                self._emit_step(step.name, "Executing", "Starting", metadata)
            elif step.type == "Model":
                assert name is not None
                self._finish(step, self.rows.get(step.name), self.runners.create_model(name, arguments))
            elif step.type == "RegisterModel":
                lineage = {"PipelineExecutionArn": self.execution.arn, "PipelineStepName": step.name,
                           **self._training_lineage(arguments)}  # fmt: skip
                outcome = self.runners.register_model(arguments, lineage, resumed=step.name in self.resumed)
                self._finish(step, self.rows.get(step.name), outcome)
            elif step.type == "Lambda":
                self.futures[step.name] = self.service.submit(self.runners.call_function, step, arguments)
                self._update(step.name, status="Executing")
            elif step.type == "Callback":
                self._start_callback(step, arguments)
        except GroundfogError as exc:
            self._finish(step, self.rows.get(step.name), Outcome("Failed", failure_reason=f"{exc.code}: {exc}"))

    def _start_callback(self, step: Step, arguments: Any) -> None:
        token = uuid.uuid4().hex
        self._update(step.name, status="Executing", callback_token=token,
                     metadata={"Callback": {"CallbackToken": token}})  # fmt: skip
        message = {"token": token, "pipelineExecutionArn": self.execution.arn, "stepName": step.name,
                   "arguments": arguments, "status": "Executing"}  # fmt: skip
        self.service.announce_callback(step.raw.get("TopicArn"), message)

    def _tags(self, step: Step) -> list[dict[str, str]]:
        return [{"Key": "sagemaker:pipeline-execution-arn", "Value": self.execution.arn},
                {"Key": "sagemaker:pipeline-step-name", "Value": step.name}]  # fmt: skip

    def _training_lineage(self, arguments: Any) -> dict[str, str]:
        """The training job whose model a RegisterModel step registers, when one of this
        execution's steps produced it."""
        # Resolved arguments: any JSON at all until the registry has checked them.
        spec = arguments.get("InferenceSpecification")
        containers = spec.get("Containers") if isinstance(spec, dict) else None
        urls = [c.get("ModelDataUrl") for c in containers if isinstance(c, dict)] if isinstance(containers, list) else []
        for row in self.rows.values():
            artifacts = (row.properties or {}).get("ModelArtifacts", {}).get("S3ModelArtifacts")
            if row.type == "Training" and artifacts in urls:
                return {"TrainingJobArn": row.properties.get("TrainingJobArn", "")}
        return {}

    # -- steps in flight ----------------------------------------------------------------------

    def _poll(self, step: Step, row: Any) -> Outcome | None:
        if step.type in JOB_STEPS:
            return self.runners.poll_job(step, row.job_name)
        if step.type == "Lambda":
            future = self.futures.get(step.name)
            if future is None:  # the driver that started it is gone: run it again
                self.futures[step.name] = self.service.submit(self.runners.call_function, step, row.arguments)
                return None
            if not future.done():
                return None
            del self.futures[step.name]
            return future.result()
        return None  # Callback: SendPipelineExecutionStep* writes the row

    def _stop_step(self, step: Step, row: Any) -> bool:
        if step.type in JOB_STEPS and row.status == "Executing":
            self.runners.stop_job(step, row.job_name)
            outcome = self.runners.poll_job(step, row.job_name)
            if outcome is None:
                return False
            outcome = Outcome("Stopped", outcome.properties, outcome.metadata, "the execution was stopped")
        else:
            outcome = Outcome("Stopped", failure_reason="the execution was stopped")
        self.futures.pop(step.name, None)
        self._finish(step, row, outcome, retry=False)
        return True

    def _finish(self, step: Step, row: Any, outcome: Outcome, *, retry: bool = True) -> None:
        now = self.service.clock.time()
        attempts = row.attempts if row is not None else 1
        if outcome.status == "Failed" and retry and self._retries(step, row, outcome, attempts, now):
            return
        metadata = {**(row.metadata if row is not None else {}), **outcome.metadata}
        self._update(step.name, status=outcome.status, ended_at=now, properties=outcome.properties,
                     metadata=metadata, failure_reason=outcome.failure_reason, not_before=None)  # fmt: skip
        if outcome.status == "Succeeded":
            self.service.record_lineage(self.id, step.name, "Produced", produced_uris(step.type, outcome.properties))
            if step.type in CACHEABLE and step.cache_seconds is not None and row is not None and row.args_hash:
                self.service.remember_step(self.execution.pipeline, step.name, row.args_hash, self.execution.arn,
                                           outcome.properties, metadata)  # fmt: skip
        self._emit_step(step.name, outcome.status, row.status if row is not None else "Executing", metadata,
                        outcome.failure_reason)  # fmt: skip

    def _retries(self, step: Step, row: Any, outcome: Outcome, attempts: int, now: float) -> bool:
        """Schedule another attempt if a retry policy covers this failure."""
        for policy in step.retry_policies:
            if outcome.exception_type not in policy.exception_types:
                continue
            if policy.max_attempts is not None and attempts >= policy.max_attempts:
                return False
            first_started = row.started_at if row is not None else now
            if policy.expire_after_minutes is not None and now - first_started >= policy.expire_after_minutes * 60:
                return False
            delay = policy.delay(attempts)
            name = job_name(self.id, step.name, attempts + 1) if row is not None and row.job_name else None
            self._update(step.name, status="Starting", attempts=attempts + 1, not_before=now + delay, job_name=name,
                         failure_reason=f"attempt {attempts} failed: {outcome.failure_reason}")  # fmt: skip
            log.info("pipeline %s step %s: attempt %d failed, retrying in %.1fs", self.id, step.name, attempts, delay)
            return True
        return False

    # -- rows and events --------------------------------------------------------------------

    def _insert(self, values: dict[str, Any]) -> None:
        values.setdefault("metadata", {})
        with self.service.state.write() as conn:
            conn.execute(t.steps.insert().values(**values))
            row = conn.execute(sa.select(t.steps).where(t.steps.c.execution == self.id,
                                                       t.steps.c.name == values["name"])).one()  # fmt: skip
        self.rows[row.name] = row
        if row.status in ENDED_STEP:
            if row.status == "Succeeded":
                self.service.record_lineage(self.id, row.name, "Produced", produced_uris(row.type, row.properties))
            self._emit_step(row.name, row.status, None, row.metadata, row.failure_reason)

    def _update(self, name: str, **values: Any) -> None:
        with self.service.state.write() as conn:
            conn.execute(t.steps.update().where(t.steps.c.execution == self.id, t.steps.c.name == name).values(**values))
            row = conn.execute(sa.select(t.steps).where(t.steps.c.execution == self.id, t.steps.c.name == name)).one()
        self.rows[name] = row

    def _end(self, status: str, reason: str | None) -> None:
        now = self.service.clock.time()
        with self.service.state.write() as conn:
            done = conn.execute(
                t.executions.update()
                .where(t.executions.c.name == self.id, t.executions.c.status.in_(("Executing", "Stopping")))
                .values(status=status, failure_reason=reason, ended_at=now, modified_at=now)
            )
        if done.rowcount:
            previous = self.execution.status if self.execution is not None else "Executing"
            self.service.emit_execution_change(self.id, previous)
        self.service.changed()

    def _emit_step(self, name: str, status: str, previous: str | None, metadata: Any, reason: str | None = None) -> None:
        detail = {"pipelineExecutionArn": self.execution.arn, "stepName": name, "currentStepStatus": status,
                  "previousStepStatus": previous, "metadata": metadata or {}}  # fmt: skip
        if reason:
            detail["failureReason"] = reason
        self.service.emit(STEP_EVENT, detail, [self.execution.arn])
        self.service.changed()


def cache_fresh(succeeded_at: float, expire_seconds: float, now: float) -> bool:
    return math.isinf(expire_seconds) or now - succeeded_at <= expire_seconds
