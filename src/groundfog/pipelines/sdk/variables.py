"""Values known only when a pipeline runs, and how a definition holds them.

A ``PipelineVariable`` (a parameter, a step property, ``Join``, ``JsonGet``, an execution
variable) stands for a value the engine fills in at run time; ``expr`` is the JSON the
definition holds in its place. ``str()`` of one would bake a meaningless text into the
definition, so it is refused, as SageMaker's SDK refuses it; ``Join`` builds text at run
time instead.

>>> from groundfog.pipelines.sdk import ParameterString
>>> bucket = ParameterString("Bucket", default_value="data")
>>> Join(on="/", values=["s3:/", bucket, "train"]).expr
{'Std:Join': {'On': '/', 'Values': ['s3:/', {'Get': 'Parameters.Bucket'}, 'train']}}
>>> f"s3://{bucket}/train"
Traceback (most recent call last):
...
TypeError: ParameterString('Bucket') is a pipeline variable: its value exists only when the pipeline runs, so str() and f-strings cannot give it. Use .to_string() or Join(on=..., values=[...]) to build text at run time (.expr shows the JSON it stands for).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import enum
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn


class PipelineVariable(ABC):
    """Base of every value resolved at run time; ``expr`` is its definition JSON."""

    # What the training SDK's request builders look for (by class, never via __getattr__)
    # to pass a value through untouched instead of str()-ing it.
    __pipeline_variable__ = True

    @property
    @abstractmethod
    def expr(self) -> dict[str, Any]:
        """The value as the definition writes it (``{"Get": ...}``, ``{"Std:Join": ...}``)."""

    def to_string(self) -> Join:
        """The value as text, at run time: ``Join(on="", values=[self])``."""
        return Join(on="", values=[self])

    def _refuse(self, what: str) -> NoReturn:
        raise TypeError(
            f"{self!r} is a pipeline variable: its value exists only when the pipeline runs, so {what} cannot "
            "give it. Use .to_string() or Join(on=..., values=[...]) to build text at run time "
            "(.expr shows the JSON it stands for)."
        )

    def __str__(self) -> str:
        self._refuse("str() and f-strings")

    def __format__(self, format_spec: str) -> str:
        self._refuse("str() and f-strings")

    def __add__(self, other: Any) -> NoReturn:
        self._refuse("+")

    def __radd__(self, other: Any) -> NoReturn:
        self._refuse("+")

    def __int__(self) -> int:
        self._refuse("int()")

    def __float__(self) -> float:
        self._refuse("float()")

    def __iter__(self) -> Iterator[Any]:
        # Step properties have __getitem__, which would otherwise make them endlessly iterable.
        raise TypeError(f"{self!r} is a pipeline variable and cannot be iterated")

    def __contains__(self, item: Any) -> bool:
        raise TypeError(f"{self!r} is a pipeline variable: its contents exist only when the pipeline runs")


class Join(PipelineVariable):
    """Text joined at run time: ``values`` (literals or pipeline variables) with ``on``
    between them (SageMaker's ``sagemaker.workflow.functions.Join``).

    >>> Join(on="", values=["run-", ExecutionVariable("PipelineExecutionId")]).expr
    {'Std:Join': {'On': '', 'Values': ['run-', {'Get': 'Execution.PipelineExecutionId'}]}}
    """

    def __init__(self, on: str = "", values: Sequence[Any] | None = None) -> None:
        if not isinstance(on, str):
            raise TypeError(f"Join(on=...) must be a string, got {type(on).__name__}")
        self.on = on
        self.values = list(values or [])

    @property
    def expr(self) -> dict[str, Any]:
        return {"Std:Join": {"On": self.on, "Values": [serialize(v) for v in self.values]}}

    def __repr__(self) -> str:
        return f"Join(on={self.on!r}, values={self.values!r})"


class ExecutionVariable(PipelineVariable):
    """One fact about the running execution (see ``ExecutionVariables``)."""

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def expr(self) -> dict[str, Any]:
        return {"Get": f"Execution.{self.name}"}

    def __repr__(self) -> str:
        return f"ExecutionVariable({self.name!r})"


def serialize(value: Any) -> Any:
    """``value`` as definition JSON: pipeline variables become their ``expr``, enums their
    value, objects with ``to_request()`` (conditions, property files...) their request.

    >>> serialize({"Image": "sklearn", "Uri": ExecutionVariable("PipelineName"), "Count": (1, 2)})
    {'Image': 'sklearn', 'Uri': {'Get': 'Execution.PipelineName'}, 'Count': [1, 2]}
    """
    if isinstance(value, PipelineVariable):
        return value.expr
    if isinstance(value, enum.Enum):
        return serialize(value.value)
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict):
        return {str(k): serialize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [serialize(v) for v in value]
    to_request = getattr(type(value), "to_request", None)
    if callable(to_request):
        return serialize(value.to_request())
    raise TypeError(f"a {type(value).__name__} cannot go into a pipeline definition: {value!r}")
