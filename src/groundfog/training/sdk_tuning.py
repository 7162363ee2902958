"""The SageMaker SDK's ``HyperparameterTuner``, on groundfog's tuning jobs.

The tuner turns an estimator into CreateHyperParameterTuningJob's
``TrainingJobDefinition`` (uploading its code as ``fit`` would) and its ranges into
``HyperParameterTuningJobConfig``; default tuning job names fit SageMaker's 32 characters.

>>> import groundfog as gf
>>> tuner = gf.HyperparameterTuner(                                             # doctest: +SKIP
...     gf.SKLearn(entry_point="train.py", metric_definitions=[{"Name": "auc", "Regex": "auc=([0-9.]+)"}]),
...     objective_metric_name="auc",
...     hyperparameter_ranges={"n-estimators": gf.IntegerParameter(10, 200),
...                            "criterion": gf.CategoricalParameter(["gini", "entropy"])},
...     max_jobs=6, max_parallel_jobs=2)
>>> tuner.fit({"train": "s3://data/train/"})                                    # doctest: +SKIP
>>> tuner.best_training_job()                                                   # doctest: +SKIP
'sklearn-260131-120000-123-004-1f2e3d4c'
"""

from __future__ import annotations

import enum
import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from groundfog.core.errors import ValidationError
from groundfog.training.sdk import Job, base_name_from_image, name_from_base, resolve_platform, tags_list
from groundfog.training.sdk_estimator import Estimator, TrainingJob, is_pipeline_variable

MAX_TUNING_JOB_NAME = 32


class _Range(ABC):
    @abstractmethod
    def as_tuning_range(self, name: str) -> dict[str, Any]:
        """The range as one entry of SageMaker's ``ParameterRanges``."""


class _NumericRange(_Range):
    def __init__(self, min_value: float, max_value: float, scaling_type: str = "Auto") -> None:
        self.min_value = min_value
        self.max_value = max_value
        self.scaling_type = scaling_type

    def as_tuning_range(self, name: str) -> dict[str, Any]:
        return {"Name": name, "MinValue": _text(self.min_value), "MaxValue": _text(self.max_value), "ScalingType": self.scaling_type}


class IntegerParameter(_NumericRange):
    """Integers from ``min_value`` to ``max_value``; ``scaling_type`` Auto, Linear,
    Logarithmic or ReverseLogarithmic."""


class ContinuousParameter(_NumericRange):
    """Real numbers from ``min_value`` to ``max_value``; ``scaling_type`` as for integers."""


class CategoricalParameter(_Range):
    """One of ``values``. For a script-mode estimator each value is sent JSON-encoded, as the
    SDK does for framework estimators, so the script gets it back typed."""

    def __init__(self, values: list[Any]) -> None:
        self.values = list(values) if isinstance(values, (list, tuple)) else [values]

    def as_tuning_range(self, name: str, *, json_values: bool = False) -> dict[str, Any]:
        encode = json.dumps if json_values else str
        return {"Name": name, "Values": [v.to_string() if is_pipeline_variable(v) else encode(v) for v in self.values]}


def _text(value: Any) -> Any:
    """A range bound as the API takes it: text, or a pipeline variable's ``to_string()``."""
    return value.to_string() if is_pipeline_variable(value) else str(value)


class WarmStartTypes(str, enum.Enum):
    IDENTICAL_DATA_AND_ALGORITHM = "IdenticalDataAndAlgorithm"
    TRANSFER_LEARNING = "TransferLearning"


class WarmStartConfig:
    """Start from what ``parents`` (tuning job names) learnt (SageMaker's ``WarmStartConfig``)."""

    def __init__(self, warm_start_type: WarmStartTypes | str, parents: Any) -> None:
        self.type = WarmStartTypes(warm_start_type)
        self.parents = sorted({parents} if isinstance(parents, str) else set(parents))

    def to_input_req(self) -> dict[str, Any]:
        return {"WarmStartType": self.type.value,
                "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": p} for p in self.parents]}  # fmt: skip


class HyperbandStrategyConfig:
    """Hyperband's resources (epochs) per trial; keyword-only, because the SDK's own
    positional order (max, min) is easy to swap by accident."""

    def __init__(self, *, min_resource: int = 1, max_resource: int) -> None:
        self.min_resource = min_resource
        self.max_resource = max_resource

    def to_input_req(self) -> dict[str, Any]:
        return {"HyperbandStrategyConfig": {"MinResource": self.min_resource, "MaxResource": self.max_resource}}


class TuningJob(Job):
    """A tuning job by name: ``describe()``, ``wait()``, ``stop()``, ``training_jobs()``."""

    kind = "tuning"

    def describe(self) -> dict[str, Any]:
        return self.platform.tuning.describe_hyper_parameter_tuning_job(hyper_parameter_tuning_job_name=self.name)

    def stop(self) -> None:
        self.platform.tuning.stop_hyper_parameter_tuning_job(hyper_parameter_tuning_job_name=self.name)

    def wait_briefly(self, timeout: float) -> dict[str, Any]:
        return self.platform.tuning.wait_for_hyper_parameter_tuning_job(hyper_parameter_tuning_job_name=self.name, timeout=timeout)

    @property
    def status_key(self) -> str:
        return "HyperParameterTuningJobStatus"

    def wait(self, logs: bool = False, **_: Any) -> dict[str, Any]:
        """Block until the tuning job ends; raise if it failed (a tuning job has no log of its own)."""
        return super().wait(logs=False)

    def logs(self) -> str:
        raise ValidationError("a tuning job has no log of its own; read its training jobs' logs", field="logs")

    def training_jobs(self, sort_by: str = "FinalObjectiveMetricValue") -> list[dict[str, Any]]:
        """Its training jobs' summaries, best first by default."""
        found = self.platform.tuning.list_training_jobs_for_hyper_parameter_tuning_job(
            hyper_parameter_tuning_job_name=self.name, sort_by=sort_by
        )
        return found["TrainingJobSummaries"] if isinstance(found, dict) else list(found)


class HyperparameterTuner:
    """Search ``hyperparameter_ranges`` for the training job that does best on
    ``objective_metric_name`` (SageMaker's ``HyperparameterTuner``)."""

    def __init__(
        self,
        estimator: Estimator,
        objective_metric_name: str,
        hyperparameter_ranges: dict[str, _Range],
        metric_definitions: list[dict[str, str]] | None = None,
        strategy: str = "Bayesian",
        objective_type: str = "Maximize",
        max_jobs: int | None = None,
        max_parallel_jobs: int = 1,
        max_runtime_in_seconds: int | None = None,
        tags: list[dict[str, str]] | dict[str, str] | None = None,
        base_tuning_job_name: str | None = None,
        warm_start_config: WarmStartConfig | None = None,
        strategy_config: HyperbandStrategyConfig | dict[str, Any] | None = None,
        early_stopping_type: str = "Off",
        random_seed: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.objective_metric_name = objective_metric_name
        self.hyperparameter_ranges = hyperparameter_ranges
        self.metric_definitions = metric_definitions
        self.strategy = strategy
        self.objective_type = objective_type
        self.max_jobs = max_jobs
        self.max_parallel_jobs = max_parallel_jobs
        self.max_runtime_in_seconds = max_runtime_in_seconds
        self.tags = tags
        self.base_tuning_job_name = base_tuning_job_name
        self.warm_start_config = warm_start_config
        self.strategy_config = strategy_config
        self.early_stopping_type = early_stopping_type
        self.random_seed = random_seed
        self.latest_tuning_job: TuningJob | None = None

    def fit(self, inputs: Any = None, wait: bool = True, job_name: str | None = None) -> Any:
        """Start the tuning job on ``inputs`` (as ``Estimator.fit`` takes them); with ``wait``,
        block until it ends and raise a ``GroundfogError`` if it failed.

        When the estimator has ``sagemaker_session=PipelineSession()`` no job starts: the step
        arguments for a ``TuningStep(step_args=...)`` come back instead, as in the SDK."""
        if hasattr(self.estimator.sagemaker_session, "defer_job"):
            return self.estimator.sagemaker_session.defer_job(self, inputs=inputs)
        platform = resolve_platform(self.estimator.platform)
        base = self.base_tuning_job_name or self.estimator.base_job_name or base_name_from_image(self.estimator.training_image)
        name = job_name or name_from_base(base, max_length=MAX_TUNING_JOB_NAME, short=True)
        platform.tuning.create_hyper_parameter_tuning_job(**self.tuning_job_request(name, inputs, platform=platform))
        self.latest_tuning_job = TuningJob(platform, name)
        if wait:
            self.latest_tuning_job.wait()

    def tuning_job_request(
        self, job_name: str | None, inputs: Any = None, *, platform: Any = None,
        upload_code: Callable[[bytes], str] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """The ``create_hyper_parameter_tuning_job`` arguments; a pipeline step passes no
        ``job_name`` and its own ``upload_code`` (see ``Estimator.training_job_request``)."""
        request: dict[str, Any] = {
            "hyper_parameter_tuning_job_name": job_name,
            "hyper_parameter_tuning_job_config": self.tuning_job_config(),
            "training_job_definition": self.training_job_definition(job_name, inputs, platform=platform, upload_code=upload_code),
            "tags": tags_list(self.tags),
        }
        if job_name is None:
            del request["hyper_parameter_tuning_job_name"]
        if self.warm_start_config is not None:
            request["warm_start_config"] = self.warm_start_config.to_input_req()
        return request

    def tuning_job_config(self) -> dict[str, Any]:
        """``HyperParameterTuningJobConfig`` as the API takes it."""
        script_mode = self.estimator.entry_point is not None
        ranges: dict[str, list[dict[str, Any]]] = {"IntegerParameterRanges": [], "ContinuousParameterRanges": [],
                                                   "CategoricalParameterRanges": []}  # fmt: skip
        for name, parameter in self.hyperparameter_ranges.items():
            if isinstance(parameter, CategoricalParameter):
                ranges["CategoricalParameterRanges"].append(parameter.as_tuning_range(name, json_values=script_mode))
            elif isinstance(parameter, ContinuousParameter):
                ranges["ContinuousParameterRanges"].append(parameter.as_tuning_range(name))
            elif isinstance(parameter, IntegerParameter):
                ranges["IntegerParameterRanges"].append(parameter.as_tuning_range(name))
            else:
                raise ValidationError(
                    f"hyperparameter_ranges[{name!r}] must be an IntegerParameter, ContinuousParameter or "
                    f"CategoricalParameter, got {type(parameter).__name__}",
                    field=f"hyperparameter_ranges.{name}",
                )
        limits: dict[str, Any] = {"MaxParallelTrainingJobs": self.max_parallel_jobs}
        max_jobs = self.max_jobs if self.max_jobs is not None or self.strategy == "Grid" else 1
        if max_jobs is not None:
            limits["MaxNumberOfTrainingJobs"] = max_jobs
        if self.max_runtime_in_seconds is not None:
            limits["MaxRuntimeInSeconds"] = self.max_runtime_in_seconds
        config: dict[str, Any] = {
            "Strategy": self.strategy,
            "HyperParameterTuningJobObjective": {"Type": self.objective_type, "MetricName": self.objective_metric_name},
            "ResourceLimits": limits,
            "ParameterRanges": ranges,
            "TrainingJobEarlyStoppingType": self.early_stopping_type,
        }
        if self.strategy_config is not None:
            config["StrategyConfig"] = (
                self.strategy_config.to_input_req() if isinstance(self.strategy_config, HyperbandStrategyConfig)
                else self.strategy_config
            )  # fmt: skip
        if self.random_seed is not None:
            config["RandomSeed"] = self.random_seed
        return config

    def training_job_definition(
        self, tuning_job_name: str | None, inputs: Any = None, *, platform: Any = None,
        upload_code: Callable[[bytes], str] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """``TrainingJobDefinition`` from the estimator; its code is uploaded under the tuning
        job's name (or by ``upload_code``)."""
        request = self.estimator.training_job_request(tuning_job_name, inputs, platform=platform, upload_code=upload_code)
        algorithm = dict(request["algorithm_specification"])
        if self.metric_definitions is not None:
            algorithm["MetricDefinitions"] = list(self.metric_definitions)
        tuned = set(self.hyperparameter_ranges)
        definition: dict[str, Any] = {
            "StaticHyperParameters": {k: v for k, v in request["hyper_parameters"].items() if k not in tuned},
            "AlgorithmSpecification": algorithm,
            "InputDataConfig": request["input_data_config"],
            "OutputDataConfig": request["output_data_config"],
            "ResourceConfig": request["resource_config"],
            "StoppingCondition": request["stopping_condition"],
            "EnableManagedSpotTraining": request["enable_managed_spot_training"],
            "Environment": request["environment"],
        }
        if "checkpoint_config" in request:
            definition["CheckpointConfig"] = request["checkpoint_config"]
        return definition

    def _job(self) -> TuningJob:
        if self.latest_tuning_job is None:
            raise ValidationError("this tuner has not started a tuning job; call fit() first", field="fit")
        return self.latest_tuning_job

    def describe(self) -> dict[str, Any]:
        return self._job().describe()

    def wait(self) -> dict[str, Any]:
        return self._job().wait()

    def stop(self) -> None:
        self._job().stop()

    def best_training_job(self) -> str:
        """The name of the training job with the best objective value so far."""
        best = self.describe().get("BestTrainingJob")
        if not best:
            raise ValidationError(f"tuning job {self._job().name!r} has no completed training job with an objective value yet",
                                  field="BestTrainingJob")  # fmt: skip
        return best["TrainingJobName"]

    def best_estimator(self) -> Estimator:
        """The best training job, attached as an ``Estimator`` (its ``model_data`` is the best model)."""
        return Estimator.attach(self.best_training_job(), platform=self._job().platform)

    def deploy(self, initial_instance_count: int = 1, instance_type: str = "ml.m5.large",
               endpoint_name: str | None = None, **kwargs: Any) -> Any:  # fmt: skip
        """Deploy the best training job's model (the SDK's ``HyperparameterTuner.deploy``):
        an endpoint named after that job unless ``endpoint_name`` is given; its ``Predictor``."""
        return self.best_estimator().deploy(initial_instance_count=initial_instance_count, instance_type=instance_type,
                                            endpoint_name=endpoint_name, **kwargs)  # fmt: skip

    def leaderboard(self) -> list[dict[str, Any]]:
        """One flat record per training job, best first: its tuned hyperparameters (decoded),
        ``TrainingJobName``, ``TrainingJobStatus``, ``FinalObjectiveValue`` and times, like the
        rows of the SDK's ``HyperparameterTuningJobAnalytics.dataframe()``."""
        rows = []
        for summary in self._job().training_jobs():
            objective = summary.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
            start, end = summary.get("TrainingStartTime"), summary.get("TrainingEndTime")
            rows.append({
                **{k: _decoded(v) for k, v in (summary.get("TunedHyperParameters") or {}).items()},
                "TrainingJobName": summary["TrainingJobName"], "TrainingJobStatus": summary["TrainingJobStatus"],
                "FinalObjectiveValue": objective.get("Value"), "TrainingStartTime": start, "TrainingEndTime": end,
                "TrainingElapsedTimeSeconds": _seconds_between(start, end),
            })  # fmt: skip
        return rows

    def training_job(self, name: str) -> TrainingJob:
        return TrainingJob(self._job().platform, name)


def _decoded(value: Any) -> Any:
    try:
        return json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return value


def _seconds_between(start: Any, end: Any) -> float | None:
    if start is None or end is None or not hasattr(end, "__sub__"):
        return None
    try:
        return (end - start).total_seconds()
    except (TypeError, AttributeError):
        return None
