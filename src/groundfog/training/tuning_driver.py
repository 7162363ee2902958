"""The tuning driver: asks Optuna for hyperparameters, runs each trial as a training job,
feeds the objective metric back (per step, for early stopping), and ends the tuning job.

The study lives in a journal file in the tuning job's directory and the trials it has
launched in the job's row, so a platform that claims the job after a crash carries on
with the same study: running trials are watched again, finished ones are not redone.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from groundfog.core.errors import GroundfogError, ResourceInUse, ResourceNotFound
from groundfog.training import tuning_search
from groundfog.training.tables import tuning_jobs
from groundfog.training.tuning_config import parse_tuning_job_config

if TYPE_CHECKING:
    from groundfog.training.tuning_service import TuningService

log = logging.getLogger("groundfog.training")
TICK = 0.3


def trial_job_name(tuning_job_name: str, number: int) -> str:
    """SageMaker's ``<tuning job>-<NNN>-<8 hex>`` for the tuning job's ``number``-th trial (from 0)."""
    digest = hashlib.sha256(f"{tuning_job_name}/{number}".encode()).hexdigest()[:8]
    return f"{tuning_job_name}-{number + 1:03d}-{digest}"


class TuningDriver:
    def __init__(self, service: "TuningService", name: str) -> None:
        self.service = service
        self.name = name
        self.row: Any = None
        self._study: Any = None

    def load(self) -> Any:
        with self.service.state.read() as conn:
            self.row = conn.execute(sa.select(tuning_jobs).where(tuning_jobs.c.name == self.name)).first()
        return self.row

    def update(self, **values: Any) -> bool:
        now = self.service.clock.time()
        with self.service.state.write() as conn:
            done = conn.execute(
                tuning_jobs.update()
                .where(tuning_jobs.c.name == self.name, tuning_jobs.c.owner == self.service.owner)
                .values(modified_at=now, heartbeat_at=now, **values)
            )
        self.load()
        self.service.changed()
        return done.rowcount == 1

    @functools.cached_property
    def config(self) -> Any:
        """The checked tuning config (parsed once: the job's spec never changes)."""
        spec = self.row.spec
        return parse_tuning_job_config(
            spec["HyperParameterTuningJobConfig"],
            static_hyperparameters=spec["TrainingJobDefinition"].get("StaticHyperParameters"),
        )

    def study(self) -> Any:
        if self._study is None:
            path = self.service.job_dir(self.name) / "study.journal"
            path.parent.mkdir(parents=True, exist_ok=True)
            import optuna

            optuna.logging.set_verbosity(optuna.logging.WARNING)  # the job's own log says what matters
            self._study = tuning_search.create_study(self.config, path, self.name)
            parents = self.row.spec.get("WarmStartParents") or []
            if parents:
                tuning_search.seed_from_parents(self._study, self.config, parents)
        return self._study

    def run(self) -> None:
        try:
            while not self.service.closing.is_set():
                if self.load() is None or self.row.owner != self.service.owner or self.row.status in ("Completed", "Failed", "Stopped"):
                    return
                self.step()
                self.service.training.wait_for_change(TICK)
        except Exception as exc:  # noqa: BLE001 - a tuning job must end, never hang InProgress
            log.exception("tuning driver of %s failed", self.name)
            try:
                self.load()
                if self.row is not None and self.row.owner == self.service.owner:
                    self.finish("Failed", f"groundfog could not run the tuning job: {type(exc).__name__}: {exc}")
            except Exception:  # noqa: BLE001
                log.exception("could not record the failure of %s", self.name)

    def step(self) -> None:
        progress = dict(self.row.progress)
        trials: dict[str, dict[str, Any]] = {k: dict(v) for k, v in progress.get("trials", {}).items()}
        config = self.config
        study = self.study()
        training = self.service.training
        objective = config.objective.metric_name
        running = 0
        for number, trial in trials.items():
            if trial.get("done"):
                continue
            try:
                job = training.describe_training_job(trial["job"])
            except ResourceNotFound:
                self._launch(trial["job"], int(number), trial["hyperparameters"])  # recorded, but not created before a crash
                running += 1
                continue
            values = training.get_training_job_metrics(trial["job"], objective).get(objective, [])
            reported = trial.get("reported", 0)
            status = job["TrainingJobStatus"]
            for step in range(reported, len(values)):
                prune = math.isfinite(values[step]) and tuning_search.report(study, int(number), step + 1, values[step])
                # A job that ran to its end before the verdict was not stopped early.
                if prune and not trial.get("pruned") and status == "InProgress":
                    trial["pruned"] = True
                    training.stop_training_job(trial["job"])
            trial["reported"] = len(values)
            if status in ("Completed", "Failed", "Stopped"):
                value = values[-1] if values else None
                state = "Pruned" if trial.get("pruned") else {"Completed": "Completed", "Failed": "Failed", "Stopped": "Stopped"}[status]
                tuning_search.tell(study, int(number), value, state)
                trial.update(done=True, status=status, objective=value, pruned=bool(trial.get("pruned")))
            else:
                running += 1
        progress["trials"] = trials
        limits = config.resource_limits
        stopping = self.row.status == "Stopping"
        # ResourceLimits.MaxRuntimeInSeconds bounds the whole tuning job: no new trials,
        # and the running ones are stopped.
        out_of_time = limits.max_runtime_in_seconds is not None and (
            self.service.clock.time() - self.row.created_at > limits.max_runtime_in_seconds
        )
        target = out_of_time or self._target_reached(config, trials)
        exhausted = progress.get("exhausted", False)
        while not stopping and not target and not exhausted and running < limits.max_parallel_training_jobs and len(trials) < limits.max_number_of_training_jobs:
            asked = tuning_search.ask(study, config)
            if asked is None:
                exhausted = progress["exhausted"] = True
                break
            number, hyperparameters = asked
            # Numbered by this job's own trials: a warm start's parent trials are not ours.
            trials[str(number)] = {"job": trial_job_name(self.name, len(trials)), "hyperparameters": hyperparameters}
            progress["trials"] = trials
            self.update(progress=progress)  # the intent first: a crash now relaunches it
            if not self._launch(trials[str(number)]["job"], number, hyperparameters):
                trials[str(number)].update(done=True, status="Failed", objective=None)
                tuning_search.tell(study, number, None, "Failed")
            else:
                running += 1
        self.update(progress=progress)
        if stopping or out_of_time:
            for trial in trials.values():
                if not trial.get("done"):
                    training.stop_training_job(trial["job"])
        if running == 0 and (stopping or target or exhausted or len(trials) >= limits.max_number_of_training_jobs):
            if stopping:
                self.finish("Stopped")
            elif not any(t.get("status") == "Completed" for t in trials.values()):
                self.finish("Failed", "no training job of the tuning job completed; see their FailureReason")
            else:
                self.finish("Completed")

    def _launch(self, job_name: str, number: int, hyperparameters: dict[str, str]) -> bool:
        definition = self.row.spec["TrainingJobDefinition"]
        try:
            self.service.training.create_training_job(
                training_job_name=job_name,
                algorithm_specification=definition["AlgorithmSpecification"],
                output_data_config=definition["OutputDataConfig"],
                resource_config=definition.get("ResourceConfig"),
                hyper_parameters={**definition.get("StaticHyperParameters", {}), **hyperparameters},
                input_data_config=definition.get("InputDataConfig"),
                stopping_condition=definition.get("StoppingCondition"),
                environment=definition.get("Environment"),
                enable_managed_spot_training=definition.get("EnableManagedSpotTraining", False),
                checkpoint_config=self._checkpoints(definition, number),
                tuning_job_name=self.name,
            )
        except ResourceInUse:
            return True  # created before a crash
        except GroundfogError as exc:
            log.warning("trial %d of %s could not start: %s", number, self.name, exc)
            return False
        return True

    @staticmethod
    def _checkpoints(definition: dict[str, Any], number: int) -> dict[str, str] | None:
        checkpoints = definition.get("CheckpointConfig")
        if not checkpoints:
            return None
        # Each trial keeps its own checkpoints, or one would resume from another's.
        return {**checkpoints, "S3Uri": checkpoints["S3Uri"].rstrip("/") + f"/{number + 1:03d}/"}

    @staticmethod
    def _target_reached(config: Any, trials: dict[str, dict[str, Any]]) -> bool:
        criteria = config.tuning_job_completion_criteria
        target = getattr(criteria, "target_objective_metric_value", None) if criteria else None
        if target is None:
            return False
        maximize = config.objective.type == "Maximize"
        values = [t["objective"] for t in trials.values() if t.get("status") == "Completed" and t.get("objective") is not None]
        return any((v >= target) if maximize else (v <= target) for v in values)

    def finish(self, status: str, reason: str | None = None) -> None:
        self.service.ended(self.name, status=status, failure_reason=reason)  # first: at least once
        self.update(status=status, failure_reason=reason, ended_at=self.service.clock.time(), owner=None)
