"""A pipeline definition, checked: parameters, steps, and the DAG between them.

``parse_definition`` takes SageMaker's pipeline-definition JSON (``docs/pipelines.md``
lists what each step type takes) and refuses, with the names involved, whatever would
only fail later: duplicate or unknown steps, references to unknown parameters, steps
or property files, parameter defaults of the wrong type, and cycles. The DAG comes from
the references between steps, ``DependsOn``, and condition branches (a step in a
branch runs after its condition, and only when the condition chose that branch).

>>> d = parse_definition({"Parameters": [{"Name": "N", "Type": "Integer", "DefaultValue": 3}],
...     "Steps": [{"Name": "A", "Type": "Fail", "Arguments": {"ErrorMessage": {"Get": "Parameters.N"}}}]})
>>> list(d.steps), d.parameters["N"].default
(['A'], 3)
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from groundfog.core.errors import ValidationError
from groundfog.pipelines.expressions import EXECUTION_VARIABLES, Reference, condition_operands, references

STEP_TYPES = ("Processing", "Training", "Tuning", "Model", "RegisterModel", "Condition", "Fail", "Lambda", "Callback")
CACHEABLE = ("Processing", "Training", "Tuning")
JOB_STEPS = ("Processing", "Training", "Tuning")
PARAMETER_TYPES = ("String", "Integer", "Float", "Boolean")
EXCEPTION_TYPES = ("Step.SERVICE_FAULT", "Step.THROTTLING", "SageMaker.JOB_INTERNAL_ERROR",
                   "SageMaker.CAPACITY_ERROR", "SageMaker.RESOURCE_LIMIT")  # fmt: skip
OUTPUT_TYPES = ("String", "Integer", "Float", "Boolean")
STEP_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_DURATION = re.compile(
    r"^P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+)S)?)?$"
)
_NO_DEFAULT = object()


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: Any = _NO_DEFAULT
    enum_values: tuple[Any, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is _NO_DEFAULT


@dataclass(frozen=True)
class RetryPolicy:
    exception_types: tuple[str, ...]
    interval_seconds: float = 1.0
    backoff_rate: float = 2.0
    max_attempts: int | None = None
    expire_after_minutes: float | None = None

    def delay(self, failures: int) -> float:
        """Seconds to wait before the attempt after ``failures`` failures."""
        return self.interval_seconds * self.backoff_rate ** max(0, failures - 1)


@dataclass
class Step:
    name: str
    type: str
    arguments: Any
    raw: dict[str, Any]
    depends_on: tuple[str, ...] = ()
    cache_seconds: float | None = None  # None: not cached; math.inf: cached forever
    retry_policies: tuple[RetryPolicy, ...] = ()
    property_files: dict[str, tuple[str, str]] = field(default_factory=dict)  # name → (output, path)
    output_parameters: dict[str, str] = field(default_factory=dict)  # name → type
    branch: tuple[str, bool] | None = None  # (condition step, the outcome that runs it)
    upstream: set[str] = field(default_factory=set)

    @property
    def display_name(self) -> str | None:
        return self.raw.get("DisplayName")


@dataclass
class Definition:
    parameters: dict[str, Parameter]
    steps: dict[str, Step]  # every step, branch steps included, in document order
    document: dict[str, Any]

    def descendants(self, names: set[str]) -> set[str]:
        """``names`` and every step that (transitively) depends on one of them."""
        found = set(names)
        changed = True
        while changed:
            changed = False
            for step in self.steps.values():
                if step.name not in found and step.upstream & found:
                    found.add(step.name)
                    changed = True
        return found


def load_document(definition: Any, field: str = "PipelineDefinition") -> dict[str, Any]:
    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except ValueError as exc:
            raise ValidationError(f"{field} is not valid JSON: {exc}", field=field) from None
    if not isinstance(definition, dict):
        raise ValidationError(f"{field} must be a JSON object with Parameters and Steps", field=field)
    return definition


def parse_definition(definition: Any) -> Definition:
    """The checked definition; ``ValidationError`` naming the steps or parameters at fault."""
    document = load_document(definition)
    unknown = set(document) - {"Version", "Metadata", "Parameters", "PipelineExperimentConfig", "Steps"}
    if unknown:
        raise ValidationError(f"PipelineDefinition has unknown keys: {', '.join(sorted(unknown))}",
                              field="PipelineDefinition")  # fmt: skip
    parameters = _parameters(document.get("Parameters") or [])
    raw_steps = document.get("Steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ValidationError("PipelineDefinition.Steps must be a non-empty list of steps", field="Steps")
    steps: dict[str, Step] = {}
    _collect(raw_steps, "Steps", None, steps)
    for step in steps.values():
        _link(step, steps, parameters)
    _refuse_cycles(steps)
    return Definition(parameters, steps, document)


def _parameters(raw: Any) -> dict[str, Parameter]:
    if not isinstance(raw, list):
        raise ValidationError("PipelineDefinition.Parameters must be a list", field="Parameters")
    found: dict[str, Parameter] = {}
    for i, item in enumerate(raw):
        where = f"Parameters[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("Name"), str) or not item["Name"]:
            raise ValidationError(f"{where} must be an object with a Name", field=where)
        name, kind = item["Name"], item.get("Type", "String")
        if name in found:
            raise ValidationError(f"parameter {name!r} is declared twice", field=where)
        if kind not in PARAMETER_TYPES:
            raise ValidationError(f"{where} ({name}): Type {kind!r} is not one of {', '.join(PARAMETER_TYPES)}",
                                  field=where)  # fmt: skip
        enum = item.get("EnumValues") or ()
        if not isinstance(enum, (list, tuple)):
            raise ValidationError(f"{where} ({name}): EnumValues must be a list of values", field=f"{where}.EnumValues")
        default = item["DefaultValue"] if "DefaultValue" in item else _NO_DEFAULT
        if default is not _NO_DEFAULT:
            default = coerce_parameter(name, kind, default, f"{where}.DefaultValue")
        found[name] = Parameter(name, kind, default, tuple(enum))
        if enum and default is not _NO_DEFAULT and default not in enum:
            raise ValidationError(f"{where} ({name}): DefaultValue {default!r} is not one of its EnumValues {list(enum)}",
                                  field=where)  # fmt: skip
    return found


def coerce_parameter(name: str, kind: str, value: Any, where: str) -> Any:
    """``value`` as a ``kind`` parameter (text from an event or a command line included)."""
    try:
        if kind == "String":
            if isinstance(value, (dict, list)) or value is None:
                raise ValueError
            return value if isinstance(value, str) else json.dumps(value)
        if kind == "Boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                return value.strip().lower() == "true"
            raise ValueError
        if kind == "Integer":
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float) and value.is_integer():
                return int(value)
            return int(value) if isinstance(value, int) else int(str(value).strip())
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
        if not math.isfinite(number):
            raise ValueError
        return number
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer beyond any float
        raise ValidationError(f"parameter {name!r} is a {kind}; {value!r} is not one ({where})", field=where) from None


def _collect(raw_steps: Any, where: str, branch: tuple[str, bool] | None, into: dict[str, Step]) -> None:
    if not isinstance(raw_steps, list):
        raise ValidationError(f"{where} must be a list of steps", field=where)
    for i, raw in enumerate(raw_steps):
        here = f"{where}[{i}]"
        if not isinstance(raw, dict):
            raise ValidationError(f"{here} must be a step object with Name, Type and Arguments", field=here)
        name, kind = raw.get("Name"), raw.get("Type")
        if not isinstance(name, str) or not STEP_NAME.match(name):
            raise ValidationError(f"{here}: step Name {name!r} must be 1-64 letters, digits, '-' or '_'", field=here)
        if name in into:
            raise ValidationError(f"step name {name!r} is used twice; step names must be unique", field=here)
        if kind not in STEP_TYPES:
            raise ValidationError(f"step {name!r}: Type {kind!r} is not one of {', '.join(STEP_TYPES)}", field=here)
        step = Step(name, kind, raw.get("Arguments", {}), raw, branch=branch)
        into[name] = step
        _options(step, here)
        if kind == "Condition":
            args = step.arguments if isinstance(step.arguments, dict) else {}
            conditions = args.get("Conditions")
            if not isinstance(conditions, list) or not conditions:
                raise ValidationError(f"step {name!r}: Arguments.Conditions must be a non-empty list", field=here)
            for j, condition in enumerate(conditions):
                for _ in condition_operands(condition, f"step {name!r} Conditions[{j}]"):
                    pass
            _collect(args.get("IfSteps") or [], f"{name}.IfSteps", (name, True), into)
            _collect(args.get("ElseSteps") or [], f"{name}.ElseSteps", (name, False), into)


def _options(step: Step, where: str) -> None:
    raw, label = step.raw, f"step {step.name!r}"
    if not isinstance(step.arguments, dict):
        raise ValidationError(f"{label}: Arguments must be an object", field=f"{where}.Arguments")
    depends = raw.get("DependsOn") or []
    if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
        raise ValidationError(f"{label}: DependsOn must be a list of step names", field=f"{where}.DependsOn")
    step.depends_on = tuple(depends)
    cache = raw.get("CacheConfig")
    if cache is not None:
        if not isinstance(cache, dict) or not isinstance(cache.get("Enabled", False), bool):
            raise ValidationError(f"{label}: CacheConfig must be {{Enabled: bool, ExpireAfter: ISO-8601}}",
                                  field=f"{where}.CacheConfig")  # fmt: skip
        if cache.get("Enabled"):
            if step.type not in CACHEABLE:
                raise ValidationError(f"{label}: a {step.type} step cannot be cached (only {', '.join(CACHEABLE)})",
                                      field=f"{where}.CacheConfig")  # fmt: skip
            expire = cache.get("ExpireAfter")
            step.cache_seconds = math.inf if expire is None else duration_seconds(expire, f"{where}.CacheConfig.ExpireAfter")
    step.retry_policies = tuple(_retry(p, f"{where}.RetryPolicies[{i}]", label)
                                for i, p in enumerate(_listed(raw, "RetryPolicies", where, label)))  # fmt: skip
    for i, pf in enumerate(_listed(raw, "PropertyFiles", where, label)):
        here = f"{where}.PropertyFiles[{i}]"
        if step.type != "Processing":
            raise ValidationError(f"{label}: only Processing steps have PropertyFiles", field=here)
        if not isinstance(pf, dict) or not all(isinstance(pf.get(k), str) and pf.get(k)
                                               for k in ("PropertyFileName", "OutputName", "FilePath")):  # fmt: skip
            raise ValidationError(f"{label}: {here} needs PropertyFileName, OutputName and FilePath", field=here)
        config = step.arguments.get("ProcessingOutputConfig")
        listed = config.get("Outputs") if isinstance(config, dict) else None
        outputs = [o.get("OutputName") for o in listed if isinstance(o, dict)] if isinstance(listed, list) else []
        if pf["OutputName"] not in outputs:
            raise ValidationError(
                f"{label}: property file {pf['PropertyFileName']!r} names output {pf['OutputName']!r}, "
                f"which is not one of the step's outputs {outputs}", field=here)  # fmt: skip
        step.property_files[pf["PropertyFileName"]] = (pf["OutputName"], pf["FilePath"])
    for i, out in enumerate(_listed(raw, "OutputParameters", where, label)):
        here = f"{where}.OutputParameters[{i}]"
        if step.type not in ("Lambda", "Callback"):
            raise ValidationError(f"{label}: only Lambda and Callback steps have OutputParameters", field=here)
        if not isinstance(out, dict) or not isinstance(out.get("OutputName"), str):
            raise ValidationError(f"{label}: {here} needs an OutputName", field=here)
        kind = out.get("OutputType", "String")
        if kind not in OUTPUT_TYPES:
            raise ValidationError(f"{label}: {here} OutputType {kind!r} is not one of {', '.join(OUTPUT_TYPES)}",
                                  field=here)  # fmt: skip
        step.output_parameters[out["OutputName"]] = kind
    if step.type == "Lambda" and not isinstance(raw.get("FunctionArn"), str):
        raise ValidationError(f"{label}: a Lambda step needs FunctionArn (a function's ARN)", field=f"{where}.FunctionArn")
    if step.type == "Fail" and "ErrorMessage" not in step.arguments:
        step.arguments = {**step.arguments, "ErrorMessage": ""}


def _listed(raw: dict[str, Any], key: str, where: str, label: str) -> list[Any]:
    value = raw.get(key) or []
    if not isinstance(value, list):
        raise ValidationError(f"{label}: {key} must be a list", field=f"{where}.{key}")
    return value


def _retry(raw: Any, where: str, label: str) -> RetryPolicy:
    if not isinstance(raw, dict):
        raise ValidationError(f"{label}: {where} must be an object", field=where)
    kinds = raw.get("ExceptionType") or []
    if not isinstance(kinds, list) or not kinds or any(k not in EXCEPTION_TYPES for k in kinds):
        raise ValidationError(f"{label}: {where}.ExceptionType must list some of {', '.join(EXCEPTION_TYPES)}",
                              field=where)  # fmt: skip
    try:
        policy = RetryPolicy(
            tuple(kinds), float(raw.get("IntervalSeconds", 1)), float(raw.get("BackoffRate", 2.0)),
            None if raw.get("MaxAttempts") is None else int(raw["MaxAttempts"]),
            None if raw.get("ExpireAfterMin") is None else float(raw["ExpireAfterMin"]),
        )  # fmt: skip
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(f"{label}: {where} has a non-numeric setting", field=where) from None
    if not 1 <= policy.interval_seconds <= 43200 or not 1.0 <= policy.backoff_rate <= 10.0:
        raise ValidationError(f"{label}: {where} IntervalSeconds must be 1-43200 and BackoffRate 1-10", field=where)
    if policy.max_attempts is not None and not 1 <= policy.max_attempts <= 20:
        raise ValidationError(f"{label}: {where}.MaxAttempts must be 1-20", field=where)
    if policy.max_attempts is None and policy.expire_after_minutes is None:
        policy = RetryPolicy(policy.exception_types, policy.interval_seconds, policy.backoff_rate, 5, None)
    return policy


def duration_seconds(text: Any, where: str) -> float:
    """ISO-8601 duration (``P30D``, ``PT1H``, ``P1DT2H30M``) in seconds; months are 30 days."""
    m = _DURATION.match(text) if isinstance(text, str) else None
    if m is None or text in ("P", "PT") or text.endswith("T"):
        raise ValidationError(f"{where}: {text!r} is not an ISO-8601 duration like P30D or PT1H", field=where)
    if any(len(v or "") > 9 for v in m.groupdict().values()):
        raise ValidationError(f"{where}: {text[:40]!r} is too long a duration (at most 9 digits a part)", field=where)
    g = {k: int(v or 0) for k, v in m.groupdict().items()}
    days = g["y"] * 365 + g["mo"] * 30 + g["w"] * 7 + g["d"]
    return float(days * 86400 + g["h"] * 3600 + g["mi"] * 60 + g["s"])


def _step_references(step: Step) -> list[Reference]:
    if step.type == "Condition":
        found: list[Reference] = []
        for j, condition in enumerate(step.arguments["Conditions"]):
            for operand, where in condition_operands(condition, f"Conditions[{j}]"):
                found.extend(references(operand, where))
        return found
    return list(references(step.arguments, "Arguments"))


def _link(step: Step, steps: dict[str, Step], parameters: dict[str, Parameter]) -> None:
    label = f"step {step.name!r}"
    for ref in _step_references(step):
        if ref.kind == "Parameters" and ref.name not in parameters:
            raise ValidationError(f"{label} references unknown parameter {ref.name!r} (at {ref.where}); "
                                  f"parameters: {', '.join(parameters) or 'none'}", field=ref.where)  # fmt: skip
        if ref.kind == "Execution" and ref.name not in EXECUTION_VARIABLES:
            raise ValidationError(f"{label} references unknown execution variable {ref.name!r} (at {ref.where}); "
                                  f"known: {', '.join(EXECUTION_VARIABLES)}", field=ref.where)  # fmt: skip
        if ref.kind != "Steps":
            continue
        if ref.name not in steps:
            raise ValidationError(f"{label} references unknown step {ref.name!r} (at {ref.where})", field=ref.where)
        if ref.name == step.name:
            raise ValidationError(f"{label} references its own properties (at {ref.where})", field=ref.where)
        if ref.path[:1] == ("PropertyFiles",) and len(ref.path) != 2:
            raise ValidationError(f"{label} reads {'.'.join(map(str, ref.path))!r} of step {ref.name!r}: a property file "
                                  f"is read as Steps.<step>.PropertyFiles.<name>, in a Std:JsonGet (at {ref.where})",
                                  field=ref.where)  # fmt: skip
        if ref.path[:1] == ("PropertyFiles",) and ref.path[1] not in steps[ref.name].property_files:
            raise ValidationError(
                f"{label} reads property file {ref.path[1]!r} of step {ref.name!r}, which declares "
                f"{sorted(steps[ref.name].property_files) or 'none'} (at {ref.where})", field=ref.where)  # fmt: skip
        step.upstream.add(ref.name)
    for name in step.depends_on:
        if name not in steps:
            raise ValidationError(f"{label} DependsOn unknown step {name!r}", field="DependsOn")
        if name == step.name:
            raise ValidationError(f"{label} depends on itself", field="DependsOn")
        step.upstream.add(name)
    if step.branch is not None:
        step.upstream.add(step.branch[0])


def _refuse_cycles(steps: dict[str, Step]) -> None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for up in sorted(steps[name].upstream):
            if state.get(up) == 1:
                cycle = path[path.index(up):] + [up]
                raise ValidationError(f"the steps form a cycle: {' -> '.join(reversed(cycle))}", field="Steps")
            if up not in state:
                visit(up)
        path.pop()
        state[name] = 2

    for name in steps:
        if name not in state:
            visit(name)
