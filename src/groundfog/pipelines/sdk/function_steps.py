"""Steps that call out: ``FunctionStep`` runs a function (Type ``Lambda``, SageMaker's
``LambdaStep``); ``CallbackStep`` waits for someone to report back.

A function is an events function's ARN, a ``"module:attr"`` handler, or a Python
function defined at module level; for the last two the pipeline registers (upserts) an
events function named after the handler when it is upserted. The function gets the
step's ``inputs`` as its event and returns a dict holding the declared ``outputs``.

>>> step = FunctionStep("Check", function="shop.checks:accuracy_ok",
...                     inputs={"threshold": 0.8}, outputs=[FunctionOutput("ok", "Boolean")])
>>> step.to_request()["FunctionArn"]
'arn:groundfog:events:local:000000000000:function/pipeline-fn-shop-checks-accuracy_ok'
>>> step.properties.Outputs["ok"].expr
{'Get': "Steps.Check.OutputParameters['ok']"}
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import inspect
import re
import sysconfig
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from groundfog.core.errors import AlreadyExists, ResourceNotFound
from groundfog.core.names import arn
from groundfog.pipelines.sdk.context import BuildContext
from groundfog.pipelines.sdk.policies import CacheConfig
from groundfog.pipelines.sdk.steps import Step, StepTypeEnum
from groundfog.pipelines.sdk.variables import PipelineVariable

FUNCTION_NAME_PREFIX = "pipeline-fn-"
MAX_FUNCTION_NAME = 64


class LambdaOutputTypeEnum(str, enum.Enum):
    String = "String"
    Integer = "Integer"
    Boolean = "Boolean"
    Float = "Float"


CallbackOutputTypeEnum = LambdaOutputTypeEnum


class FunctionOutput(PipelineVariable):
    """An output a function (or callback) step declares; once the step is built, it also
    stands for that output's value, like ``step.properties.Outputs[name]``."""

    def __init__(self, output_name: str, output_type: LambdaOutputTypeEnum | str = LambdaOutputTypeEnum.String) -> None:
        self.output_name = output_name
        self.output_type = LambdaOutputTypeEnum(output_type)
        self._step_name: str | None = None

    def _bind(self, step_name: str) -> None:
        if self._step_name not in (None, step_name):
            raise ValueError(f"output {self.output_name!r} already belongs to step {self._step_name!r}; "
                             "create one output object per step")  # fmt: skip
        self._step_name = step_name

    @property
    def expr(self) -> dict[str, Any]:
        if self._step_name is None:
            raise ValueError(f"output {self.output_name!r} belongs to no step yet: give it to a step's outputs first")
        return {"Get": f"Steps.{self._step_name}.OutputParameters['{self.output_name}']"}

    def to_request(self) -> dict[str, Any]:
        return {"OutputName": self.output_name, "OutputType": self.output_type.value}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.output_name!r}, {self.output_type.value!r})"


class LambdaOutput(FunctionOutput):
    """SageMaker's name for a function step's output."""


class CallbackOutput(FunctionOutput):
    """An output a callback step's caller reports back."""


@dataclass(frozen=True)
class FunctionTarget:
    """The events function a step calls; ``handler`` is None for an existing one (by ARN)."""

    name: str
    handler: str | None = None
    code_path: str | None = None

    @property
    def arn(self) -> str:
        return arn("events", "function", self.name)

    def register(self, platform: Any) -> None:
        """Create the function, or replace it when its handler or code path changed."""
        if self.handler is None:
            return
        events = platform.events
        try:
            existing = events.get_function(self.name)
        except ResourceNotFound:
            existing = None
        code_path = str(Path(self.code_path).expanduser().resolve()) if self.code_path else None
        if existing is not None:
            if (existing.handler, existing.code_path) == (self.handler, code_path):
                return
            events.delete_function(self.name)
        with contextlib.suppress(AlreadyExists):  # registered meanwhile by a concurrent upsert
            events.create_function(name=self.name, handler=self.handler, code_path=code_path,
                                   description=f"pipeline step function {self.handler}"[:256])  # fmt: skip


def function_name_for(handler: str) -> str:
    """``pipeline-fn-<module>-<attr>``, made a valid function name of at most 64 characters.

    >>> function_name_for("shop.checks:Thresholds.accuracy_ok")
    'pipeline-fn-shop-checks-Thresholds-accuracy_ok'
    """
    name = FUNCTION_NAME_PREFIX + re.sub(r"[^A-Za-z0-9_-]+", "-", handler).strip("-")
    if len(name) > MAX_FUNCTION_NAME:
        digest = hashlib.sha256(handler.encode()).hexdigest()[:8]
        name = f"{name[: MAX_FUNCTION_NAME - 9].rstrip('-')}-{digest}"
    return name


def function_target(function: Any, *, code_path: str | None = None, function_name: str | None = None) -> FunctionTarget:
    """The function a step calls, from an ARN, a ``"module:attr"`` handler or a callable."""
    if isinstance(function, FunctionTarget):
        return function
    if isinstance(function, str) and function.startswith("arn:"):
        if ":function/" not in function:
            raise ValueError(f"{function!r} is not a function ARN (arn:groundfog:events:local:000000000000:function/NAME)")
        return FunctionTarget(function.rsplit("/", 1)[-1])
    if isinstance(function, str):
        module, sep, attr = function.partition(":")
        if not sep or not module or not attr:
            raise ValueError(f"function {function!r} must be a function ARN, a 'module:attr' handler, "
                             "or a function defined at module level")  # fmt: skip
        return FunctionTarget(function_name or function_name_for(function), function, code_path)
    if callable(function):
        handler, found_path = _handler_of(function)
        return FunctionTarget(function_name or function_name_for(handler), handler, code_path or found_path)
    raise TypeError(f"function must be an ARN, a 'module:attr' handler or a callable, got {type(function).__name__}")


def _handler_of(fn: Callable[..., Any]) -> tuple[str, str | None]:
    """``("module:qualname", code_path)``: the directory to import the module from, or None
    when it is installed (importable anywhere already)."""
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if not module or not qualname or "<" in qualname:
        raise ValueError(f"{fn!r} cannot be a step's function: define it with def at module level (not a lambda, "
                         "not nested), or pass a 'module:attr' handler")  # fmt: skip
    try:
        source = inspect.getsourcefile(fn)
    except TypeError:
        source = None
    if source is None:
        return f"{module}:{qualname}", None
    path = Path(source).resolve()
    if module == "__main__":
        return f"{path.stem}:{qualname}", str(path.parent)
    root = path.parent
    for _ in range(module.count(".") + (path.name == "__init__.py")):
        root = root.parent
    installed = {Path(sysconfig.get_path(key)).resolve() for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    return f"{module}:{qualname}", None if root in installed else str(root)


class _StepWithOutputs(Step):
    """A step whose ``inputs`` are its arguments and whose declared ``outputs`` come back.

    ``cache_config`` is accepted, as SageMaker's SDK accepts it here, and not sent: only
    job steps are cached."""

    _outputs_alias = True

    def __init__(
        self, name: str, inputs: dict[str, Any] | None, outputs: Sequence[FunctionOutput] | None,
        display_name: str | None, description: str | None, cache_config: CacheConfig | None,
        depends_on: Sequence[Step | str] | None,
    ) -> None:  # fmt: skip
        super().__init__(name, display_name, description, depends_on)
        self.inputs = dict(inputs or {})
        self.outputs = _bound_outputs(name, outputs)
        self.cache_config = cache_config

    def _arguments(self, context: BuildContext) -> dict[str, Any]:
        return self.inputs

    def _extras(self, context: BuildContext) -> dict[str, Any]:
        return {"OutputParameters": [o.to_request() for o in self.outputs]}


class FunctionStep(_StepWithOutputs):
    """Call ``function`` with ``inputs`` (a dict; values may be pipeline variables) as its
    event; the dict it returns gives the declared ``outputs`` (``FunctionOutput``), read
    as ``step.properties.Outputs[name]`` (or the output object itself)."""

    step_type = StepTypeEnum.LAMBDA

    def __init__(
        self,
        name: str,
        function: Any,
        *,
        inputs: dict[str, Any] | None = None,
        outputs: Sequence[FunctionOutput] | None = None,
        code_path: str | None = None,
        function_name: str | None = None,
        display_name: str | None = None,
        description: str | None = None,
        cache_config: CacheConfig | None = None,
        depends_on: Sequence[Step | str] | None = None,
    ) -> None:
        super().__init__(name, inputs, outputs, display_name, description, cache_config, depends_on)
        self.function = function
        self.target = function_target(function, code_path=code_path, function_name=function_name)

    def _extras(self, context: BuildContext) -> dict[str, Any]:
        return {"FunctionArn": self.target.arn, **super()._extras(context)}


class Lambda:
    """SageMaker's ``Lambda`` function reference: ``function_arn`` of an existing function,
    or ``handler`` (``"module:attr"``, or Lambda's ``"file.function"`` with ``script`` the
    file) for one the pipeline registers; role, memory and timeout are accepted unused."""

    def __init__(
        self,
        function_arn: str | None = None,
        execution_role_arn: str | None = None,
        script: str | None = None,
        handler: str | None = None,
        session: Any = None,
        timeout: int = 120,
        memory_size: int = 128,
        runtime: str | None = None,
        function_name: str | None = None,
    ) -> None:
        if function_arn is None and handler is None:
            raise ValueError("Lambda needs function_arn= or handler=")
        self.function_arn = function_arn
        self.execution_role_arn = execution_role_arn
        self.script = script
        self.handler = handler
        self.session = session
        self.timeout = timeout
        self.memory_size = memory_size
        self.runtime = runtime
        self.function_name = function_name

    def target(self) -> FunctionTarget:
        if self.function_arn is not None:
            return function_target(self.function_arn)
        handler, code_path = str(self.handler), None
        if self.script is not None:
            script = Path(self.script)
            module, _, attr = handler.rpartition(".") if ":" not in handler else handler.partition(":")
            handler, code_path = f"{module or script.stem}:{attr}", str(script.parent)
        return function_target(handler, code_path=code_path, function_name=self.function_name)


class LambdaStep(FunctionStep):
    """SageMaker's ``LambdaStep(name, lambda_func=Lambda(...), inputs, outputs)``."""

    def __init__(
        self,
        name: str,
        lambda_func: Lambda,
        display_name: str | None = None,
        description: str | None = None,
        inputs: dict[str, Any] | None = None,
        outputs: Sequence[FunctionOutput] | None = None,
        cache_config: CacheConfig | None = None,
        depends_on: Sequence[Step | str] | None = None,
    ) -> None:
        super().__init__(name, lambda_func.target(), inputs=inputs, outputs=outputs, display_name=display_name,
                         description=description, cache_config=cache_config, depends_on=depends_on)  # fmt: skip
        self.lambda_func = lambda_func


class CallbackStep(_StepWithOutputs):
    """Wait until a ``SendPipelineExecutionStepSuccess`` (or ``...Failure``) reports back on
    this step, with values for its ``outputs``. ``topic_arn`` names a groundfog topic that
    gets the callback message (its token and ``inputs``); ``sqs_queue_url`` is accepted."""

    step_type = StepTypeEnum.CALLBACK

    def __init__(
        self,
        name: str,
        sqs_queue_url: str | None = None,
        inputs: dict[str, Any] | None = None,
        outputs: Sequence[CallbackOutput] | None = None,
        display_name: str | None = None,
        description: str | None = None,
        cache_config: CacheConfig | None = None,
        depends_on: Sequence[Step | str] | None = None,
        *,
        topic_arn: str | None = None,
    ) -> None:
        super().__init__(name, inputs, outputs, display_name, description, cache_config, depends_on)
        self.sqs_queue_url = sqs_queue_url
        self.topic_arn = topic_arn

    def _extras(self, context: BuildContext) -> dict[str, Any]:
        extras = super()._extras(context)
        if self.topic_arn is not None:
            extras["TopicArn"] = self.topic_arn
        if self.sqs_queue_url is not None:
            extras["SqsQueueUrl"] = self.sqs_queue_url
        return extras


def _bound_outputs(step_name: str, outputs: Sequence[FunctionOutput] | None) -> list[FunctionOutput]:
    found = list(outputs or [])
    names = [o.output_name for o in found if isinstance(o, FunctionOutput)]
    if len(names) != len(found):
        raise TypeError(f"step {step_name!r}: outputs must be FunctionOutput / CallbackOutput objects")
    if len(set(names)) != len(names):
        raise ValueError(f"step {step_name!r}: output names must be unique, got {names}")
    for output in found:
        output._bind(step_name)
    return found
