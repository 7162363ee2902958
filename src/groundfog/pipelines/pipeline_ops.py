"""CreatePipeline, UpdatePipeline and the other operations on pipelines and their versions
(a mixin of ``PipelinesService``)."""

from __future__ import annotations

import inspect
import json
from typing import Any

import sqlalchemy as sa

from groundfog.core.errors import AlreadyExists, ResourceInUse, ResourceNotFound, ValidationError
from groundfog.core.names import validate_name
from groundfog.core.paging import parse_max_results, parse_sort, read_page, sort_order_of, with_token
from groundfog.core.service import operation
from groundfog.core.text import check_string
from groundfog.core.times import utc_datetime
from groundfog.pipelines import tables as t
from groundfog.pipelines.definition import Definition, load_document, parse_definition
from groundfog.pipelines.limits import (
    DESCRIPTION_MAX,
    DISPLAY_NAME_MAX,
    PIPELINE_NAME_MAX,
    ROLE_ARN_MAX,
    check_text,
    parallelism_limit,
    version_id,
)
from groundfog.pipelines.runners import IGNORED_KEYS, snake


class PipelineOperations:
    """The operations on pipelines; ``PipelinesService`` supplies the state and services."""

    state: Any
    clock: Any
    events: Any
    training: Any
    processing: Any
    tuning: Any
    registry: Any
    active_statuses: tuple[str, ...]
    _definitions: dict[tuple[str, int], Definition]

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
        check_text(description, "PipelineDescription", DESCRIPTION_MAX)
        check_text(display_name, "PipelineDisplayName", DISPLAY_NAME_MAX)
        check_text(role_arn, "RoleArn", ROLE_ARN_MAX)
        document = load_document(definition)
        parsed = parse_definition(document)
        self._check_steps(parsed)
        limit = parallelism_limit(parallelism, "ParallelismConfiguration")
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
        # What the engine fills in when a step leaves it out (with_default_outputs).
        defaulted = {"Training": {"output_data_config"}}
        for step in definition.steps.values():
            if step.type in creators:
                parameters = inspect.signature(creators[step.type]).parameters
                accepted = set(parameters) - engine_set
                unknown = [k for k in step.arguments if k not in IGNORED_KEYS and snake(k) not in accepted]
                if unknown:
                    raise ValidationError(f"step {step.name!r} ({step.type}) has arguments it does not take: {unknown}",
                                          field=f"{step.name}.Arguments")  # fmt: skip
                given = {snake(k) for k in step.arguments if k not in IGNORED_KEYS}
                required = {n for n, p in parameters.items() if p.default is inspect.Parameter.empty}
                missing = sorted(required - engine_set - defaulted.get(step.type, set()) - given)
                if missing:
                    names = ["".join(w.capitalize() for w in n.split("_")) for n in missing]
                    raise ValidationError(f"step {step.name!r} ({step.type}) lacks arguments its job needs: {names}",
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
        version = row.version if pipeline_version_id is None else version_id(pipeline_version_id)
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
    def list_pipelines(self, pipeline_name_prefix: str | None = None, max_results: int = 100,
                       sort_by: str = "CreationTime", sort_order: str = "Descending",
                       next_token: str | None = None) -> dict[str, Any]:  # fmt: skip
        """Pipelines, newest first by default (ListPipelines); ``NextToken`` pages on."""
        limit = parse_max_results(max_results, maximum=1000)  # SageMaker's 100, and room for a console
        order = sort_order_of(t.pipelines, *parse_sort(sort_by, sort_order))
        query = sa.select(t.pipelines)
        if pipeline_name_prefix:
            check_string(pipeline_name_prefix, "PipelineNamePrefix")
            query = query.where(t.pipelines.c.name.startswith(pipeline_name_prefix, autoescape=True))
        with self.state.read() as conn:
            rows, token = read_page(conn, query, order, max_results=limit, next_token=next_token)
        return with_token({"PipelineSummaries": [
            {"PipelineArn": r.arn, "PipelineName": r.name, "PipelineDisplayName": r.display_name or r.name,
             "PipelineDescription": r.description, "CreationTime": utc_datetime(r.created_at),
             "LastModifiedTime": utc_datetime(r.modified_at), "LastExecutionTime": utc_datetime(r.last_run_at)}
            for r in rows]}, token)  # fmt: skip

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

