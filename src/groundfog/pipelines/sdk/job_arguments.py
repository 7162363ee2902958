"""A job step's ``Arguments``, built from the training SDK's own objects.

An ``Estimator``, a ``Processor`` or a ``HyperparameterTuner`` already knows how to write
its Create* request; a step asks it for that request with no job name (the engine names
each job when it runs) and with content-addressed code locations (see ``context``), and
keeps the PascalCase keys. Pipeline variables inside pass through untouched.

``StepArguments`` is what ``fit()`` / ``run()`` return under a ``PipelineSession``, and
what ``TrainingStep(step_args=...)`` and friends take.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from groundfog.pipelines.sdk.context import BuildContext
from groundfog.training.sdk_estimator import Estimator
from groundfog.training.sdk_processing import ProcessingInput, ProcessingOutput, Processor, ScriptProcessor
from groundfog.training.sdk_tuning import HyperparameterTuner

def pascal_request(request: dict[str, Any]) -> dict[str, Any]:
    """``{"hyper_parameters": ...}`` → ``{"HyperParameters": ...}``, without unset (None)
    keys or an empty ``Environment``.

    >>> pascal_request({"role_arn": None, "hyper_parameter_tuning_job_config": {}, "environment": {}})
    {'HyperParameterTuningJobConfig': {}}
    """
    out = {}
    for key, value in request.items():
        if value is None or (key == "environment" and value == {}):
            continue
        out["".join(part.capitalize() for part in key.split("_"))] = value
    return out


class StepArguments:
    """A job step's arguments, built when the pipeline's definition is (so the code is
    uploaded to the platform the pipeline is defined on).

    ``step_type`` is ``Processing``, ``Training`` or ``Tuning``; ``job`` the SDK object;
    ``platform`` where to build when no pipeline says (the session's, else the job's own).
    """

    def __init__(self, step_type: str, job: Any, build: Callable[[BuildContext], dict[str, Any]], platform: Any = None) -> None:
        self.step_type = step_type
        self.job = job
        self._build = build
        self.platform = platform if platform is not None else _job_platform(job)

    def arguments(self, context: BuildContext | None = None) -> dict[str, Any]:
        """The step's ``Arguments`` (pipeline variables not yet serialised)."""
        return self._build(context or BuildContext(self.platform))

    @property
    def request(self) -> dict[str, Any]:
        """The Create* request the step will send, without the job name."""
        return self.arguments()

    def __repr__(self) -> str:
        return f"StepArguments({self.step_type!r}, {type(self.job).__name__})"


def _job_platform(job: Any) -> Any:
    if isinstance(job, HyperparameterTuner):
        return job.estimator.platform
    return getattr(job, "platform", None)


def training_step_arguments(estimator: Estimator, inputs: Any = None, *, platform: Any = None) -> StepArguments:
    """What ``TrainingStep(estimator=..., inputs=...)`` runs: CreateTrainingJob's request."""
    if not isinstance(estimator, Estimator):
        raise TypeError(f"a training step needs an Estimator, got {type(estimator).__name__}")

    def build(context: BuildContext) -> dict[str, Any]:
        request = estimator.training_job_request(None, inputs, platform=context.platform,
                                                 upload_code=context.code_uploader(estimator.code_location))  # fmt: skip
        return pascal_request(request)

    return StepArguments("Training", estimator, build, platform)


def processing_step_arguments(
    processor: Processor,
    code: str | None = None,
    inputs: list[ProcessingInput] | None = None,
    outputs: list[ProcessingOutput] | None = None,
    arguments: list[Any] | None = None,
    *,
    platform: Any = None,
) -> StepArguments:
    """What ``ProcessingStep(processor=..., code=..., ...)`` runs: CreateProcessingJob's
    request; ``code`` (a ``ScriptProcessor``'s script) goes to a content-addressed place."""
    if not isinstance(processor, Processor):
        raise TypeError(f"a processing step needs a Processor, got {type(processor).__name__}")
    if code is not None and not isinstance(processor, ScriptProcessor):
        raise ValueError(f"code= needs a ScriptProcessor (or SKLearnProcessor); a {type(processor).__name__} "
                         "runs its entrypoint")  # fmt: skip
    if code is None and isinstance(processor, ScriptProcessor):
        raise ValueError(f"a {type(processor).__name__} runs a script: give code=")

    def build(context: BuildContext) -> dict[str, Any]:
        if isinstance(processor, ScriptProcessor) and code is not None:
            entrypoint, all_inputs = processor.with_code(code, inputs)
        else:
            entrypoint, all_inputs = processor.entrypoint, list(inputs or [])
        request = processor.processing_job_request(None, entrypoint, all_inputs, outputs, arguments,
                                                   platform=context.platform, upload=context.upload_path)  # fmt: skip
        return pascal_request(request)

    return StepArguments("Processing", processor, build, platform)


def tuning_step_arguments(tuner: HyperparameterTuner, inputs: Any = None, *, platform: Any = None) -> StepArguments:
    """What ``TuningStep(tuner=..., inputs=...)`` runs: CreateHyperParameterTuningJob's request."""
    if not isinstance(tuner, HyperparameterTuner):
        raise TypeError(f"a tuning step needs a HyperparameterTuner, got {type(tuner).__name__}")

    def build(context: BuildContext) -> dict[str, Any]:
        upload = context.code_uploader(tuner.estimator.code_location)
        return pascal_request(tuner.tuning_job_request(None, inputs, platform=context.platform, upload_code=upload))

    return StepArguments("Tuning", tuner, build, platform)


def deferred_job(job: Any, platform: Any = None, **call: Any) -> StepArguments:
    """The step arguments of ``job.fit(**call)`` / ``job.run(**call)``, under a ``PipelineSession``."""
    if isinstance(job, HyperparameterTuner):
        return tuning_step_arguments(job, call.get("inputs"), platform=platform)
    if isinstance(job, Estimator):
        return training_step_arguments(job, call.get("inputs"), platform=platform)
    if isinstance(job, Processor):
        return processing_step_arguments(job, call.get("code"), call.get("inputs"), call.get("outputs"),
                                         call.get("arguments"), platform=platform)  # fmt: skip
    raise TypeError(f"a PipelineSession defers Estimator, Processor and HyperparameterTuner jobs, not {type(job).__name__}")
