"""Where events can go, and what they look like when they get there.

Target types are keyed by the ARN's service and resource type
(``arn:groundfog:<service>:local:000000000000:<type>/<name>``); each has an invoker
``(arn, payload) -> None`` that raises on failure (then the dispatcher retries), and
an ``exists(arn)`` check used when a target is attached. Raising ``ResourceNotFound``
from an invoker means "gone for good": no retries, straight to the dead letters.

Input shaping follows EventBridge: ``Input`` (constant JSON), ``InputPath`` (a JSONPath
subset: ``$``, ``.name``, ``['name']``, ``[0]``) or ``InputTransformer``.

>>> render_template('{"state": <s>, "msg": "is <s>"}', {"s": "RUNNING"})
'{"state": "RUNNING", "msg": "is RUNNING"}'
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from groundfog.core.errors import ValidationError

Invoker = Callable[[str, Any], None]

_ARN = re.compile(r"^arn:groundfog:(?P<service>[a-z0-9-]+):[^:]*:[^:]*:(?P<type>[A-Za-z0-9-]+)/(?P<name>.+)$")
_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_MISSING = object()


@dataclass(frozen=True)
class ParsedArn:
    service: str
    type: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.service}:{self.type}"


def parse_arn(value: object) -> ParsedArn | None:
    """The parts of a groundfog resource ARN, or None when it is not one."""
    if not isinstance(value, str):
        return None
    m = _ARN.match(value)
    return ParsedArn(m["service"], m["type"], m["name"]) if m else None


@dataclass(frozen=True)
class TargetType:
    service: str
    resource_type: str
    invoker: Invoker
    exists: Callable[[str], bool]
    hidden: bool = False  # delivered to internally, never named by a rule or a send


class TargetRegistry:
    """Target types by ``service:type``; services register theirs at wiring time."""

    def __init__(self) -> None:
        self._types: dict[str, TargetType] = {}
        self._lock = threading.Lock()

    def register(
        self, service: str, resource_type: str, invoker: Invoker, exists: Callable[[str], bool], *,
        hidden: bool = False,
    ) -> None:
        with self._lock:
            self._types[f"{service}:{resource_type}"] = TargetType(service, resource_type, invoker, exists, hidden)

    def known(self) -> list[str]:
        return sorted(k for k, v in self._types.items() if not v.hidden)

    def get(self, arn: str) -> TargetType | None:
        parsed = parse_arn(arn)
        return self._types.get(parsed.key) if parsed else None

    def check(self, arn: object, *, field: str, allowed_types: Sequence[str] = ()) -> ParsedArn:
        """Raise ``ValidationError`` unless ``arn`` names an existing target of an allowed type."""
        parsed = parse_arn(arn)
        if parsed is None:
            raise ValidationError(
                f"{field} {arn!r} is not a groundfog ARN "
                "(expected arn:groundfog:<service>:local:000000000000:<type>/<name>)",
                field=field,
            )
        if allowed_types and parsed.type not in allowed_types and parsed.key not in allowed_types:
            raise ValidationError(
                f"{field} {arn!r} is a {parsed.type}; expected one of: {', '.join(allowed_types)}", field=field
            )
        kind = self._types.get(parsed.key)
        if kind is None or (kind.hidden and parsed.type not in allowed_types):
            raise ValidationError(
                f"{field} {arn!r} is not a deliverable target type ({parsed.key}); "
                f"known types: {', '.join(self.known())}",
                field=field,
            )
        if not kind.exists(str(arn)):
            raise ValidationError(f"{field} {arn!r}: no {parsed.type} named {parsed.name!r} exists", field=field)
        return parsed

    def invoke(self, arn: str, payload: Any) -> None:
        kind = self.get(arn)
        if kind is None:
            from groundfog.core.errors import ResourceNotFound

            raise ResourceNotFound(f"no target type is registered for {arn!r} in this process")
        kind.invoker(arn, payload)


# ---- JSONPath subset ---------------------------------------------------------------


def parse_path(path: object, field: str) -> tuple[str | int, ...]:
    """``$.detail.object.key`` → ``("detail", "object", "key")``; ``[0]`` steps are ints."""
    if not isinstance(path, str) or not path.startswith("$"):
        raise ValidationError(f"{field} {path!r} must be a JSON path starting with '$', like $.detail.key", field=field)
    steps: list[str | int] = []
    pos = 1
    while pos < len(path):
        m = _PATH_STEP.match(path, pos)
        if m is None:
            raise ValidationError(
                f"{field} {path!r} is not a supported JSON path at {path[pos:]!r} "
                "(use dot notation, ['key'] or [index])",
                field=field,
            )
        name, index, quoted, dquoted = m.groups()
        steps.append(int(index) if index is not None else next(s for s in (name, quoted, dquoted) if s is not None))
        pos = m.end()
    return tuple(steps)


def resolve_path(value: Any, steps: Sequence[str | int]) -> Any:
    """The value at ``steps``, or ``_MISSING``."""
    for step in steps:
        if isinstance(step, int) and isinstance(value, list) and -len(value) <= step < len(value):
            value = value[step]
        elif isinstance(step, str) and isinstance(value, dict) and step in value:
            value = value[step]
        else:
            return _MISSING
    return value


# ---- Input transformer -------------------------------------------------------------

RESERVED_VARIABLES = ("aws.events.rule-arn", "aws.events.rule-name", "aws.events.event",
                      "aws.events.event.json", "aws.events.event.ingestion-time")


def validate_transformer(paths_map: Mapping[str, str], template: str, field: str) -> None:
    if len(paths_map) > 100:
        raise ValidationError(f"{field}.InputPathsMap has {len(paths_map)} entries; at most 100 are allowed", field=field)
    for key, path in paths_map.items():
        if not re.fullmatch(r"[A-Za-z0-9_\-]{1,256}", key):
            raise ValidationError(
                f"{field}.InputPathsMap key {key!r} must be 1-256 letters, digits, '_' or '-'", field=field
            )
        parse_path(path, f"{field}.InputPathsMap.{key}")
    if not 1 <= len(template) <= 8192:
        raise ValidationError(f"{field}.InputTemplate must be 1-8192 characters (got {len(template)})", field=field)
    if template.lstrip().startswith("{"):
        for m in _PLACEHOLDER.finditer(template):
            rest = template[m.end():]
            quoted = _quote_state(template, m.start())
            if (not quoted and rest.lstrip().startswith(":")) or (
                quoted and rest.startswith('"') and rest[1:].lstrip().startswith(":")
            ):
                raise ValidationError(
                    f"{field}.InputTemplate uses placeholder <{m[1]}> as an object key, which is not allowed",
                    field=field,
                )


def transformer_variables(
    paths_map: Mapping[str, str], event: dict[str, Any], rule_arn: str, rule_name: str, ingestion_time: float
) -> dict[str, Any]:
    """The values of every variable (the reserved ones too) for one event."""
    without_detail = {k: v for k, v in event.items() if k != "detail"}
    values: dict[str, Any] = {
        "aws.events.rule-arn": rule_arn,
        "aws.events.rule-name": rule_name,
        "aws.events.event": _Raw(json.dumps(without_detail, separators=(",", ":"))),
        "aws.events.event.json": _Raw(json.dumps(event, separators=(",", ":"))),
        "aws.events.event.ingestion-time": datetime.fromtimestamp(ingestion_time, timezone.utc)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z"),
    }
    for key, path in paths_map.items():
        values[key] = resolve_path(event, parse_path(path, key))  # _MISSING when absent
    return values


class _Raw(str):
    """Text inserted verbatim (the reserved whole-event variables), never quoted."""


def render_template(template: str, variables: Mapping[str, Any]) -> str:
    """Fill ``<var>`` placeholders the way EventBridge does.

    In a JSON template (one that starts with ``{``, ``[`` or ``"``) a placeholder outside
    quotes becomes the value as JSON (strings get quotes); inside quotes, a string is
    inserted as its text and anything else as its JSON. Unlike EventBridge, text inside
    quotes is JSON-escaped, so the output stays valid JSON even for values with quotes.
    A variable whose path is absent from the event becomes ``null`` outside quotes and
    nothing inside them. In a plain-text template values go in as text. Placeholders
    naming no variable are left as they are.
    """
    is_json = template.lstrip()[:1] in ("{", "[", '"')
    out: list[str] = []
    last = 0
    for m in _PLACEHOLDER.finditer(template):
        name = m[1]
        if name not in variables and name not in RESERVED_VARIABLES:
            continue
        value = variables.get(name, _MISSING)
        quoted = is_json and _quote_state(template, m.start())
        out.append(template[last:m.start()])
        out.append(_render_value(value, quoted=quoted, as_json=is_json and not quoted))
        last = m.end()
    out.append(template[last:])
    return "".join(out)


def _render_value(value: Any, *, quoted: bool, as_json: bool) -> str:
    if value is _MISSING:
        return "null" if as_json else ""
    if isinstance(value, _Raw):
        return str(value)
    if as_json:
        return json.dumps(value)
    text = value if isinstance(value, str) else json.dumps(value)
    return json.dumps(text)[1:-1] if quoted else text


def _quote_state(text: str, upto: int) -> bool:
    """Whether position ``upto`` of ``text`` lies inside a JSON string literal."""
    inside = escaped = False
    for ch in text[:upto]:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = inside
        elif ch == '"':
            inside = not inside
    return inside


# ---- pipeline targets ----------------------------------------------------------------


def check_pipeline_parameters(target: Any, label: str, where: str) -> None:
    """A pipeline target's parameter values: literal, ``$.path`` or ``<var>`` text whose
    variables the target's ``InputTransformer.InputPathsMap`` defines."""
    parsed = parse_arn(target.arn)
    field = f"{where}.SageMakerPipelineParameters"
    if parsed is None or parsed.key != "pipelines:pipeline":
        raise ValidationError(f"{label}: SageMakerPipelineParameters only apply to pipeline targets", field=field)
    variables = set((target.input_transformer.input_paths_map if target.input_transformer else {}) or {})
    for i, parameter in enumerate(target.sage_maker_pipeline_parameters.pipeline_parameter_list):
        here = f"{field}.PipelineParameterList[{i}]"
        if parameter.value.startswith("$"):
            parse_path(parameter.value, f"{label}: {here}.Value")
            continue
        unknown = [m[1] for m in _PLACEHOLDER.finditer(parameter.value) if m[1] not in variables]
        if unknown:
            raise ValidationError(
                f"{label}: {here} ({parameter.name}) uses <{unknown[0]}>, which InputTransformer.InputPathsMap "
                f"does not define (defined: {', '.join(sorted(variables)) or 'none'})",
                field=here,
            )


def pipeline_parameters(
    spec: dict[str, Any], event: dict[str, Any], rule_arn: str, rule_name: str, received: float
) -> dict[str, Any]:
    """The input of a pipeline target: its parameter values for ``event``. A value the
    event lacks raises ``ValueError`` naming the parameter and the path (no execution
    should start on half its inputs)."""
    transformer = spec.get("InputTransformer") or {}
    variables = transformer_variables(transformer.get("InputPathsMap") or {}, event, rule_arn, rule_name, received)
    listed = []
    for parameter in spec["SageMakerPipelineParameters"].get("PipelineParameterList", []):
        name, value = parameter["Name"], parameter["Value"]
        if value.startswith("$"):
            found = resolve_path(event, parse_path(value, name))
            if found is _MISSING:
                raise ValueError(f"pipeline parameter {name}: the event has no {value}")
            value = found if isinstance(found, str) else json.dumps(found)
        else:
            for m in _PLACEHOLDER.finditer(value):
                if variables.get(m[1], _MISSING) is _MISSING:
                    path = (transformer.get("InputPathsMap") or {}).get(m[1], m[1])
                    raise ValueError(f"pipeline parameter {name}: the event has no {path} (for <{m[1]}>)")
            value = render_template(value, variables)
        listed.append({"Name": name, "Value": value})
    token = hashlib.sha256(f"{event.get('id')}|{rule_arn}|{spec.get('Id')}".encode()).hexdigest()[:32]
    return {"PipelineParameterList": listed, "ClientRequestToken": token, "RuleArn": rule_arn,
            "EventId": event.get("id")}  # fmt: skip


def shape_input(spec: dict[str, Any], event: dict[str, Any], rule_arn: str, rule_name: str, received: float) -> Any:
    """What a target receives for ``event``: the event, or what its input settings make of it.

    Text that parses as JSON is delivered parsed (a function gets a dict); other text
    is delivered as a string, as EventBridge passes it. A pipeline target with
    ``SageMakerPipelineParameters`` gets its parameter values.
    """
    if spec.get("SageMakerPipelineParameters") is not None:
        return pipeline_parameters(spec, event, rule_arn, rule_name, received)
    if spec.get("Input") is not None:
        return json.loads(spec["Input"])
    if spec.get("InputPath") is not None:
        found = resolve_path(event, parse_path(spec["InputPath"], "InputPath"))
        return None if found is _MISSING else found
    transformer = spec.get("InputTransformer")
    if transformer:
        variables = transformer_variables(
            transformer.get("InputPathsMap") or {}, event, rule_arn, rule_name, received
        )
        text = render_template(transformer["InputTemplate"], variables)
        try:
            return json.loads(text)
        except ValueError:
            return text
    return event
