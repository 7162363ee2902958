"""Pipeline definitions for tests, in SageMaker's JSON shape, built tersely."""

from __future__ import annotations

from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
FUNCTIONS = ("double", "noop", "echo", "flaky", "sleepy", "append")


def register_functions(platform) -> dict[str, str]:
    """``{name: function ARN}`` for every handler of ``pl_fns`` (this folder's test handlers)."""
    return {name: platform.events.create_function(name=f"pl-{name}", handler=f"pl_fns:{name}",
                                                  code_path=str(HERE)).function_arn
            for name in FUNCTIONS}


def get(path: str) -> dict[str, str]:
    return {"Get": path}


def lam(name: str, arn: str, arguments: dict[str, Any] | None = None, outputs: dict[str, str] | None = None,
        **extra: Any) -> dict[str, Any]:
    return {"Name": name, "Type": "Lambda", "FunctionArn": arn, "Arguments": arguments or {},
            "OutputParameters": [{"OutputName": k, "OutputType": v} for k, v in (outputs or {}).items()], **extra}


def definition(*steps: dict[str, Any], parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"Version": "2020-12-01", "Metadata": {}, "Parameters": parameters or [], "Steps": list(steps)}


def run(platform, name: str, document: dict[str, Any], parameters: dict[str, Any] | None = None,
        timeout: float = 60) -> tuple[str, dict[str, Any], dict[str, dict[str, Any]]]:
    """Upsert, start, wait: (execution ARN, description, {step name: step summary})."""
    platform.pipelines.upsert_pipeline(pipeline_name=name, pipeline_definition=document)
    arn = platform.pipelines.start_pipeline_execution(pipeline_name=name, pipeline_parameters=parameters)[
        "PipelineExecutionArn"]
    described = platform.pipelines.wait_for_pipeline_execution(pipeline_execution_arn=arn, timeout=timeout)
    return arn, described, steps_of(platform, arn)


def steps_of(platform, arn: str) -> dict[str, dict[str, Any]]:
    listed = platform.pipelines.list_pipeline_execution_steps(pipeline_execution_arn=arn)["PipelineExecutionSteps"]
    return {s["StepName"]: s for s in listed}
