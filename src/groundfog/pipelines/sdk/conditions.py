"""Conditions a ``ConditionStep`` decides on (``sagemaker.workflow.conditions``).

Operands are literals or pipeline variables (parameters, step properties, ``JsonGet``...).

>>> from groundfog.pipelines.sdk import ParameterFloat
>>> threshold = ParameterFloat("MinAccuracy", default_value=0.8)
>>> ConditionGreaterThanOrEqualTo(left=0.9, right=threshold).to_request()
{'Type': 'GreaterThanOrEqualTo', 'LeftValue': 0.9, 'RightValue': {'Get': 'Parameters.MinAccuracy'}}
>>> ConditionNot(ConditionIn(value="ml.p3.2xlarge", in_values=["ml.m5.large"])).to_request()
{'Type': 'Not', 'Condition': {'Type': 'In', 'QueryValue': 'ml.p3.2xlarge', 'Values': ['ml.m5.large']}}
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import enum
from collections.abc import Sequence
from typing import Any, ClassVar

from groundfog.pipelines.sdk.variables import serialize


class ConditionTypeEnum(str, enum.Enum):
    EQ = "Equals"
    GT = "GreaterThan"
    GTE = "GreaterThanOrEqualTo"
    LT = "LessThan"
    LTE = "LessThanOrEqualTo"
    IN = "In"
    NOT = "Not"
    OR = "Or"


class Condition(ABC):
    """Base of the conditions; ``to_request()`` is its definition JSON."""

    condition_type: ClassVar[ConditionTypeEnum]

    @abstractmethod
    def to_request(self) -> dict[str, Any]:
        """The condition as the definition writes it."""


class ConditionComparison(Condition):
    """``left <op> right``."""

    def __init__(self, left: Any, right: Any) -> None:
        self.left = left
        self.right = right

    def to_request(self) -> dict[str, Any]:
        return {"Type": self.condition_type.value, "LeftValue": serialize(self.left), "RightValue": serialize(self.right)}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(left={self.left!r}, right={self.right!r})"


class ConditionEquals(ConditionComparison):
    condition_type = ConditionTypeEnum.EQ


class ConditionGreaterThan(ConditionComparison):
    condition_type = ConditionTypeEnum.GT


class ConditionGreaterThanOrEqualTo(ConditionComparison):
    condition_type = ConditionTypeEnum.GTE


class ConditionLessThan(ConditionComparison):
    condition_type = ConditionTypeEnum.LT


class ConditionLessThanOrEqualTo(ConditionComparison):
    condition_type = ConditionTypeEnum.LTE


class ConditionIn(Condition):
    """``value`` is one of ``in_values``."""

    condition_type = ConditionTypeEnum.IN

    def __init__(self, value: Any, in_values: Sequence[Any]) -> None:
        self.value = value
        self.in_values = list(in_values)

    def to_request(self) -> dict[str, Any]:
        return {"Type": self.condition_type.value, "QueryValue": serialize(self.value), "Values": serialize(self.in_values)}


class ConditionNot(Condition):
    """The opposite of ``expression``."""

    condition_type = ConditionTypeEnum.NOT

    def __init__(self, expression: Condition) -> None:
        if not isinstance(expression, Condition):
            raise TypeError(f"ConditionNot takes a condition, got {type(expression).__name__}")
        self.expression = expression

    def to_request(self) -> dict[str, Any]:
        return {"Type": self.condition_type.value, "Condition": self.expression.to_request()}


class ConditionOr(Condition):
    """At least one of ``conditions``."""

    condition_type = ConditionTypeEnum.OR

    def __init__(self, conditions: Sequence[Condition]) -> None:
        self.conditions = list(conditions)
        if not self.conditions or not all(isinstance(c, Condition) for c in self.conditions):
            raise TypeError("ConditionOr takes a non-empty list of conditions")

    def to_request(self) -> dict[str, Any]:
        return {"Type": self.condition_type.value, "Conditions": [c.to_request() for c in self.conditions]}
