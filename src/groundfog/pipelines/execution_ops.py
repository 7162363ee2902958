"""StartPipelineExecution and the other operations on executions, their steps and
callbacks (a mixin of ``PipelinesService``)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import sqlalchemy as sa

from groundfog.core.errors import ResourceInUse, ResourceNotFound, ValidationError
from groundfog.core.paging import parse_max_results, parse_sort, read_page, with_token
from groundfog.core.service import operation
from groundfog.core.times import utc_datetime
from groundfog.pipelines import tables as t
from groundfog.pipelines.definition import Definition, coerce_parameter
from groundfog.pipelines.expressions import as_text
from groundfog.pipelines.limits import (
    DEFAULT_PARALLELISM,
    DESCRIPTION_MAX,
    DISPLAY_NAME_MAX,
    FAILURE_REASON_MAX,
    REQUEST_TOKEN_MAX,
    check_text,
    parallelism_limit,
    version_id,
)
from groundfog.pipelines.runners import output_parameters as pick_outputs


class ExecutionOperations:
    """The operations on executions; ``PipelinesService`` supplies the rest."""

    state: Any
    clock: Any
    owner: str

    @operation
    def start_pipeline_execution(
        self, pipeline_name: str, pipeline_parameters: list[dict[str, Any]] | dict[str, Any] | None = None,
        pipeline_execution_display_name: str | None = None, pipeline_execution_description: str | None = None,
        parallelism_configuration: dict[str, Any] | None = None, client_request_token: str | None = None,
        pipeline_version_id: int | None = None,
    ) -> dict[str, Any]:
        """StartPipelineExecution: parameters are checked (names, types, required ones) first."""
        self._ensure_reconciled()
        check_text(pipeline_execution_display_name, "PipelineExecutionDisplayName", DISPLAY_NAME_MAX)
        check_text(pipeline_execution_description, "PipelineExecutionDescription", DESCRIPTION_MAX)
        check_text(client_request_token, "ClientRequestToken", REQUEST_TOKEN_MAX)
        row = self._pipeline_row(pipeline_name)
        version = row.version if pipeline_version_id is None else version_id(pipeline_version_id)
        definition = self.definition_of(row.name, version)
        values = self._parameter_values(definition, pipeline_parameters)
        limit = parallelism_limit(parallelism_configuration, "ParallelismConfiguration") or \
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
            "PipelineParameters": [{"Name": k, "Value": as_text(v)} for k, v in row.parameters.items()],
        }  # fmt: skip
        return {k: v for k, v in described.items() if v is not None}

    @operation
    def list_pipeline_executions(self, pipeline_name: str, max_results: int = 100, sort_order: str = "Descending",
                                 sort_by: str = "CreationTime", next_token: str | None = None) -> dict[str, Any]:  # fmt: skip
        """A pipeline's executions, newest first by default (ListPipelineExecutions);
        SortBy CreationTime or PipelineExecutionArn; ``NextToken`` pages on."""
        row = self._pipeline_row(pipeline_name)
        limit = parse_max_results(max_results, maximum=1000)
        key, descending = parse_sort(sort_by, sort_order, ("CreationTime", "PipelineExecutionArn"))
        # An execution's ARN is its pipeline's ARN and its id: within a pipeline, the id's order.
        first = [] if key == "PipelineExecutionArn" else [(t.executions.c.created_at, descending)]
        order = [*first, (t.executions.c.name, descending if key == "PipelineExecutionArn" else False)]
        with self.state.read() as conn:
            rows, token = read_page(conn, sa.select(t.executions).where(t.executions.c.pipeline == row.name), order,
                                    max_results=limit, next_token=next_token)  # fmt: skip
        return with_token({"PipelineExecutionSummaries": [
            {k: v for k, v in {"PipelineExecutionArn": r.arn, "StartTime": utc_datetime(r.created_at),
                               "PipelineExecutionStatus": r.status, "PipelineExecutionDisplayName": r.display_name or r.name,
                               "PipelineExecutionFailureReason": r.failure_reason}.items() if v is not None}
            for r in rows]}, token)  # fmt: skip

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
        return {"PipelineParameters": [{"Name": k, "Value": as_text(v)} for k, v in row.parameters.items()]}

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
        limit = parallelism_limit(parallelism_configuration, "ParallelismConfiguration") or row.parallelism
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
        if not isinstance(output_parameters, (list, type(None))):
            raise ValidationError("OutputParameters must be a list of {Name, Value}", field="OutputParameters")
        given = {}
        for i, item in enumerate(output_parameters or []):
            if not isinstance(item, dict) or not isinstance(item.get("Name"), str) or "Value" not in item:
                raise ValidationError(f"OutputParameters[{i}] must be {{Name, Value}} with a Name as text",
                                      field=f"OutputParameters[{i}]")  # fmt: skip
            given[item["Name"]] = item["Value"]
        try:
            outputs = pick_outputs(step, given, "OutputParameters")
        except ValueError as exc:
            raise ValidationError(str(exc), field="OutputParameters") from None
        listed = [{"Name": k, "Value": as_text(v)} for k, v in outputs.items()]
        metadata = {"Callback": {"CallbackToken": callback_token, "OutputParameters": listed}}
        return self._end_callback(row, "Succeeded", {"OutputParameters": outputs}, metadata, None)

    @operation
    def send_pipeline_execution_step_failure(self, callback_token: str, failure_reason: str | None = None) -> dict[str, Any]:
        """End a waiting Callback step as failed."""
        check_text(failure_reason, "FailureReason", FAILURE_REASON_MAX)
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

