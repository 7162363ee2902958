"""What every step shares (name, dependencies, properties, its definition JSON) and the
control steps: ``ConditionStep`` and ``FailStep`` (``sagemaker.workflow.condition_step``,
``fail_step``). Job steps are in ``job_steps``, model steps in ``model_steps``, function
and callback steps in ``function_steps``.

>>> from groundfog.pipelines.sdk import ConditionEquals, Join, ParameterString
>>> mode = ParameterString("Mode", default_value="full")
>>> stop = FailStep("Stop", error_message=Join(on=" ", values=["mode was", mode]))
>>> check = ConditionStep("Check", conditions=[ConditionEquals(mode, "dry-run")], if_steps=[stop])
>>> check.properties.Outcome.expr
{'Get': 'Steps.Check.Outcome'}
>>> check.to_request()["Arguments"]["IfSteps"][0]["Arguments"]
{'ErrorMessage': {'Std:Join': {'On': ' ', 'Values': ['mode was', {'Get': 'Parameters.Mode'}]}}}
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import enum
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from groundfog.pipelines.sdk.conditions import Condition
from groundfog.pipelines.sdk.context import BuildContext
from groundfog.pipelines.sdk.policies import CacheConfig, RetryPolicy
from groundfog.pipelines.sdk.properties import Properties, step_properties
from groundfog.pipelines.sdk.variables import serialize

STEP_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")

__all__ = ["ConditionStep", "ConfigurableRetryStep", "FailStep", "Step", "StepTypeEnum"]


class StepTypeEnum(str, enum.Enum):
    PROCESSING = "Processing"
    TRAINING = "Training"
    TUNING = "Tuning"
    CREATE_MODEL = "Model"
    REGISTER_MODEL = "RegisterModel"
    CONDITION = "Condition"
    FAIL = "Fail"
    LAMBDA = "Lambda"
    CALLBACK = "Callback"


class Step(ABC):
    """A named node of the pipeline: ``properties`` addresses what it will report, and
    ``to_request()`` is its definition JSON. ``depends_on`` lists steps (or their names)
    that must end first, beyond those whose properties it reads."""

    step_type: ClassVar[StepTypeEnum]
    _outputs_alias: ClassVar[bool] = False

    def __init__(
        self,
        name: str,
        display_name: str | None = None,
        description: str | None = None,
        depends_on: Sequence[Step | str] | None = None,
    ) -> None:
        if not isinstance(name, str) or not STEP_NAME.match(name):
            raise ValueError(f"step name {name!r} must be 1-64 letters, digits, '-' or '_'")
        self.name = name
        self.display_name = display_name
        self.description = description
        self.depends_on: list[Step | str] | None = None
        if depends_on:
            self.add_depends_on(depends_on)
        self.properties: Properties = step_properties(name, outputs_alias=self._outputs_alias)

    def add_depends_on(self, steps: Sequence[Step | str]) -> None:
        """Run after ``steps`` (step objects or names) too."""
        for step in steps:
            if not isinstance(step, (Step, str)):
                raise TypeError(f"step {self.name!r}: depends_on takes steps or step names, got {type(step).__name__}")
        self.depends_on = [*(self.depends_on or []), *steps]

    @abstractmethod
    def _arguments(self, context: BuildContext) -> dict[str, Any]:
        """The step's ``Arguments``."""

    def _extras(self, context: BuildContext) -> dict[str, Any]:
        """Type-specific keys beside ``Arguments`` (CacheConfig, PropertyFiles, FunctionArn...)."""
        return {}

    def _platform_hint(self) -> Any:
        """The platform this step's own objects name, for building it outside a pipeline."""
        return None

    def branch_steps(self) -> list[Step]:
        """Steps nested inside this one (a condition's branches)."""
        return []

    @property
    def arguments(self) -> dict[str, Any]:
        """The step's ``Arguments`` as the definition holds them."""
        return serialize(self._arguments(BuildContext(self._platform_hint())))

    def to_request(self, context: BuildContext | None = None) -> dict[str, Any]:
        """The step as one entry of the definition's ``Steps``."""
        context = context or BuildContext(self._platform_hint())
        request: dict[str, Any] = {"Name": self.name, "Type": self.step_type.value,
                                   "Arguments": serialize(self._arguments(context))}  # fmt: skip
        if self.depends_on:
            request["DependsOn"] = list(dict.fromkeys(s.name if isinstance(s, Step) else s for s in self.depends_on))
        if self.display_name is not None:
            request["DisplayName"] = self.display_name
        if self.description is not None:
            request["Description"] = self.description
        request.update(serialize(self._extras(context)))
        return request

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class ConfigurableRetryStep(Step):
    """A step that takes ``retry_policies`` (and, for job steps, ``cache_config``)."""

    def __init__(
        self,
        name: str,
        display_name: str | None = None,
        description: str | None = None,
        depends_on: Sequence[Step | str] | None = None,
        retry_policies: Sequence[RetryPolicy] | None = None,
        cache_config: CacheConfig | None = None,
    ) -> None:
        super().__init__(name, display_name, description, depends_on)
        if cache_config is not None and not isinstance(cache_config, CacheConfig):
            raise TypeError(f"step {name!r}: cache_config must be a CacheConfig, got {type(cache_config).__name__}")
        if not all(isinstance(p, RetryPolicy) for p in retry_policies or []):
            raise TypeError(f"step {name!r}: retry_policies must be StepRetryPolicy / SageMakerJobStepRetryPolicy objects")
        self.retry_policies = list(retry_policies or [])
        self.cache_config = cache_config

    def add_retry_policy(self, retry_policy: RetryPolicy) -> None:
        self.retry_policies.append(retry_policy)

    def _extras(self, context: BuildContext) -> dict[str, Any]:
        extras: dict[str, Any] = {}
        if self.cache_config is not None:
            extras["CacheConfig"] = self.cache_config.to_request()
        if self.retry_policies:
            extras["RetryPolicies"] = [p.to_request() for p in self.retry_policies]
        return extras


class ConditionStep(Step):
    """Run ``if_steps`` when every one of ``conditions`` holds, else ``else_steps``.

    Branch steps are nested in this step's definition (not listed at the top level, even
    when also given in the pipeline's ``steps``); a pipeline may list only its condition
    step and reach the rest through it. ``properties.Outcome`` is the decision (a bool).
    """

    step_type = StepTypeEnum.CONDITION

    def __init__(
        self,
        name: str,
        conditions: Sequence[Condition] | None = None,
        if_steps: Sequence[Step] | None = None,
        else_steps: Sequence[Step] | None = None,
        *,
        depends_on: Sequence[Step | str] | None = None,
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(name, display_name, description, depends_on)
        self.conditions = list(conditions or [])
        if not self.conditions:
            raise ValueError(f"ConditionStep {name!r} needs at least one condition")
        for condition in self.conditions:
            if not isinstance(condition, Condition):
                raise TypeError(f"ConditionStep {name!r}: conditions must be Condition objects, got {type(condition).__name__}")
        self.if_steps = list(if_steps or [])
        self.else_steps = list(else_steps or [])
        for step in (*self.if_steps, *self.else_steps):
            if not isinstance(step, Step):
                raise TypeError(f"ConditionStep {name!r}: if_steps / else_steps must be steps, got {type(step).__name__}")

    def branch_steps(self) -> list[Step]:
        return [*self.if_steps, *self.else_steps]

    def _arguments(self, context: BuildContext) -> dict[str, Any]:
        return {
            "Conditions": [c.to_request() for c in self.conditions],
            "IfSteps": [s.to_request(context) for s in self.if_steps],
            "ElseSteps": [s.to_request(context) for s in self.else_steps],
        }


class FailStep(Step):
    """End the execution as Failed with ``error_message`` (text or a pipeline variable)."""

    step_type = StepTypeEnum.FAIL

    def __init__(
        self,
        name: str,
        error_message: Any = None,
        display_name: str | None = None,
        description: str | None = None,
        depends_on: Sequence[Step | str] | None = None,
    ) -> None:
        super().__init__(name, display_name, description, depends_on)
        self.error_message = "" if error_message is None else error_message

    def _arguments(self, context: BuildContext) -> dict[str, Any]:
        return {"ErrorMessage": self.error_message}
