"""Pipeline parameters: values given when an execution starts (or their defaults).

Names and behaviour follow ``sagemaker.workflow.parameters``. A parameter is a pipeline
variable: inside step arguments it stands for its run-time value.

>>> instance_type = ParameterString("TrainingInstanceType", default_value="ml.m5.large")
>>> instance_type.to_request()
{'Name': 'TrainingInstanceType', 'Type': 'String', 'DefaultValue': 'ml.m5.large'}
>>> instance_type.expr
{'Get': 'Parameters.TrainingInstanceType'}
>>> ParameterInteger("Epochs").to_request()     # no default: required at start
{'Name': 'Epochs', 'Type': 'Integer'}
"""

from __future__ import annotations

from abc import abstractmethod

import enum
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from groundfog.pipelines.sdk.variables import PipelineVariable

PARAMETER_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,256}$")


class ParameterTypeEnum(str, enum.Enum):
    STRING = "String"
    INTEGER = "Integer"
    FLOAT = "Float"
    BOOLEAN = "Boolean"


class Parameter(PipelineVariable):
    """A named pipeline input of one type; ``default_value`` makes it optional at start."""

    parameter_type: ClassVar[ParameterTypeEnum]

    def __init__(self, name: str, default_value: Any = None) -> None:
        if not isinstance(name, str) or not PARAMETER_NAME.match(name):
            raise ValueError(f"parameter name {name!r} must be 1-256 letters, digits, '-' or '_'")
        self.name = name
        self.default_value = None if default_value is None else self._checked(default_value)

    @abstractmethod
    def _checked(self, value: Any) -> Any:
        """``value`` as this parameter's type (``ValueError`` if it is not one)."""

    @property
    def expr(self) -> dict[str, Any]:
        return {"Get": f"Parameters.{self.name}"}

    def to_request(self) -> dict[str, Any]:
        """The parameter as the definition's ``Parameters`` list holds it."""
        request: dict[str, Any] = {"Name": self.name, "Type": self.parameter_type.value}
        if self.default_value is not None:
            request["DefaultValue"] = self.default_value
        return request

    def _wrong_default(self, value: Any, expected: str) -> TypeError:
        return TypeError(f"{type(self).__name__}({self.name!r}) default_value must be {expected}, got {value!r}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class ParameterString(Parameter):
    """Text; ``enum_values`` limits it to those values.

    >>> ParameterString("Approval", "PendingManualApproval", enum_values=["Approved", "PendingManualApproval"]).to_request()
    {'Name': 'Approval', 'Type': 'String', 'DefaultValue': 'PendingManualApproval', 'EnumValues': ['Approved', 'PendingManualApproval']}
    """

    parameter_type = ParameterTypeEnum.STRING

    def __init__(self, name: str, default_value: str | None = None, enum_values: Sequence[str] | None = None) -> None:
        super().__init__(name, default_value)
        self.enum_values = None if enum_values is None else [str(v) for v in enum_values]
        if self.enum_values is not None and self.default_value is not None and self.default_value not in self.enum_values:
            raise ValueError(f"ParameterString({name!r}) default_value {self.default_value!r} is not one of {self.enum_values}")

    def _checked(self, value: Any) -> str:
        if not isinstance(value, str):
            raise self._wrong_default(value, "a str")
        return value

    def to_request(self) -> dict[str, Any]:
        request = super().to_request()
        if self.enum_values is not None:
            request["EnumValues"] = list(self.enum_values)
        return request


class ParameterInteger(Parameter):
    """A whole number."""

    parameter_type = ParameterTypeEnum.INTEGER

    def _checked(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong_default(value, "an int")
        return value


class ParameterFloat(Parameter):
    """A real number."""

    parameter_type = ParameterTypeEnum.FLOAT

    def _checked(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._wrong_default(value, "a float")
        return float(value)


class ParameterBoolean(Parameter):
    """True or false."""

    parameter_type = ParameterTypeEnum.BOOLEAN

    def _checked(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self._wrong_default(value, "a bool")
        return value
