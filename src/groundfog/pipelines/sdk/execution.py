"""One run of a pipeline: ``describe()``, ``list_steps()``, ``wait()``, ``stop()``, ``retry()``
(SageMaker's ``_PipelineExecution``).

>>> execution = pipeline.start(parameters={"MinAccuracy": 0.9})   # doctest: +SKIP
>>> execution.wait()["PipelineExecutionStatus"]                  # doctest: +SKIP
'Succeeded'
>>> [s["StepName"] for s in execution.list_steps()]              # doctest: +SKIP
['Evaluate', 'Train', 'Preprocess']
"""

from __future__ import annotations

import time
from typing import Any

from groundfog.core.errors import GroundfogError
from groundfog.training.sdk import WAIT_SLICE_SECONDS, resolve_platform

ENDED = ("Succeeded", "Failed", "Stopped")


class PipelineExecutionFailed(GroundfogError):
    """A waited-for execution ended Failed or Stopped; ``details`` hold its ARN, status,
    ``FailureReason`` and the failed steps."""

    code = "PipelineExecutionFailed"


class PipelineExecution:
    """A pipeline execution by ARN, on ``platform`` (the SDK's default when not given)."""

    def __init__(self, arn: str, platform: Any = None) -> None:
        self.arn = arn
        self.platform = resolve_platform(platform)

    @property
    def _service(self) -> Any:
        return self.platform.pipelines

    def describe(self) -> dict[str, Any]:
        return self._service.describe_pipeline_execution(pipeline_execution_arn=self.arn)

    def list_steps(self) -> list[dict[str, Any]]:
        """Each step's record (``StepName``, ``StepStatus``, ``Metadata``...), latest first."""
        return self._service.list_pipeline_execution_steps(pipeline_execution_arn=self.arn)["PipelineExecutionSteps"]

    def stop(self) -> Any:
        return self._service.stop_pipeline_execution(pipeline_execution_arn=self.arn)

    def retry(self) -> Any:
        """Run the failed steps again (and what follows them), keeping what succeeded."""
        return self._service.retry_pipeline_execution(pipeline_execution_arn=self.arn)

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """Block until the execution ends and return its description; raise
        ``PipelineExecutionFailed`` if it ended Failed or Stopped, ``TimeoutError`` if it is
        still running after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = WAIT_SLICE_SECONDS if deadline is None else max(0.0, min(WAIT_SLICE_SECONDS, deadline - time.monotonic()))
            described = self._service.wait_for_pipeline_execution(pipeline_execution_arn=self.arn, timeout=left)
            status = described["PipelineExecutionStatus"]
            if status in ENDED:
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"pipeline execution {self.arn} is still {status} after {timeout} seconds")
        if status == "Succeeded":
            return described
        raise self._failure(described)

    def _failure(self, described: dict[str, Any]) -> PipelineExecutionFailed:
        status = described["PipelineExecutionStatus"]
        reason = described.get("FailureReason") or ("stopped" if status == "Stopped" else "no reason recorded")
        try:
            failed = [f"{s['StepName']}: {s.get('FailureReason') or s['StepStatus']}"
                      for s in self.list_steps() if s.get("StepStatus") in ("Failed", "Stopped")]  # fmt: skip
        except (GroundfogError, KeyError):
            failed = []
        steps = f" (steps: {'; '.join(failed)})" if failed else ""
        return PipelineExecutionFailed(
            f"pipeline execution {self.arn} ended {status}: {reason}{steps}",
            execution_arn=self.arn, status=status, failure_reason=reason, failed_steps=failed,
        )  # fmt: skip

    def __repr__(self) -> str:
        return f"PipelineExecution({self.arn!r})"
