"""Steps that run a job: ``ProcessingStep``, ``TrainingStep``, ``TuningStep``
(``sagemaker.workflow.steps``).

Each takes the training SDK's object and its call's arguments (``processor=``, ``code=``,
``inputs=``...), or ``step_args=`` from that object's ``fit()`` / ``run()`` under a
``PipelineSession``. Its ``Arguments`` are the Create* request without the job name.

>>> import groundfog as gf
>>> from groundfog.pipelines.sdk import ParameterString
>>> data = ParameterString("InputData", default_value="s3://data/raw/")
>>> xgb = gf.Estimator(image_uri="xgboost", hyperparameters={"num_round": 10})
>>> train = TrainingStep("Train", estimator=xgb, inputs={"train": gf.TrainingInput(s3_data=data)})
>>> train.arguments["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"]  # doctest: +SKIP
{'Get': 'Parameters.InputData'}
>>> train.properties.ModelArtifacts.S3ModelArtifacts.expr
{'Get': 'Steps.Train.ModelArtifacts.S3ModelArtifacts'}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from groundfog.pipelines.sdk.context import BuildContext
from groundfog.pipelines.sdk.functions import PropertyFile
from groundfog.pipelines.sdk.job_arguments import (
    StepArguments,
    processing_step_arguments,
    training_step_arguments,
    tuning_step_arguments,
)
from groundfog.pipelines.sdk.policies import CacheConfig, RetryPolicy
from groundfog.pipelines.sdk.steps import ConfigurableRetryStep, Step, StepTypeEnum
from groundfog.pipelines.sdk.variables import Join


class _JobStep(ConfigurableRetryStep):
    step_args: StepArguments

    def _take(self, step_args: Any, own: dict[str, Any], build: Any) -> None:
        """Keep ``step_args``, or build them from the step's own job arguments (not both)."""
        given = [k for k, v in own.items() if v is not None]
        if step_args is not None:
            if not isinstance(step_args, StepArguments) or step_args.step_type != self.step_type.value:
                raise TypeError(f"{type(self).__name__} {self.name!r}: step_args must come from a "
                                f"{self.step_type.value.lower()} job call under a PipelineSession, got {step_args!r}")  # fmt: skip
            if given:
                raise ValueError(f"{type(self).__name__} {self.name!r}: give step_args or {', '.join(own)}, not both "
                                 f"(got {', '.join(given)} too)")  # fmt: skip
            self.step_args = step_args
        else:
            self.step_args = build()

    def _arguments(self, context: BuildContext) -> dict[str, Any]:
        return self.step_args.arguments(context)

    def _platform_hint(self) -> Any:
        return self.step_args.platform


class ProcessingStep(_JobStep):
    """Run a processing job: a ``Processor`` (with ``code=`` for a ``ScriptProcessor``) on
    ``inputs``, writing ``outputs``; ``property_files`` declares JSON files among its
    outputs that ``JsonGet`` reads. An output with no ``s3://`` destination goes where the
    engine puts it (``properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri``)."""

    step_type = StepTypeEnum.PROCESSING

    def __init__(
        self,
        name: str,
        processor: Any = None,
        *,
        step_args: StepArguments | None = None,
        display_name: str | None = None,
        description: str | None = None,
        inputs: list[Any] | None = None,
        outputs: list[Any] | None = None,
        job_arguments: list[Any] | None = None,
        code: str | None = None,
        property_files: Sequence[PropertyFile] | None = None,
        cache_config: CacheConfig | None = None,
        depends_on: Sequence[Step | str] | None = None,
        retry_policies: Sequence[RetryPolicy] | None = None,
        kms_key: str | None = None,
    ) -> None:
        super().__init__(name, display_name, description, depends_on, retry_policies, cache_config)
        if isinstance(processor, StepArguments):  # the SDK's newer positional order: (name, step_args)
            step_args, processor = processor, None
        own = {"processor": processor, "inputs": inputs, "outputs": outputs, "job_arguments": job_arguments, "code": code}
        if step_args is None and processor is None:
            raise ValueError(f"ProcessingStep {name!r} needs processor= (with code=, inputs=, outputs=) or step_args=")
        self._take(step_args, own, lambda: processing_step_arguments(processor, code, inputs, outputs, job_arguments))
        self.processor = processor if processor is not None else self.step_args.job
        self.property_files = list(property_files or [])
        for item in self.property_files:
            if not isinstance(item, PropertyFile):
                raise TypeError(f"ProcessingStep {name!r}: property_files must be PropertyFile objects, got {item!r}")
        self.kms_key = kms_key

    def _extras(self, context: BuildContext) -> dict[str, Any]:
        extras = super()._extras(context)
        if self.property_files:
            extras["PropertyFiles"] = [p.to_request() for p in self.property_files]
        return extras


class TrainingStep(_JobStep):
    """Run a training job: an ``Estimator`` on ``inputs`` (a URI, a ``TrainingInput`` or a
    dict of them by channel). With no ``output_path`` the engine picks where the model
    goes; ``properties.ModelArtifacts.S3ModelArtifacts`` says where it went."""

    step_type = StepTypeEnum.TRAINING

    def __init__(
        self,
        name: str,
        estimator: Any = None,
        *,
        step_args: StepArguments | None = None,
        display_name: str | None = None,
        description: str | None = None,
        inputs: Any = None,
        cache_config: CacheConfig | None = None,
        depends_on: Sequence[Step | str] | None = None,
        retry_policies: Sequence[RetryPolicy] | None = None,
    ) -> None:
        super().__init__(name, display_name, description, depends_on, retry_policies, cache_config)
        if isinstance(estimator, StepArguments):
            step_args, estimator = estimator, None
        if step_args is None and estimator is None:
            raise ValueError(f"TrainingStep {name!r} needs estimator= (with inputs=) or step_args=")
        self._take(step_args, {"estimator": estimator, "inputs": inputs}, lambda: training_step_arguments(estimator, inputs))
        self.estimator = estimator if estimator is not None else self.step_args.job


class TuningStep(_JobStep):
    """Run a hyperparameter tuning job: a ``HyperparameterTuner`` on ``inputs``.
    ``properties.BestTrainingJob.TrainingJobName`` names the best trial;
    ``get_top_model_s3_uri`` gives the k-th best model's location."""

    step_type = StepTypeEnum.TUNING

    def __init__(
        self,
        name: str,
        tuner: Any = None,
        *,
        step_args: StepArguments | None = None,
        display_name: str | None = None,
        description: str | None = None,
        inputs: Any = None,
        job_arguments: list[str] | None = None,
        cache_config: CacheConfig | None = None,
        depends_on: Sequence[Step | str] | None = None,
        retry_policies: Sequence[RetryPolicy] | None = None,
    ) -> None:
        super().__init__(name, display_name, description, depends_on, retry_policies, cache_config)
        if isinstance(tuner, StepArguments):
            step_args, tuner = tuner, None
        if step_args is None and tuner is None:
            raise ValueError(f"TuningStep {name!r} needs tuner= (with inputs=) or step_args=")
        self._take(step_args, {"tuner": tuner, "inputs": inputs}, lambda: tuning_step_arguments(tuner, inputs))
        self.tuner = tuner if tuner is not None else self.step_args.job
        self.job_arguments = job_arguments

    def get_top_model_s3_uri(self, top_k: int, s3_bucket: str, prefix: str = "") -> Join:
        """``s3://<s3_bucket>/<prefix>/<k-th best trial>/output/model.tar.gz`` (``top_k`` 0 is the
        best), as SageMaker builds it: the estimator's ``output_path`` must be
        ``s3://<s3_bucket>/<prefix>`` for it to point at the model.

        >>> import groundfog as gf
        >>> tuner = gf.HyperparameterTuner(gf.Estimator(image_uri="xgboost"), "validation:auc", {})
        >>> TuningStep("Tune", tuner=tuner).get_top_model_s3_uri(0, "models", "tuning").expr
        {'Std:Join': {'On': '/', 'Values': ['s3:/', 'models', 'tuning', {'Get': 'Steps.Tune.TrainingJobSummaries[0].TrainingJobName'}, 'output/model.tar.gz']}}
        """
        values: list[Any] = ["s3:/", s3_bucket]
        if prefix:
            values.append(prefix)
        return Join(on="/", values=[*values, self.properties.TrainingJobSummaries[top_k].TrainingJobName, "output/model.tar.gz"])
