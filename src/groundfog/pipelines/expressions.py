"""Expressions inside a pipeline definition: what they reference, and their values.

A definition's arguments hold literal JSON and three kinds of expression, in SageMaker's
syntax: ``{"Get": "Parameters.X" | "Execution.Y" | "Steps.S.<path>"}``,
``{"Std:Join": {"On": "/", "Values": [...]}}`` and ``{"Std:JsonGet": {"PropertyFile":
{"Get": "Steps.S.PropertyFiles.F"}, "Path": "a.b[0]"}}``. ``references`` walks a value
for them (the engine's DAG comes from it); ``resolve`` replaces them with values.

>>> parse_path("ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri")
('ProcessingOutputConfig', 'Outputs', 'train', 'S3Output', 'S3Uri')
>>> get_path({"Outputs": [{"OutputName": "train", "S3Uri": "s3://b/t"}]}, ("Outputs", "train", "S3Uri"))
's3://b/t'
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from groundfog.core.errors import ValidationError

EXECUTION_VARIABLES = ("PipelineExecutionId", "PipelineExecutionArn", "PipelineName", "PipelineArn",
                       "StartDateTime", "CurrentDateTime")  # fmt: skip
_STEP = re.compile(r"\.?([A-Za-z0-9_\-]+)|\[(-?\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
_MISSING = object()


class Unresolvable(Exception):
    """A referenced value is not there (yet): a step property its job did not report."""


def parse_path(path: str) -> tuple[str | int, ...]:
    """``a.b['c'][0]`` → ``("a", "b", "c", 0)``; ``ValueError`` if it is not one."""
    steps: list[str | int] = []
    pos = 0
    while pos < len(path):
        m = _STEP.match(path, pos)
        if m is None or (pos == 0 and m.group(0).startswith(".")):
            raise ValueError(f"{path!r} is not a property path (at {path[pos:]!r})")
        name, index, quoted, dquoted = m.groups()
        steps.append(int(index) if index is not None else next(s for s in (name, quoted, dquoted) if s is not None))
        pos = m.end()
    if not steps:
        raise ValueError("an empty property path")
    return tuple(steps)


def get_path(value: Any, steps: tuple[str | int, ...]) -> Any:
    """Follow ``steps``; a string step into a list picks the element it names
    (``Outputs['train']`` is the output whose ``OutputName`` is ``train``)."""
    for step in steps:
        if isinstance(value, dict) and isinstance(step, str) and step in value:
            value = value[step]
        elif isinstance(value, list) and isinstance(step, int) and -len(value) <= step < len(value):
            value = value[step]
        elif isinstance(value, list) and isinstance(step, str):
            named = [v for v in value if isinstance(v, dict)
                     and any(k.endswith("Name") and v[k] == step for k in v)]  # fmt: skip
            if not named:
                return _MISSING
            value = named[0]
        else:
            return _MISSING
    return value


@dataclass(frozen=True)
class Reference:
    """One ``Get``: ``kind`` is Parameters, Execution or Steps; ``name`` the parameter,
    variable or step; ``path`` the rest (a step's property path)."""

    kind: str
    name: str
    path: tuple[str | int, ...] = ()
    where: str = ""


def parse_get(text: object, where: str) -> Reference:
    if not isinstance(text, str):
        raise ValidationError(f"{where}: Get must name a value as text, like 'Parameters.InputData'", field=where)
    head, _, rest = text.partition(".")
    if head not in ("Parameters", "Execution", "Steps") or not rest:
        raise ValidationError(
            f"{where}: Get {text!r} must start with Parameters., Execution. or Steps.", field=where
        )
    if head == "Steps":
        name, _, prop = rest.partition(".")
        try:
            path = parse_path(prop) if prop else ()
        except ValueError as exc:
            raise ValidationError(f"{where}: Get {text!r}: {exc}", field=where) from None
        return Reference("Steps", name, path, where)
    return Reference(head, rest, (), where)


def references(value: Any, where: str) -> Iterator[Reference]:
    """Every ``Get`` in ``value`` (JsonGet's property files included), with where it is."""
    if isinstance(value, dict):
        if set(value) == {"Get"}:
            yield parse_get(value["Get"], where)
            return
        if set(value) == {"Std:Join"}:
            join = value["Std:Join"]
            if not isinstance(join, dict) or not isinstance(join.get("Values"), list) \
                    or not isinstance(join.get("On", ""), str):
                raise ValidationError(f"{where}: Std:Join needs On (text) and a list of Values", field=where)
            for i, item in enumerate(join["Values"]):
                yield from references(item, f"{where}.Std:Join.Values[{i}]")
            return
        if set(value) == {"Std:JsonGet"}:
            spec = value["Std:JsonGet"]
            if not isinstance(spec, dict) or not isinstance(spec.get("Path"), str):
                raise ValidationError(f"{where}: Std:JsonGet needs a PropertyFile and a Path", field=where)
            ref = _property_file_ref(spec.get("PropertyFile"), f"{where}.Std:JsonGet.PropertyFile")
            try:
                parse_path(spec["Path"])
            except ValueError as exc:
                raise ValidationError(f"{where}.Std:JsonGet.Path: {exc}", field=where) from None
            yield ref
            return
        for key, item in value.items():
            yield from references(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from references(item, f"{where}[{i}]")


def _property_file_ref(value: Any, where: str) -> Reference:
    ref = parse_get(value.get("Get") if isinstance(value, dict) else None, where)
    if ref.kind != "Steps" or len(ref.path) != 2 or ref.path[0] != "PropertyFiles":
        raise ValidationError(
            f"{where} must be {{'Get': 'Steps.<step>.PropertyFiles.<name>'}}", field=where
        )
    return ref


@dataclass
class Scope:
    """What expressions resolve against during one execution."""

    parameters: dict[str, Any]
    execution: dict[str, Any]
    step_properties: Callable[[str], Any]  # step name → its properties (raises Unresolvable)
    property_file: Callable[[str, str], Any]  # (step, file name) → parsed JSON
    now: Callable[[], str] = field(default=lambda: "")


def resolve(value: Any, scope: Scope) -> Any:
    """``value`` with every expression replaced by its value."""
    if isinstance(value, dict):
        if set(value) == {"Get"}:
            return _get(parse_get(value["Get"], "Get"), scope)
        if set(value) == {"Std:Join"}:
            join = value["Std:Join"]
            return str(join.get("On", "")).join(as_text(resolve(v, scope)) for v in join["Values"])
        if set(value) == {"Std:JsonGet"}:
            spec = value["Std:JsonGet"]
            ref = _property_file_ref(spec["PropertyFile"], "PropertyFile")
            document = scope.property_file(ref.name, str(ref.path[1]))
            found = get_path(document, parse_path(spec["Path"]))
            if found is _MISSING:
                raise Unresolvable(f"property file {ref.path[1]} of step {ref.name} has no {spec['Path']!r}")
            return found
        return {k: resolve(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, scope) for v in value]
    return value


def _get(ref: Reference, scope: Scope) -> Any:
    if ref.kind == "Parameters":
        return scope.parameters[ref.name]
    if ref.kind == "Execution":
        return scope.now() if ref.name == "CurrentDateTime" else scope.execution[ref.name]
    properties = scope.step_properties(ref.name)
    found = get_path(properties, ref.path)
    if found is _MISSING:
        shown = ".".join(str(p) for p in ref.path)
        raise Unresolvable(f"step {ref.name} has no property {shown}")
    return found


def as_text(value: Any) -> str:
    """A value as text, the way a Join, a parameter listing or an output listing shows it.

    >>> as_text(True), as_text(0.5), as_text({"a": 1})
    ('true', '0.5', '{"a": 1}')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


# ---- conditions ----------------------------------------------------------------------

COMPARISONS = {
    "Equals": lambda a, b: a == b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanOrEqualTo": lambda a, b: a >= b,
    "LessThan": lambda a, b: a < b,
    "LessThanOrEqualTo": lambda a, b: a <= b,
}
CONDITION_TYPES = (*COMPARISONS, "In", "Not", "Or")


def condition_operands(condition: Any, where: str) -> Iterator[tuple[Any, str]]:
    """Each operand of a condition (recursively), with where it is; checks the shape."""
    if not isinstance(condition, dict) or condition.get("Type") not in CONDITION_TYPES:
        kind = condition.get("Type") if isinstance(condition, dict) else condition
        raise ValidationError(
            f"{where}: condition type {kind!r} is not one of {', '.join(CONDITION_TYPES)}", field=where
        )
    kind = condition["Type"]
    if kind in COMPARISONS:
        for side in ("LeftValue", "RightValue"):
            if side not in condition:
                raise ValidationError(f"{where}: a {kind} condition needs {side}", field=where)
            yield condition[side], f"{where}.{side}"
    elif kind == "In":
        if "QueryValue" not in condition or not isinstance(condition.get("Values"), list):
            raise ValidationError(f"{where}: an In condition needs QueryValue and a list of Values", field=where)
        yield condition["QueryValue"], f"{where}.QueryValue"
        for i, v in enumerate(condition["Values"]):
            yield v, f"{where}.Values[{i}]"
    elif kind == "Not":
        yield from condition_operands(condition.get("Condition"), f"{where}.Condition")
    else:
        if not isinstance(condition.get("Conditions"), list) or not condition["Conditions"]:
            raise ValidationError(f"{where}: an Or condition needs a non-empty list of Conditions", field=where)
        for i, c in enumerate(condition["Conditions"]):
            yield from condition_operands(c, f"{where}.Conditions[{i}]")


def evaluate(condition: dict[str, Any], scope: Scope) -> bool:
    """Whether ``condition`` holds; ``ValueError`` when its operands cannot be compared."""
    kind = condition["Type"]
    if kind in COMPARISONS:
        left, right = _comparable(resolve(condition["LeftValue"], scope), resolve(condition["RightValue"], scope))
        try:
            return bool(COMPARISONS[kind](left, right))
        except TypeError:
            raise ValueError(f"{kind} cannot compare {left!r} with {right!r}") from None
    if kind == "In":
        query = resolve(condition["QueryValue"], scope)
        return any(_comparable(query, resolve(v, scope))[0] == _comparable(query, resolve(v, scope))[1]
                   for v in condition["Values"])  # fmt: skip
    if kind == "Not":
        return not evaluate(condition["Condition"], scope)
    return any(evaluate(c, scope) for c in condition["Conditions"])


def _comparable(left: Any, right: Any) -> tuple[Any, Any]:
    """Numbers read from a JSON report or a text parameter compare as numbers."""
    if isinstance(left, (int, float)) and not isinstance(left, bool) and isinstance(right, str):
        return left, _number(right, right)
    if isinstance(right, (int, float)) and not isinstance(right, bool) and isinstance(left, str):
        return _number(left, left), right
    return left, right


def _number(text: str, fallback: Any) -> Any:
    try:
        return float(text)
    except ValueError:
        return fallback
