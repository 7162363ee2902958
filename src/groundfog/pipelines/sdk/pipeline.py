"""``Pipeline``: parameters and steps as a definition, and the calls that run it
(SageMaker's ``sagemaker.workflow.pipeline.Pipeline``).

>>> from groundfog.pipelines.sdk import FailStep, ParameterString
>>> reason = ParameterString("Reason", default_value="nothing to do")
>>> pipeline = Pipeline("noop", parameters=[reason], steps=[FailStep("Stop", error_message=reason)])
>>> print(pipeline.definition())
{"Version": "2020-12-01", "Metadata": {}, "Parameters": [{"Name": "Reason", "Type": "String", "DefaultValue": "nothing to do"}], "Steps": [{"Name": "Stop", "Type": "Fail", "Arguments": {"ErrorMessage": {"Get": "Parameters.Reason"}}}]}
>>> pipeline.upsert()                            # doctest: +SKIP
>>> pipeline.start().wait()                      # doctest: +SKIP
"""

from __future__ import annotations

import copy
import json
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from groundfog.pipelines.sdk.context import BuildContext
from groundfog.pipelines.sdk.execution import PipelineExecution
from groundfog.pipelines.sdk.function_steps import FunctionStep
from groundfog.pipelines.sdk.parameters import Parameter
from groundfog.pipelines.sdk.policies import ParallelismConfiguration
from groundfog.pipelines.sdk.steps import Step
from groundfog.pipelines.sdk.variables import serialize
from groundfog.training.sdk import resolve_platform, tags_list

VERSION = "2020-12-01"


def walk(steps: Sequence[Step]) -> Iterator[Step]:
    """``steps`` and every step nested in them (condition branches), depth first."""
    for step in steps:
        yield step
        yield from walk(step.branch_steps())


class Pipeline:
    """A named pipeline: ``parameters`` (given at start), ``steps`` (in the order the
    definition lists them; a condition's branch steps are nested in it, so listing the
    condition alone is enough) and the platform it runs on (``platform``, else the
    ``PipelineSession``'s, else the SDK's default).
    """

    def __init__(
        self,
        name: str,
        parameters: Sequence[Parameter] | None = None,
        steps: Sequence[Step] | None = None,
        sagemaker_session: Any = None,
        parallelism_config: ParallelismConfiguration | None = None,
        platform: Any = None,
        *,
        pipeline_experiment_config: Any = None,
    ) -> None:
        self.name = name
        self.parameters = list(parameters or [])
        self.steps = list(steps or [])
        self.sagemaker_session = sagemaker_session
        self.parallelism_config = parallelism_config
        self.pipeline_experiment_config = pipeline_experiment_config
        self._platform = platform
        self._document: dict[str, Any] | None = None
        for item in self.parameters:
            if not isinstance(item, Parameter):
                raise TypeError(f"pipeline {name!r}: parameters must be Parameter* objects, got {type(item).__name__}")
        for step in self.steps:
            if not isinstance(step, Step):
                raise TypeError(f"pipeline {name!r}: steps must be step objects, got {type(step).__name__}")

    @classmethod
    def from_definition(
        cls, name: str, definition: str | dict[str, Any] | os.PathLike[str], *, platform: Any = None,
        sagemaker_session: Any = None,
    ) -> Pipeline:  # fmt: skip
        """A pipeline whose definition is the given JSON (text, a dict, or a ``.json`` file's path).

        >>> Pipeline.from_definition("copy", '{"Version": "2020-12-01", "Steps": []}').definition()
        '{"Version": "2020-12-01", "Steps": []}'
        """
        if isinstance(definition, os.PathLike):
            definition = Path(definition).read_text()
        document = json.loads(definition) if isinstance(definition, str) else copy.deepcopy(definition)
        if not isinstance(document, dict):
            raise ValueError(f"a pipeline definition is a JSON object, got {type(document).__name__}")
        pipeline = cls(name, sagemaker_session=sagemaker_session, platform=platform)
        pipeline._document = document
        return pipeline

    # -- the definition ---------------------------------------------------------------------

    def definition(self) -> str:
        """The definition as JSON text (uploads the steps' local code first)."""
        return json.dumps(self.to_request())

    def to_request(self) -> dict[str, Any]:
        """The definition as a dict."""
        if self._document is not None:
            return copy.deepcopy(self._document)
        steps = self._top_level_steps()
        self._check_unique(steps)
        context = BuildContext(self._platform_hint())
        document: dict[str, Any] = {"Version": VERSION, "Metadata": {}, "Parameters": [p.to_request() for p in self.parameters]}
        if self.pipeline_experiment_config is not None:
            document["PipelineExperimentConfig"] = serialize(self.pipeline_experiment_config)
        document["Steps"] = [step.to_request(context) for step in steps]
        return document

    def _top_level_steps(self) -> list[Step]:
        nested = {id(s) for step in self.steps for s in walk(step.branch_steps())}
        seen: set[int] = set()
        top = []
        for step in self.steps:
            if id(step) not in nested and id(step) not in seen:
                seen.add(id(step))
                top.append(step)
        return top

    def _check_unique(self, steps: list[Step]) -> None:
        twice = [name for name, count in Counter(s.name for s in walk(steps)).items() if count > 1]
        if twice:
            raise ValueError(f"pipeline {self.name!r}: step names must be unique; used more than once: {', '.join(twice)}")
        twice = [name for name, count in Counter(p.name for p in self.parameters).items() if count > 1]
        if twice:
            raise ValueError(f"pipeline {self.name!r}: parameter names must be unique; declared more than once: "
                             f"{', '.join(twice)}")  # fmt: skip

    # -- the service ------------------------------------------------------------------------

    def _platform_hint(self) -> Any:
        if self._platform is not None:
            return self._platform
        return getattr(self.sagemaker_session, "platform", None)

    @property
    def platform(self) -> Any:
        """The platform the pipeline is defined and run on."""
        if self._platform is None:
            self._platform = resolve_platform(self._platform_hint())
        return self._platform

    def _request(
        self, role_arn: str | None, description: str | None, parallelism_config: Any, tags: Any
    ) -> dict[str, Any]:  # fmt: skip
        for step in walk(self.steps):
            if isinstance(step, FunctionStep):
                step.target.register(self.platform)
        request: dict[str, Any] = {"pipeline_name": self.name, "pipeline_definition": self.definition()}
        parallelism = _parallelism(parallelism_config or self.parallelism_config)
        for key, value in (("pipeline_description", description), ("role_arn", role_arn),
                           ("parallelism_configuration", parallelism), ("tags", tags_list(tags))):  # fmt: skip
            if value is not None:
                request[key] = value
        return request

    def upsert(
        self, role_arn: str | None = None, description: str | None = None,
        parallelism_config: ParallelismConfiguration | None = None, *, tags: Any = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Create the pipeline, or update it to this definition; registers the functions
        its function steps call first."""
        return self.platform.pipelines.upsert_pipeline(**self._request(role_arn, description, parallelism_config, tags))

    def create(
        self, role_arn: str | None = None, description: str | None = None,
        parallelism_config: ParallelismConfiguration | None = None, *, tags: Any = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Create the pipeline (``AlreadyExists`` if there is one of that name)."""
        return self.platform.pipelines.create_pipeline(**self._request(role_arn, description, parallelism_config, tags))

    def update(
        self, role_arn: str | None = None, description: str | None = None,
        parallelism_config: ParallelismConfiguration | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Replace the existing pipeline's definition with this one."""
        return self.platform.pipelines.update_pipeline(**self._request(role_arn, description, parallelism_config, None))

    def describe(self) -> dict[str, Any]:
        return self.platform.pipelines.describe_pipeline(pipeline_name=self.name)

    def delete(self) -> Any:
        return self.platform.pipelines.delete_pipeline(pipeline_name=self.name)

    def list_executions(self) -> dict[str, Any]:
        """``{"PipelineExecutionSummaries": [...]}``, newest first."""
        return self.platform.pipelines.list_pipeline_executions(pipeline_name=self.name)

    def start(
        self,
        parameters: dict[str, Any] | None = None,
        execution_display_name: str | None = None,
        execution_description: str | None = None,
        parallelism_config: ParallelismConfiguration | None = None,
    ) -> PipelineExecution:
        """Start an execution; ``parameters`` by name (values as text or JSON values)
        override the defaults.

        >>> pipeline.start(parameters={"MinAccuracy": 0.9, "InputData": "s3://data/new/"})  # doctest: +SKIP
        PipelineExecution('arn:groundfog:pipelines:local:000000000000:pipeline/churn/execution/...')
        """
        request: dict[str, Any] = {"pipeline_name": self.name}
        if parameters:
            request["pipeline_parameters"] = [{"Name": str(k), "Value": _parameter_value(v)} for k, v in parameters.items()]
        parallelism = _parallelism(parallelism_config or self.parallelism_config)
        for key, value in (("pipeline_execution_display_name", execution_display_name),
                           ("pipeline_execution_description", execution_description),
                           ("parallelism_configuration", parallelism)):  # fmt: skip
            if value is not None:
                request[key] = value
        started = self.platform.pipelines.start_pipeline_execution(**request)
        return PipelineExecution(started["PipelineExecutionArn"], self.platform)

    def __repr__(self) -> str:
        return f"Pipeline({self.name!r})"


def _parameter_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _parallelism(config: Any) -> dict[str, Any] | None:
    if config is None or isinstance(config, dict):
        return config
    return config.to_request()
