"""``PipelineSession``: define a step by writing the job call, as with SageMaker's SDK.

An ``Estimator``, ``Processor`` or ``HyperparameterTuner`` built with
``sagemaker_session=PipelineSession()`` starts no job on ``fit()`` / ``run()``: the call
returns the step's arguments, which ``TrainingStep(step_args=...)`` (and the processing
and tuning steps) take.

>>> import groundfog as gf
>>> from groundfog.pipelines.sdk import PipelineSession, TrainingStep
>>> session = PipelineSession()
>>> estimator = gf.SKLearn(entry_point="train.py", sagemaker_session=session)
>>> step = TrainingStep("Train", step_args=estimator.fit({"train": "s3://data/train/"}))
>>> step.step_args
StepArguments('Training', SKLearn)
"""

from __future__ import annotations

from typing import Any

from groundfog.pipelines.sdk.job_arguments import StepArguments, deferred_job
from groundfog.training.sdk import default_bucket, resolve_platform


class PipelineSession:
    """A session under which job calls return step arguments instead of starting jobs;
    ``platform`` (default: the SDK's default platform) is where their code is uploaded."""

    def __init__(self, platform: Any = None) -> None:
        self._platform = platform

    @property
    def platform(self) -> Any:
        """The platform given, or None for the SDK's default (resolved when first needed)."""
        return self._platform

    def default_bucket(self) -> str:
        """``sagemaker-local-000000000000``, as the SDK session's ``default_bucket()``."""
        return default_bucket(resolve_platform(self._platform))

    def defer_job(self, job: Any, **call: Any) -> StepArguments:
        """What ``job.fit(**call)`` / ``job.run(**call)`` returns under this session (the
        training SDK calls this instead of starting a job)."""
        return deferred_job(job, self._platform, **call)

    def __repr__(self) -> str:
        return f"PipelineSession(platform={self._platform!r})"

