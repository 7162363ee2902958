"""The pipelines service (SageMaker Pipelines): definitions with versions, executions
driven by the engine, step caching, retries, callbacks, and pipelines as event targets.

>>> p.pipelines.upsert_pipeline(pipeline_name="retrain", pipeline_definition=definition)  # doctest: +SKIP
{'PipelineArn': 'arn:groundfog:pipelines:local:000000000000:pipeline/retrain', 'PipelineVersionId': 1}
>>> p.pipelines.start_pipeline_execution(pipeline_name="retrain",
...     pipeline_parameters=[{"Name": "InputDataUrl", "Value": "s3://data/in.csv"}])  # doctest: +SKIP
{'PipelineExecutionArn': 'arn:groundfog:pipelines:local:000000000000:pipeline/retrain/execution/0a1b2c3d4e5f'}
"""

from __future__ import annotations

import inspect
import json
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa

from groundfog.core.driven import DrivenService
from groundfog.core.errors import AlreadyExists, GroundfogError, ResourceInUse, ResourceNotFound, ValidationError
from groundfog.core.names import arn, validate_name
from groundfog.core.service import operation
from groundfog.core.times import utc_datetime
from groundfog.pipelines import tables as t
from groundfog.pipelines.definition import Definition, coerce_parameter, load_document, parse_definition
from groundfog.pipelines.engine import EXECUTION_EVENT, ExecutionDriver, cache_fresh, iso
from groundfog.pipelines.runners import IGNORED_KEYS, output_parameters as pick_outputs, snake
from groundfog.pipelines.triggers import start_from_event

log = logging.getLogger("groundfog.pipelines")

PIPELINE_NAME_MAX = 256
MAX_VERSION = 2**31 - 1
DEFAULT_PARALLELISM = 50
EXECUTION_STATUSES = ("Executing", "Stopping", "Stopped", "Failed", "Succeeded")


class PipelinesService(DrivenService):
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

    # -- pipelines ----------------------------------------------------------------------

    @operation
    def create_pipeline(
        self, pipeline_name: str, pipeline_definition: str | dict[str, Any], pipeline_description: str | None = None,
        pipeline_display_name: str | None = None, role_arn: str | None = None,
        parallelism_configuration: dict[str, Any] | None = None, tags: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """CreatePipeline: the definition is checked whole (cycles, references, types) first."""
        return self._save(pipeline_name, pipeline_definition, pipeline_description, pipeline_display_name, role_arn,
                          parallelism_configuration, tags, mode="create")  # fmt: skip

    @operation
    def update_pipeline(
        self, pipeline_name: str, pipeline_definition: str | dict[str, Any], pipeline_description: str | None = None,
        pipeline_display_name: str | None = None, role_arn: str | None = None,
        parallelism_configuration: dict[str, Any] | None = None, tags: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """UpdatePipeline: a new version when the definition changed; running executions keep theirs."""
        return self._save(pipeline_name, pipeline_definition, pipeline_description, pipeline_display_name, role_arn,
                          parallelism_configuration, tags, mode="update")  # fmt: skip

    @operation
    def upsert_pipeline(
        self, pipeline_name: str, pipeline_definition: str | dict[str, Any], pipeline_description: str | None = None,
        pipeline_display_name: str | None = None, role_arn: str | None = None,
        parallelism_configuration: dict[str, Any] | None = None, tags: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Create the pipeline, or update it (the SDK's ``pipeline.upsert()``)."""
        return self._save(pipeline_name, pipeline_definition, pipeline_description, pipeline_display_name, role_arn,
                          parallelism_configuration, tags, mode="upsert")  # fmt: skip

    def _save(self, name: str, definition: Any, description: str | None, display_name: str | None,
              role_arn: str | None, parallelism: dict[str, Any] | None, tags: Any, *, mode: str) -> dict[str, Any]:  # fmt: skip
        validate_name(name, "PipelineName", max_length=PIPELINE_NAME_MAX)
        document = load_document(definition)
        parsed = parse_definition(document)
        self._check_steps(parsed)
        limit = _parallelism(parallelism, "ParallelismConfiguration")
        if tags is not None and not isinstance(tags, list):
            raise ValidationError("Tags must be a list of {Key, Value}", field="Tags")
        now = self.clock.time()
        with self.state.write() as conn:
            row = conn.execute(sa.select(t.pipelines).where(t.pipelines.c.name == name)).first()
            if row is None and mode == "update":
                raise ResourceNotFound(f"Pipeline {name} does not exist", field="PipelineName")
            if row is not None and mode == "create":
                raise AlreadyExists(f"Pipeline {name} already exists; use update_pipeline or upsert_pipeline",
                                    field="PipelineName")  # fmt: skip
            version = 1 if row is None else row.version
            if row is None:
                conn.execute(t.pipelines.insert().values(
                    name=name, arn=self.pipeline_arn(name), display_name=display_name, description=description,
                    role_arn=role_arn, parallelism=limit and {"MaxParallelExecutionSteps": limit}, tags=tags or [],
                    version=1, created_at=now, modified_at=now))  # fmt: skip
                conn.execute(t.versions.insert().values(pipeline=name, version=1, definition=document, created_at=now))
            else:
                current = conn.execute(sa.select(t.versions.c.definition).where(
                    t.versions.c.pipeline == name, t.versions.c.version == row.version)).scalar_one()  # fmt: skip
                if current != document:
                    version += 1
                    conn.execute(t.versions.insert().values(pipeline=name, version=version, definition=document,
                                                            created_at=now))  # fmt: skip
                conn.execute(t.pipelines.update().where(t.pipelines.c.name == name).values(
                    version=version, modified_at=now,
                    description=description if description is not None else row.description,
                    display_name=display_name if display_name is not None else row.display_name,
                    role_arn=role_arn if role_arn is not None else row.role_arn,
                    parallelism={"MaxParallelExecutionSteps": limit} if limit else row.parallelism,
                    tags=tags if tags is not None else row.tags))  # fmt: skip
        self._definitions[(name, version)] = parsed
        return {"PipelineArn": self.pipeline_arn(name), "PipelineVersionId": version}

    def _check_steps(self, definition: Definition) -> None:
        """What only the platform knows: functions exist, job arguments are ones the job takes."""
        creators = {"Processing": self.processing.create_processing_job, "Training": self.training.create_training_job,
                    "Tuning": self.tuning.create_hyper_parameter_tuning_job, "Model": self.registry.create_model,
                    "RegisterModel": self.registry.create_model_package}  # fmt: skip
        # The engine names jobs and models, and records a registered version's lineage itself.
        engine_set = {"processing_job_name", "training_job_name", "hyper_parameter_tuning_job_name", "model_name",
                      "lineage"}  # fmt: skip
        for step in definition.steps.values():
            if step.type in creators:
                accepted = set(inspect.signature(creators[step.type]).parameters) - engine_set
                unknown = [k for k in step.arguments if k not in IGNORED_KEYS and snake(k) not in accepted]
                if unknown:
                    raise ValidationError(f"step {step.name!r} ({step.type}) has arguments it does not take: {unknown}",
                                          field=f"{step.name}.Arguments")  # fmt: skip
            if step.type == "Lambda":
                try:
                    self.events.get_function(name=step.raw["FunctionArn"])
                except ResourceNotFound:
                    raise ValidationError(f"step {step.name!r}: function {step.raw['FunctionArn']} does not exist",
                                          field=f"{step.name}.FunctionArn") from None  # fmt: skip
            if step.type == "Callback" and step.raw.get("TopicArn"):
                self.events.check_target(step.raw["TopicArn"], allowed_types=("topic",))

    @operation
    def describe_pipeline(self, pipeline_name: str, pipeline_version_id: int | None = None) -> dict[str, Any]:
        """DescribePipeline (of a given version: ``pipeline_version_id``)."""
        row = self._pipeline_row(pipeline_name)
        version = row.version if pipeline_version_id is None else _version_id(pipeline_version_id)
        with self.state.read() as conn:
            document = conn.execute(sa.select(t.versions.c.definition).where(
                t.versions.c.pipeline == row.name, t.versions.c.version == version)).scalar()  # fmt: skip
        if document is None:
            raise ResourceNotFound(f"Pipeline {pipeline_name} has no version {version}", field="PipelineVersionId")
        described = {
            "PipelineArn": row.arn, "PipelineName": row.name, "PipelineDisplayName": row.display_name or row.name,
            "PipelineDefinition": json.dumps(document), "PipelineDescription": row.description,
            "RoleArn": row.role_arn, "PipelineStatus": "Active", "CreationTime": utc_datetime(row.created_at),
            "LastModifiedTime": utc_datetime(row.modified_at), "LastRunTime": utc_datetime(row.last_run_at),
            "ParallelismConfiguration": row.parallelism, "PipelineVersionId": version,
        }  # fmt: skip
        return {k: v for k, v in described.items() if v is not None}

    @operation
    def list_pipelines(self, pipeline_name_prefix: str | None = None, max_results: int = 100) -> dict[str, Any]:
        query = sa.select(t.pipelines).order_by(t.pipelines.c.created_at.desc()).limit(max(1, min(int(max_results), 1000)))
        if pipeline_name_prefix:
            query = query.where(t.pipelines.c.name.startswith(pipeline_name_prefix, autoescape=True))
        with self.state.read() as conn:
            rows = conn.execute(query).all()
        return {"PipelineSummaries": [
            {"PipelineArn": r.arn, "PipelineName": r.name, "PipelineDisplayName": r.display_name or r.name,
             "PipelineDescription": r.description, "CreationTime": utc_datetime(r.created_at),
             "LastModifiedTime": utc_datetime(r.modified_at), "LastExecutionTime": utc_datetime(r.last_run_at)}
            for r in rows]}  # fmt: skip

    @operation
    def list_pipeline_versions(self, pipeline_name: str) -> dict[str, Any]:
        row = self._pipeline_row(pipeline_name)
        with self.state.read() as conn:
            rows = conn.execute(sa.select(t.versions.c.version, t.versions.c.created_at)
                                .where(t.versions.c.pipeline == row.name).order_by(t.versions.c.version.desc())).all()  # fmt: skip
        return {"PipelineVersionSummaries": [
            {"PipelineArn": row.arn, "PipelineVersionId": v.version, "CreationTime": utc_datetime(v.created_at)}
            for v in rows]}  # fmt: skip

    @operation
    def delete_pipeline(self, pipeline_name: str) -> dict[str, Any]:
        """DeletePipeline; refused while an execution of it runs (stop it first)."""
        row = self._pipeline_row(pipeline_name)
        with self.state.write() as conn:
            running = conn.execute(sa.select(t.executions.c.name).where(
                t.executions.c.pipeline == row.name, t.executions.c.status.in_(self.active_statuses))).first()  # fmt: skip
            if running is not None:
                raise ResourceInUse(f"Pipeline {row.name} has a running execution ({running.name}); stop it first",
                                    field="PipelineName")  # fmt: skip
            ids = sa.select(t.executions.c.name).where(t.executions.c.pipeline == row.name)
            conn.execute(t.steps.delete().where(t.steps.c.execution.in_(ids)))
            conn.execute(t.lineage.delete().where(t.lineage.c.execution.in_(ids)))
            conn.execute(t.executions.delete().where(t.executions.c.pipeline == row.name))
            conn.execute(t.step_cache.delete().where(t.step_cache.c.pipeline == row.name))
            conn.execute(t.versions.delete().where(t.versions.c.pipeline == row.name))
            conn.execute(t.pipelines.delete().where(t.pipelines.c.name == row.name))
        return {"PipelineArn": row.arn}

    # -- executions ---------------------------------------------------------------------

    @operation
    def start_pipeline_execution(
        self, pipeline_name: str, pipeline_parameters: list[dict[str, Any]] | dict[str, Any] | None = None,
        pipeline_execution_display_name: str | None = None, pipeline_execution_description: str | None = None,
        parallelism_configuration: dict[str, Any] | None = None, client_request_token: str | None = None,
        pipeline_version_id: int | None = None,
    ) -> dict[str, Any]:
        """StartPipelineExecution: parameters are checked (names, types, required ones) first."""
        self._ensure_reconciled()
        row = self._pipeline_row(pipeline_name)
        version = row.version if pipeline_version_id is None else _version_id(pipeline_version_id)
        definition = self.definition_of(row.name, version)
        values = self._parameter_values(definition, pipeline_parameters)
        limit = _parallelism(parallelism_configuration, "ParallelismConfiguration") or \
            (row.parallelism or {}).get("MaxParallelExecutionSteps") or DEFAULT_PARALLELISM
        now = self.clock.time()
        execution_id = uuid.uuid4().hex[:12]
        with self.state.write() as conn:
            if client_request_token:
                earlier = conn.execute(sa.select(t.executions.c.arn).where(
                    t.executions.c.pipeline == row.name, t.executions.c.request_token == client_request_token)).first()  # fmt: skip
                if earlier is not None:
                    return {"PipelineExecutionArn": earlier.arn}
            conn.execute(t.executions.insert().values(
                name=execution_id, pipeline=row.name, arn=self.execution_arn(row.name, execution_id), version=version,
                status="Executing", display_name=pipeline_execution_display_name,
                description=pipeline_execution_description, parameters=values, parallelism=int(limit),
                request_token=client_request_token, owner=self.owner, heartbeat_at=now, created_at=now,
                modified_at=now))  # fmt: skip
            conn.execute(t.pipelines.update().where(t.pipelines.c.name == row.name).values(last_run_at=now))
        self.record_lineage(execution_id, "", "Read",
                            [("Parameter", v) for v in values.values() if isinstance(v, str) and v.startswith("s3://")])
        self.emit_execution_change(execution_id, None)
        self._drive(execution_id)
        return {"PipelineExecutionArn": self.execution_arn(row.name, execution_id)}

    def _parameter_values(self, definition: Definition, given: Any) -> dict[str, Any]:
        if given is None:
            given = []
        if isinstance(given, dict):
            given = [{"Name": k, "Value": v} for k, v in given.items()]
        if not isinstance(given, list):
            raise ValidationError("PipelineParameters must be a list of {Name, Value}", field="PipelineParameters")
        values: dict[str, Any] = {}
        for i, item in enumerate(given):
            where = f"PipelineParameters[{i}]"
            if not isinstance(item, dict) or not isinstance(item.get("Name"), str) or "Value" not in item:
                raise ValidationError(f"{where} must be {{Name, Value}}", field=where)
            name = item["Name"]
            spec = definition.parameters.get(name)
            if spec is None:
                raise ValidationError(f"{where}: the pipeline has no parameter {name!r}; it has: "
                                      f"{', '.join(definition.parameters) or 'none'}", field=where)  # fmt: skip
            values[name] = coerce_parameter(name, spec.type, item["Value"], where)
            if spec.enum_values and values[name] not in spec.enum_values:
                raise ValidationError(f"{where}: {name} must be one of {list(spec.enum_values)}", field=where)
        missing = [p.name for p in definition.parameters.values() if p.required and p.name not in values]
        if missing:
            raise ValidationError(f"missing required parameters (no default): {', '.join(missing)}",
                                  field="PipelineParameters")  # fmt: skip
        for p in definition.parameters.values():
            values.setdefault(p.name, p.default)
        return values

    @operation
    def describe_pipeline_execution(self, pipeline_execution_arn: str) -> dict[str, Any]:
        self._ensure_reconciled()
        return self._describe_execution(self._execution_row(pipeline_execution_arn))

    def _describe_execution(self, row: Any) -> dict[str, Any]:
        described = {
            "PipelineArn": self.pipeline_arn(row.pipeline), "PipelineExecutionArn": row.arn,
            "PipelineExecutionDisplayName": row.display_name or row.name, "PipelineExecutionStatus": row.status,
            "PipelineExecutionDescription": row.description, "FailureReason": row.failure_reason,
            "CreationTime": utc_datetime(row.created_at), "LastModifiedTime": utc_datetime(row.modified_at),
            "EndTime": utc_datetime(row.ended_at), "PipelineVersionId": row.version,
            "ParallelismConfiguration": {"MaxParallelExecutionSteps": row.parallelism},
            "PipelineParameters": [{"Name": k, "Value": _text(v)} for k, v in row.parameters.items()],
        }  # fmt: skip
        return {k: v for k, v in described.items() if v is not None}

    @operation
    def list_pipeline_executions(self, pipeline_name: str, max_results: int = 100,
                                 sort_order: str = "Descending") -> dict[str, Any]:  # fmt: skip
        row = self._pipeline_row(pipeline_name)
        order = t.executions.c.created_at.asc() if sort_order == "Ascending" else t.executions.c.created_at.desc()
        with self.state.read() as conn:
            rows = conn.execute(sa.select(t.executions).where(t.executions.c.pipeline == row.name).order_by(order)
                                .limit(max(1, min(int(max_results), 1000)))).all()  # fmt: skip
        return {"PipelineExecutionSummaries": [
            {k: v for k, v in {"PipelineExecutionArn": r.arn, "StartTime": utc_datetime(r.created_at),
                               "PipelineExecutionStatus": r.status, "PipelineExecutionDisplayName": r.display_name or r.name,
                               "PipelineExecutionFailureReason": r.failure_reason}.items() if v is not None}
            for r in rows]}  # fmt: skip

    @operation
    def list_pipeline_execution_steps(self, pipeline_execution_arn: str, sort_order: str = "Descending") -> dict[str, Any]:
        """ListPipelineExecutionSteps: each started step with its status, job, cache hit and attempts."""
        self._ensure_reconciled()
        execution = self._execution_row(pipeline_execution_arn)
        definition = self.definition_of(execution.pipeline, execution.version)
        order = t.steps.c.seq.asc() if sort_order == "Ascending" else t.steps.c.seq.desc()
        with self.state.read() as conn:
            rows = conn.execute(sa.select(t.steps).where(t.steps.c.execution == execution.name).order_by(order)).all()
        listed = []
        for r in rows:
            step = definition.steps.get(r.name)
            item = {"StepName": r.name, "StepDisplayName": step.display_name if step else None,
                    "StepDescription": step.raw.get("Description") if step else None, "StepType": r.type,
                    "StepStatus": r.status, "StartTime": utc_datetime(r.started_at), "EndTime": utc_datetime(r.ended_at),
                    "FailureReason": r.failure_reason, "AttemptCount": r.attempts, "Metadata": r.metadata or {},
                    "CacheHitResult": {"SourcePipelineExecutionArn": r.cache_source} if r.cache_source else None}  # fmt: skip
            listed.append({k: v for k, v in item.items() if v is not None})
        return {"PipelineExecutionSteps": listed}

    @operation
    def list_pipeline_parameters_for_execution(self, pipeline_execution_arn: str) -> dict[str, Any]:
        row = self._execution_row(pipeline_execution_arn)
        return {"PipelineParameters": [{"Name": k, "Value": _text(v)} for k, v in row.parameters.items()]}

    @operation
    def describe_pipeline_definition_for_execution(self, pipeline_execution_arn: str) -> dict[str, Any]:
        row = self._execution_row(pipeline_execution_arn)
        with self.state.read() as conn:
            version = conn.execute(sa.select(t.versions).where(
                t.versions.c.pipeline == row.pipeline, t.versions.c.version == row.version)).one()  # fmt: skip
        return {"PipelineDefinition": json.dumps(version.definition), "CreationTime": utc_datetime(version.created_at)}

    @operation
    def list_pipeline_execution_lineage(self, pipeline_execution_arn: str) -> dict[str, Any]:
        """What the execution read (inputs, with their ETag when one object) and what each step produced."""
        self._ensure_reconciled()
        row = self._execution_row(pipeline_execution_arn)
        with self.state.read() as conn:
            rows = conn.execute(sa.select(t.lineage).where(t.lineage.c.execution == row.name)
                                .order_by(t.lineage.c.id)).all()  # fmt: skip
        return {"LineageEntries": [
            {k: v for k, v in {"StepName": r.step or None, "Direction": r.direction, "Kind": r.kind, "Uri": r.uri,
                               "ETag": r.etag, "RecordedTime": utc_datetime(r.recorded_at)}.items() if v is not None}
            for r in rows]}  # fmt: skip

    @operation
    def stop_pipeline_execution(self, pipeline_execution_arn: str) -> dict[str, Any]:
        """StopPipelineExecution: running jobs are stopped, then the execution is Stopped."""
        row = self._execution_row(pipeline_execution_arn)
        if row.status == "Executing":
            now = self.clock.time()
            with self.state.write() as conn:
                conn.execute(t.executions.update().where(t.executions.c.name == row.name,
                                                         t.executions.c.status == "Executing")
                             .values(status="Stopping", modified_at=now))  # fmt: skip
            self.emit_execution_change(row.name, "Executing")
            self.changed()
            self._ensure_reconciled()
        return {"PipelineExecutionArn": row.arn}

    @operation
    def retry_pipeline_execution(self, pipeline_execution_arn: str,
                                 parallelism_configuration: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
        """RetryPipelineExecution: re-run the failed (or stopped) steps and what depends on them;
        what succeeded is kept."""
        row = self._execution_row(pipeline_execution_arn)
        if row.status not in ("Failed", "Stopped"):
            raise ValidationError(f"execution {row.name} is {row.status}; only Failed or Stopped executions can be retried",
                                  field="PipelineExecutionArn")  # fmt: skip
        limit = _parallelism(parallelism_configuration, "ParallelismConfiguration") or row.parallelism
        now = self.clock.time()
        with self.state.write() as conn:
            done = conn.execute(t.executions.update().where(t.executions.c.name == row.name,
                                                            t.executions.c.status == row.status)
                                .values(status="Executing", failure_reason=None, ended_at=None, modified_at=now,
                                        owner=self.owner, heartbeat_at=now, parallelism=int(limit)))  # fmt: skip
            if done.rowcount != 1:
                raise ResourceInUse(f"execution {row.name} changed meanwhile; try again", field="PipelineExecutionArn")
            conn.execute(t.steps.delete().where(t.steps.c.execution == row.name,
                                                t.steps.c.status.in_(("Failed", "Stopped"))))  # fmt: skip
        self.emit_execution_change(row.name, row.status)
        self._drive(row.name)
        return {"PipelineExecutionArn": row.arn}

    @operation
    def send_pipeline_execution_step_success(self, callback_token: str,
                                             output_parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:  # fmt: skip
        """End a waiting Callback step as succeeded, with its outputs."""
        row, step = self._callback_step(callback_token)
        given = {p.get("Name"): p.get("Value") for p in (output_parameters or []) if isinstance(p, dict)}
        try:
            outputs = pick_outputs(step, given, "OutputParameters")
        except ValueError as exc:
            raise ValidationError(str(exc), field="OutputParameters") from None
        listed = [{"Name": k, "Value": _text(v)} for k, v in outputs.items()]
        metadata = {"Callback": {"CallbackToken": callback_token, "OutputParameters": listed}}
        return self._end_callback(row, "Succeeded", {"OutputParameters": outputs}, metadata, None)

    @operation
    def send_pipeline_execution_step_failure(self, callback_token: str, failure_reason: str | None = None) -> dict[str, Any]:
        """End a waiting Callback step as failed."""
        row, _ = self._callback_step(callback_token)
        metadata = {"Callback": {"CallbackToken": callback_token}}
        return self._end_callback(row, "Failed", {}, metadata, failure_reason or "the callback reported a failure")

    def _callback_step(self, token: str) -> tuple[Any, Any]:
        self._ensure_reconciled()
        with self.state.read() as conn:
            row = conn.execute(sa.select(t.steps).where(t.steps.c.callback_token == token)).first()
        if row is None:
            raise ResourceNotFound("no callback step has that token", field="CallbackToken")
        if row.status != "Executing":
            raise ValidationError(f"callback step {row.name} is already {row.status}", field="CallbackToken")
        execution = self._execution_row(row.execution)
        return row, self.definition_of(execution.pipeline, execution.version).steps[row.name]

    def _end_callback(self, row: Any, status: str, properties: dict[str, Any], metadata: dict[str, Any],
                      reason: str | None) -> dict[str, Any]:  # fmt: skip
        now = self.clock.time()
        with self.state.write() as conn:
            done = conn.execute(t.steps.update().where(t.steps.c.execution == row.execution, t.steps.c.name == row.name,
                                                       t.steps.c.status == "Executing")
                                .values(status=status, properties=properties, metadata=metadata, failure_reason=reason,
                                        ended_at=now))  # fmt: skip
        if done.rowcount != 1:
            raise ValidationError(f"callback step {row.name} has already ended", field="CallbackToken")
        self.changed()
        return {"PipelineExecutionArn": self._execution_row(row.execution).arn}

    @operation
    def wait_for_pipeline_execution(self, pipeline_execution_arn: str, timeout: float | None = None) -> dict[str, Any]:
        """Block until the execution ends (or ``timeout`` seconds pass); its description."""
        execution_id = self._execution_row(pipeline_execution_arn).name
        row = self._wait_until_done(lambda: self._execution_row(execution_id), timeout)
        return self._describe_execution(row)

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
        bucket, _, key = uri[len("s3://"):].partition("/")
        if not key or key.endswith("/"):
            return None
        try:
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
            self.events.emit("aws.sagemaker", detail_type, detail, resources=resources)
        except Exception:  # noqa: BLE001 - the execution's record stands; the event is a notification
            log.exception("could not emit %s", detail_type)

    def emit_execution_change(self, execution_id: str, previous: str | None) -> None:
        row = self._execution_row(execution_id)
        detail = {"pipelineArn": self.pipeline_arn(row.pipeline), "pipelineExecutionArn": row.arn,
                  "pipelineExecutionDisplayName": row.display_name or row.name,
                  "currentPipelineExecutionStatus": row.status, "previousPipelineExecutionStatus": previous,
                  "executionStartTime": iso(row.created_at), "executionEndTime": iso(row.ended_at),
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


def _parallelism(config: Any, field: str) -> int | None:
    if config is None:
        return None
    value = config.get("MaxParallelExecutionSteps") if isinstance(config, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 256:
        raise ValidationError(f"{field}.MaxParallelExecutionSteps must be an integer 1-256", field=field)
    return value


def _version_id(value: Any) -> int:
    """A PipelineVersionId: 1, 2, ... (a number the state store can hold)."""
    try:
        version = int(value) if not isinstance(value, bool) else 0
    except (TypeError, ValueError, OverflowError):
        version = 0
    if not 1 <= version <= MAX_VERSION:
        raise ValidationError(f"PipelineVersionId must be a version number, 1-{MAX_VERSION}", field="PipelineVersionId")
    return version


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)
