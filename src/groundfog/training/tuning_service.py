"""Hyperparameter tuning jobs (SageMaker CreateHyperParameterTuningJob) on Optuna:
Bayesian, Random, Grid and Hyperband strategies, early stopping, warm start, the best
training job and a leaderboard.

>>> platform.tuning.create_hyper_parameter_tuning_job(                   # doctest: +SKIP
...     hyper_parameter_tuning_job_name="rf-hpo",
...     hyper_parameter_tuning_job_config={
...         "Strategy": "Bayesian",
...         "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:accuracy"},
...         "ResourceLimits": {"MaxNumberOfTrainingJobs": 12, "MaxParallelTrainingJobs": 2},
...         "ParameterRanges": {"IntegerParameterRanges": [{"Name": "max-depth", "MinValue": "2", "MaxValue": "12"}]}},
...     training_job_definition={...})
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from types import SimpleNamespace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from groundfog.core.errors import ResourceInUse, ResourceNotFound, ValidationError
from groundfog.core.names import arn, validate_name
from groundfog.core.paging import list_named, with_token
from groundfog.core.serialize import to_jsonable
from groundfog.core.service import operation
from groundfog.core.times import utc_datetime
from groundfog.training import tuning_search
from groundfog.core.driven import ACTIVE, TERMINAL, DrivenService
from groundfog.training.tables import tuning_jobs
from groundfog.training.tuning_config import parse_tuning_job_config, validate_warm_start_config
from groundfog.training.tuning_driver import TuningDriver

if TYPE_CHECKING:
    from groundfog.core.bus import Bus
    from groundfog.training.training_service import TrainingService

log = logging.getLogger("groundfog.training")
_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")
_DEFINITION_KEYS = (
    "StaticHyperParameters", "AlgorithmSpecification", "InputDataConfig", "OutputDataConfig", "ResourceConfig",
    "StoppingCondition", "EnableManagedSpotTraining", "CheckpointConfig", "Environment", "RoleArn", "DefinitionName",
    "TuningObjective", "HyperParameterRanges", "RetryStrategy",
)  # fmt: skip



class TuningService(DrivenService):
    """Tuning jobs: one driver thread each, in the platform that owns the job's row."""

    name = "tuning"
    table = tuning_jobs

    def __init__(self, *, config, state, clock, training: "TrainingService", bus: "Bus | None" = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(config=config, state=state, clock=clock)
        self.training = training
        self.bus = bus

    def ended(self, name: str, **values: Any) -> None:
        """SageMaker's state-change event for the tuning job about to end with ``values``."""
        if self.bus is None:
            return
        try:
            row = SimpleNamespace(**{**self._row(name)._mapping, **values, "ended_at": self.clock.time()})
            self.bus.emit("aws.sagemaker", "SageMaker HyperParameter Tuning Job State Change",
                          to_jsonable(self._describe(row)), resources=[row.arn])  # fmt: skip
        except Exception:  # noqa: BLE001 - the job's own record stands; the event is a notification
            log.exception("could not emit the state change of %s", name)

    def job_dir(self, name: str) -> Path:
        return self.config.jobs_dir / "tuning" / name

    # -- operations -----------------------------------------------------------------

    @operation
    def create_hyper_parameter_tuning_job(
        self,
        hyper_parameter_tuning_job_name: str,
        hyper_parameter_tuning_job_config: dict[str, Any],
        training_job_definition: dict[str, Any],
        warm_start_config: dict[str, Any] | None = None,
        tags: list[dict[str, Any]] | None = None,
    ) -> dict[str, str]:
        """Start a tuning job (CreateHyperParameterTuningJob); everything is checked first,
        including the training job definition, as if its first trial were created."""
        self._ensure_reconciled()
        name = validate_name(hyper_parameter_tuning_job_name, "HyperParameterTuningJobName", pattern=_NAME, max_length=32)
        definition = self._definition(training_job_definition)
        config = parse_tuning_job_config(
            hyper_parameter_tuning_job_config, static_hyperparameters=definition.get("StaticHyperParameters")
        )
        tuned = config.parameter_ranges.names()
        static = definition.get("StaticHyperParameters", {})
        for parameter in tuned:
            if parameter in static:
                raise ValidationError(
                    f"hyperparameter {parameter!r} is both tuned and static; remove it from StaticHyperParameters",
                    field="TrainingJobDefinition.StaticHyperParameters",
                )
        self._check_definition(definition, config)
        parents: list[dict[str, Any]] = []
        warm = None
        if warm_start_config is not None:
            warm = validate_warm_start_config(warm_start_config)
            parents = self._parent_trials(warm.parent_names(), config.objective.metric_name)
        now = self.clock.time()
        job_arn = arn("sagemaker", "hyper-parameter-tuning-job", name)
        spec = {
            "HyperParameterTuningJobConfig": hyper_parameter_tuning_job_config, "TrainingJobDefinition": definition,
            "WarmStartConfig": warm.model_dump(by_alias=True) if warm else None, "WarmStartParents": parents,
            "Tags": tags or [],
        }  # fmt: skip
        try:
            with self.state.write() as conn:
                conn.execute(tuning_jobs.insert().values(
                    name=name, arn=job_arn, status="InProgress", spec=spec, progress={"trials": {}},
                    owner=self.owner, heartbeat_at=now, created_at=now, modified_at=now,
                ))  # fmt: skip
        except sa.exc.IntegrityError:
            raise ResourceInUse(f"a tuning job named {name!r} already exists", field="HyperParameterTuningJobName") from None
        self._drive(name)
        return {"HyperParameterTuningJobArn": job_arn}

    def _definition(self, value: object) -> dict[str, Any]:
        field = "TrainingJobDefinition"
        if not isinstance(value, dict):
            raise ValidationError(f"{field} must be an object", field=field)
        for key in value:
            if key not in _DEFINITION_KEYS:
                raise ValidationError(f"{field}.{key} is not a known member", field=f"{field}.{key}")
        static = value.get("StaticHyperParameters") or {}
        if not isinstance(static, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in static.items()):
            raise ValidationError(f"{field}.StaticHyperParameters must map names to strings", field=f"{field}.StaticHyperParameters")
        return {k: v for k, v in value.items() if k in _DEFINITION_KEYS[:9]}

    def _check_definition(self, definition: dict[str, Any], config: Any) -> None:
        """Validate the training definition exactly as its trials will be created."""
        sample = {p: "1" for p in config.parameter_ranges.names()}
        spec = self.training._validate(
            "tuning-definition-check", definition.get("AlgorithmSpecification"), definition.get("OutputDataConfig"),
            definition.get("ResourceConfig"), {**definition.get("StaticHyperParameters", {}), **sample},
            definition.get("InputDataConfig"), definition.get("StoppingCondition"), definition.get("Environment"),
            definition.get("EnableManagedSpotTraining", False), definition.get("CheckpointConfig"), None, None, None,
        )  # fmt: skip
        metrics = {d["Name"] for d in spec["MetricDefinitions"]}
        objective = config.objective.metric_name
        if objective not in metrics:
            field = "HyperParameterTuningJobConfig.HyperParameterTuningJobObjective.MetricName"
            raise ValidationError(
                f"{field} {objective!r} is not one of the job's metric definitions ({', '.join(sorted(metrics)) or 'none'})",
                field=field,
            )

    def _parent_trials(self, names: list[str], objective: str) -> list[dict[str, Any]]:
        parents = []
        for i, parent in enumerate(names):
            row = self._row(parent, field=f"WarmStartConfig.ParentHyperParameterTuningJobs[{i}]")
            if row.status not in TERMINAL:
                raise ValidationError(f"parent tuning job {parent!r} has not ended", field=f"WarmStartConfig.ParentHyperParameterTuningJobs[{i}]")
            for trial in row.progress.get("trials", {}).values():
                parents.append({"hyperparameters": trial["hyperparameters"], "objective": trial.get("objective"),
                                "status": trial.get("status", "Failed")})  # fmt: skip
        return parents

    @operation
    def describe_hyper_parameter_tuning_job(self, hyper_parameter_tuning_job_name: str) -> dict[str, Any]:
        """The tuning job as DescribeHyperParameterTuningJob shows it, with its best training job."""
        self._ensure_reconciled()
        return self._describe(self._row(hyper_parameter_tuning_job_name))

    def _describe(self, row: Any) -> dict[str, Any]:
        spec = row.spec
        summaries = self._summaries(row)
        counters = {"Completed": 0, "InProgress": 0, "RetryableError": 0, "NonRetryableError": 0, "Stopped": 0}
        objective_counters = {"Succeeded": 0, "Pending": 0, "Failed": 0}
        for s in summaries:
            status = s["TrainingJobStatus"]
            counters["NonRetryableError" if status == "Failed" else status if status in counters else "InProgress"] += 1
            objective_counters[{"Succeeded": "Succeeded", "Pending": "Pending"}.get(s["ObjectiveStatus"], "Failed")] += 1
        out: dict[str, Any] = {
            "HyperParameterTuningJobName": row.name, "HyperParameterTuningJobArn": row.arn,
            "HyperParameterTuningJobConfig": spec["HyperParameterTuningJobConfig"],
            "TrainingJobDefinition": spec["TrainingJobDefinition"],
            "HyperParameterTuningJobStatus": row.status, "CreationTime": utc_datetime(row.created_at),
            "HyperParameterTuningEndTime": utc_datetime(row.ended_at), "LastModifiedTime": utc_datetime(row.modified_at),
            "TrainingJobStatusCounters": counters, "ObjectiveStatusCounters": objective_counters,
            "ConsumedResources": {"RuntimeInSeconds": round((row.ended_at or self.clock.time()) - row.created_at)},
        }  # fmt: skip
        if spec.get("WarmStartConfig"):
            out["WarmStartConfig"] = spec["WarmStartConfig"]
        if row.failure_reason:
            out["FailureReason"] = row.failure_reason
        ranked = self._ranked(row, summaries)
        if ranked:
            out["BestTrainingJob"] = ranked[0]
        return out

    def _summaries(self, row: Any) -> list[dict[str, Any]]:
        objective = row.spec["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]
        out = []
        jobs = {j["TrainingJobName"]: j for j in self.training.training_jobs_of_tuning_job(row.name)}
        for number, trial in sorted(row.progress.get("trials", {}).items(), key=lambda kv: int(kv[0])):
            job = jobs.get(trial["job"])
            if job is None:
                continue
            value = trial.get("objective")
            status = job["TrainingJobStatus"]
            objective_status = "Succeeded" if value is not None and status in ("Completed", "Stopped") and trial.get("done") else (
                "Pending" if status in ACTIVE else "Failed")  # fmt: skip
            summary = {
                "TrainingJobName": job["TrainingJobName"], "TrainingJobArn": job["TrainingJobArn"],
                "TuningJobName": row.name, "CreationTime": job["CreationTime"], "TrainingStartTime": job["TrainingStartTime"],
                "TrainingEndTime": job["TrainingEndTime"], "TrainingJobStatus": status,
                "TunedHyperParameters": trial["hyperparameters"], "ObjectiveStatus": objective_status,
                "EarlyStopped": bool(trial.get("pruned")),
            }  # fmt: skip
            if job.get("FailureReason"):
                summary["FailureReason"] = job["FailureReason"]
            if value is not None:
                summary["FinalHyperParameterTuningJobObjectiveMetric"] = {"Type": objective["Type"], "MetricName": objective["MetricName"], "Value": value}
            out.append(summary)
        return out

    def _ranked(self, row: Any, summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        objective_type = row.spec["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]["Type"]
        # Early-stopped trials never reached their full budget; they do not win.
        candidates = [
            {**s, "objective": s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]}
            for s in summaries
            if s["ObjectiveStatus"] == "Succeeded" and not s["EarlyStopped"] and s["TrainingJobStatus"] == "Completed"
        ]
        return [{k: v for k, v in c.items() if k != "objective"} for c in tuning_search.leaderboard(candidates, objective_type)]

    @operation
    def list_training_jobs_for_hyper_parameter_tuning_job(
        self, hyper_parameter_tuning_job_name: str, sort_by: str = "FinalObjectiveMetricValue", status_equals: str | None = None
    ) -> dict[str, Any]:
        """The tuning job's training jobs; by final objective (best first), CreationTime, Name or Status."""
        row = self._row(hyper_parameter_tuning_job_name)
        summaries = self._summaries(row)
        if status_equals is not None:
            summaries = [s for s in summaries if s["TrainingJobStatus"] == status_equals]
        if sort_by == "FinalObjectiveMetricValue":
            ranked = self._ranked(row, summaries)
            rest = [s for s in summaries if s not in ranked]
            summaries = ranked + rest
        elif sort_by in ("Name", "CreationTime", "Status"):
            key = {"Name": "TrainingJobName", "CreationTime": "CreationTime", "Status": "TrainingJobStatus"}[sort_by]
            summaries = sorted(summaries, key=lambda s: str(s[key]))
        else:
            raise ValidationError("SortBy must be Name, CreationTime, Status or FinalObjectiveMetricValue", field="SortBy")
        return {"TrainingJobSummaries": summaries}

    @operation
    def list_hyper_parameter_tuning_jobs(self, status_equals: str | None = None, max_results: int = 100,
                                         name_contains: str | None = None, sort_by: str = "CreationTime",
                                         sort_order: str = "Descending", next_token: str | None = None) -> dict[str, Any]:  # fmt: skip
        """Tuning jobs, newest first by default (ListHyperParameterTuningJobs); ``NextToken`` pages on."""
        if status_equals is not None and status_equals not in (*ACTIVE, *TERMINAL):
            raise ValidationError(f"StatusEquals must be one of {', '.join((*ACTIVE, *TERMINAL))}", field="StatusEquals")
        where = () if status_equals is None else (tuning_jobs.c.status == status_equals,)
        with self.state.read() as conn:
            rows, token = list_named(conn, tuning_jobs, name_contains=name_contains, max_results=max_results,
                                     sort_by=sort_by, sort_order=sort_order, next_token=next_token, where=where,
                                     sort_keys=("Name", "CreationTime", "Status"), maximum=1000)  # fmt: skip
        return with_token({"HyperParameterTuningJobSummaries": [
            {"HyperParameterTuningJobName": r.name, "HyperParameterTuningJobArn": r.arn, "HyperParameterTuningJobStatus": r.status,
             "Strategy": r.spec["HyperParameterTuningJobConfig"].get("Strategy"), "CreationTime": utc_datetime(r.created_at),
             "HyperParameterTuningEndTime": utc_datetime(r.ended_at)}
            for r in rows
        ]}, token)  # fmt: skip

    @operation
    def stop_hyper_parameter_tuning_job(self, hyper_parameter_tuning_job_name: str) -> None:
        """Stop launching trials and stop the running ones; the job ends ``Stopped``."""
        self._row(hyper_parameter_tuning_job_name)
        with self.state.write() as conn:
            conn.execute(
                tuning_jobs.update()
                .where(tuning_jobs.c.name == hyper_parameter_tuning_job_name, tuning_jobs.c.status == "InProgress")
                .values(status="Stopping", modified_at=self.clock.time())
            )
        self.changed()

    @operation
    def wait_for_hyper_parameter_tuning_job(self, hyper_parameter_tuning_job_name: str, timeout: float | None = None) -> dict[str, Any]:
        """Block until the tuning job ends (or ``timeout`` seconds); returns its description."""
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 <= timeout <= 86400):
            raise ValidationError("timeout must be a number of seconds from 0 to 86400", field="timeout")
        row = self._wait_until_done(lambda: self._row(hyper_parameter_tuning_job_name), timeout)
        return self._describe(row)

    # -- rows and drivers -------------------------------------------------------------------

    def _row(self, name: str, field: str = "HyperParameterTuningJobName") -> Any:
        with self.state.read() as conn:
            row = conn.execute(sa.select(tuning_jobs).where(tuning_jobs.c.name == name)).first()
        if row is None:
            raise ResourceNotFound(f"no tuning job named {name!r}", field=field)
        return row

    def _driver(self, name: str) -> Callable[[], None]:
        return TuningDriver(self, name).run
