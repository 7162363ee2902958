"""Run-time functions of a definition: ``Join``, ``JsonGet``, the execution variables,
and the property files ``JsonGet`` reads (``sagemaker.workflow.functions``,
``execution_variables`` and ``properties.PropertyFile``).

>>> report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
>>> JsonGet(step_name="Evaluate", property_file=report, json_path="metrics.accuracy.value").expr
{'Std:JsonGet': {'PropertyFile': {'Get': 'Steps.Evaluate.PropertyFiles.EvaluationReport'}, 'Path': 'metrics.accuracy.value'}}
>>> Join(on="/", values=["s3://bucket", ExecutionVariables.PIPELINE_EXECUTION_ID]).expr
{'Std:Join': {'On': '/', 'Values': ['s3://bucket', {'Get': 'Execution.PipelineExecutionId'}]}}
"""

from __future__ import annotations

from typing import Any

from groundfog.pipelines.sdk.variables import ExecutionVariable, Join, PipelineVariable

__all__ = ["ExecutionVariable", "ExecutionVariables", "Join", "JsonGet", "PropertyFile"]


class ExecutionVariables:
    """Facts about the running execution, usable anywhere a value is.

    >>> ExecutionVariables.START_DATETIME.expr
    {'Get': 'Execution.StartDateTime'}
    """

    START_DATETIME = ExecutionVariable("StartDateTime")
    CURRENT_DATETIME = ExecutionVariable("CurrentDateTime")
    PIPELINE_NAME = ExecutionVariable("PipelineName")
    PIPELINE_ARN = ExecutionVariable("PipelineArn")
    PIPELINE_EXECUTION_ID = ExecutionVariable("PipelineExecutionId")
    PIPELINE_EXECUTION_ARN = ExecutionVariable("PipelineExecutionArn")


class PropertyFile:
    """A JSON file a processing step writes into one of its outputs (``output_name``, at
    ``path`` inside it), declared in the step's ``property_files`` so that ``JsonGet`` can
    read values from it.

    >>> PropertyFile("EvaluationReport", "evaluation", "evaluation.json").to_request()
    {'PropertyFileName': 'EvaluationReport', 'OutputName': 'evaluation', 'FilePath': 'evaluation.json'}
    """

    def __init__(self, name: str, output_name: str, path: str) -> None:
        self.name = name
        self.output_name = output_name
        self.path = path

    @property
    def expr(self) -> dict[str, Any]:
        return self.to_request()

    def to_request(self) -> dict[str, Any]:
        return {"PropertyFileName": self.name, "OutputName": self.output_name, "FilePath": self.path}

    def __repr__(self) -> str:
        return f"PropertyFile({self.name!r}, {self.output_name!r}, {self.path!r})"


class JsonGet(PipelineVariable):
    """The value at ``json_path`` (dots and ``[index]``) in a property file of a processing
    step, named by ``step_name`` or given as ``step``. The step it reads from runs first:
    the engine sees the reference.
    """

    def __init__(
        self,
        step_name: str | None = None,
        property_file: PropertyFile | str | None = None,
        json_path: str | None = None,
        step: Any = None,
    ) -> None:
        if step is not None:
            if step_name is not None and step_name != step.name:
                raise ValueError(f"JsonGet: step_name {step_name!r} and step {step.name!r} disagree; give one")
            step_name = step.name
        if not step_name:
            raise ValueError("JsonGet needs step_name (or step): the processing step whose property file it reads")
        if property_file is None or json_path is None:
            raise ValueError("JsonGet needs property_file (a PropertyFile or its name) and json_path")
        self.step_name = step_name
        self.property_file = property_file
        self.json_path = json_path
        self.step = step

    @property
    def property_file_name(self) -> str:
        return self.property_file.name if isinstance(self.property_file, PropertyFile) else str(self.property_file)

    @property
    def expr(self) -> dict[str, Any]:
        source = {"Get": f"Steps.{self.step_name}.PropertyFiles.{self.property_file_name}"}
        return {"Std:JsonGet": {"PropertyFile": source, "Path": self.json_path}}

    def __repr__(self) -> str:
        return f"JsonGet(step_name={self.step_name!r}, property_file={self.property_file_name!r}, json_path={self.json_path!r})"
