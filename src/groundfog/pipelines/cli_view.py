"""The live view of a pipeline execution: its DAG, level by level, with each step's state.

``render_execution`` is a pure function of what the service answers (the execution's
definition, its ListPipelineExecutionSteps entries and its description) to a rich
renderable; ``groundfog pipelines watch`` redraws it in a ``rich.live.Live``, and tests
render it to text.

    Train-Eval · execution 0a1b2c3d4e5f · Executing · 12s
      ✓ Preprocess    Processing  Succeeded   3.1s  1
        ⠋ Train       Training    Executing   8.9s  1   after Preprocess
          · Check     Condition   Pending               after Train
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from rich.console import Group, RenderableType
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from groundfog.pipelines.definition import Definition, parse_definition

TERMINAL = ("Succeeded", "Failed", "Stopped")
ACTIVE = ("Starting", "Executing")
NOT_TAKEN = "NotTaken"  # a branch its condition did not choose (or a step after one)
NOT_RUN = "NotRun"  # the execution ended before the step could start
GLYPHS = {"Pending": ("·", "dim"), "Succeeded": ("✓", "green"), "Failed": ("✗", "red"), "Stopped": ("■", "yellow"),
          "Starting": ("▶", "cyan"), "Executing": ("▶", "cyan"), NOT_TAKEN: ("–", "grey50"),
          NOT_RUN: ("·", "grey50")}  # fmt: skip
EXECUTION_STYLES = {"Executing": "cyan", "Stopping": "yellow", "Succeeded": "bold green", "Failed": "bold red",
                    "Stopped": "bold yellow"}  # fmt: skip
REASON_WIDTH = 120  # a step's failure reason, cut to one line of the table


def step_levels(definition: Definition) -> dict[str, int]:
    """Each step's depth in the DAG: 0 for steps with no upstream, else one more than
    its deepest upstream step.

    >>> d = parse_definition({"Steps": [{"Name": "B", "Type": "Fail", "DependsOn": ["A"]},
    ...                                 {"Name": "A", "Type": "Fail"}]})
    >>> step_levels(d)
    {'B': 1, 'A': 0}
    """
    levels: dict[str, int] = {}

    def level(name: str) -> int:
        if name not in levels:
            upstream = definition.steps[name].upstream
            levels[name] = 1 + max(level(u) for u in upstream) if upstream else 0
        return levels[name]

    return {name: level(name) for name in definition.steps}


def dependency_order(definition: Definition) -> list[str]:
    """The steps by level, in document order within a level."""
    levels = step_levels(definition)
    position = {name: i for i, name in enumerate(definition.steps)}
    return sorted(definition.steps, key=lambda n: (levels[n], position[n]))


def step_states(definition: Definition, steps: list[Mapping[str, Any]], execution_status: str) -> dict[str, str]:
    """Each step's state for display: its StepStatus when it has started, else Pending,
    NotTaken (its branch was not chosen, or it follows such a step) or NotRun (the
    execution ended without it)."""
    listed = {s["StepName"]: s for s in steps}
    states: dict[str, str] = {}
    for name in dependency_order(definition):
        if name in listed:
            states[name] = str(listed[name].get("StepStatus", "Pending"))
            continue
        step = definition.steps[name]
        not_taken = any(states.get(up) == NOT_TAKEN for up in step.upstream)
        if step.branch is not None:
            condition = listed.get(step.branch[0])
            outcome = _condition_outcome(condition) if condition is not None else None
            not_taken |= outcome is not None and outcome != step.branch[1]
        if not_taken:
            states[name] = NOT_TAKEN
        elif execution_status in TERMINAL:
            states[name] = NOT_RUN
        else:
            states[name] = "Pending"
    return states


def render_execution(definition: Definition | Mapping[str, Any] | str, steps: list[Mapping[str, Any]],
                     execution: Mapping[str, Any], *, now: datetime | None = None,
                     spinners: bool = True) -> RenderableType:  # fmt: skip
    """The execution as a header line, a table of its steps in dependency order, and its
    failure reason.

    ``definition`` is the execution's definition (parsed, or its JSON); ``steps`` are
    ListPipelineExecutionSteps entries, ``execution`` is DescribePipelineExecution's
    answer. ``now`` is when elapsed times of running steps end (default: the current
    time); ``spinners=False`` draws ▶ instead of an animated spinner for running steps.
    """
    if not isinstance(definition, Definition):
        definition = parse_definition(definition)
    now = now or datetime.now(timezone.utc)
    status = str(execution.get("PipelineExecutionStatus", ""))
    listed = {s["StepName"]: s for s in steps}
    states = step_states(definition, steps, status)
    levels = step_levels(definition)

    table = Table(box=None, show_header=True, header_style="bold dim", pad_edge=False, padding=(0, 1))
    for column, justify in (("", "left"), ("step", "left"), ("type", "left"), ("status", "left"),
                            ("time", "right"), ("attempts", "right"), ("", "left")):  # fmt: skip
        table.add_column(column, justify=justify, no_wrap=column != "")  # type: ignore[arg-type]
    order = dependency_order(definition)
    rank = {name: i for i, name in enumerate(order)}
    for name in order:
        step, state, entry = definition.steps[name], states[name], listed.get(name, {})
        dim = state in (NOT_TAKEN, NOT_RUN, "Pending")
        table.add_row(
            _glyph(state, spinners),
            Text("  " * levels[name] + name, style="grey50" if dim else "bold"),
            Text(step.type, style="grey50" if dim else ""),
            Text(_state_label(state, entry), style=GLYPHS.get(state, ("", ""))[1]),
            Text(_elapsed(entry.get("StartTime"), entry.get("EndTime"), now) if entry else ""),
            Text(str(entry.get("AttemptCount", "")) if entry else "", style="dim"),
            _detail(step, state, entry, rank),
        )  # fmt: skip
    parts: list[RenderableType] = [_header(execution, status, now), table]
    reason = execution.get("FailureReason")
    if reason:
        parts.append(Text(f"Failure reason: {reason}", style="red"))
    return Group(*parts)


def _header(execution: Mapping[str, Any], status: str, now: datetime) -> Text:
    arn = str(execution.get("PipelineExecutionArn", ""))
    pipeline = arn.split(":pipeline/", 1)[-1].split("/execution/", 1)[0] if ":pipeline/" in arn else ""
    execution_id = arn.rsplit("/execution/", 1)[-1] if arn else ""
    header = Text()
    header.append(pipeline or "pipeline", style="bold")
    header.append(f" · execution {execution_id}" if execution_id else "", style="dim")
    display = execution.get("PipelineExecutionDisplayName")
    if display and display != execution_id:
        header.append(f" ({display})", style="dim")
    header.append(" · ")
    header.append(status, style=EXECUTION_STYLES.get(status, ""))
    ended = (execution.get("EndTime") or execution.get("LastModifiedTime")) if status in TERMINAL else None
    elapsed = _elapsed(execution.get("CreationTime"), ended, now)
    if elapsed:
        header.append(f" · {elapsed}", style="dim")
    parameters = execution.get("PipelineParameters") or []
    if parameters:
        header.append("\n" + "  ".join(f"{p.get('Name')}={p.get('Value')}" for p in parameters), style="dim")
    return header


def _glyph(state: str, spinners: bool) -> RenderableType:
    if state in ACTIVE and spinners:
        return Spinner("dots", style="cyan")
    glyph, style = GLYPHS.get(state, ("?", ""))
    return Text(glyph, style=style)


def _state_label(state: str, entry: Mapping[str, Any]) -> str:
    if state == NOT_TAKEN:
        return "not taken"
    if state == NOT_RUN:
        return "not run"
    if state == "Succeeded" and entry.get("CacheHitResult"):
        return "Succeeded (cached)"
    return state


def _detail(step: Any, state: str, entry: Mapping[str, Any], rank: dict[str, int]) -> Text:
    """What else a person wants to see: where the step sits, its job, why it failed."""
    text = Text()
    notes: list[str] = []
    if step.branch is not None:
        notes.append(f"if {step.branch[0]} is {'true' if step.branch[1] else 'false'}")
    after = sorted(step.upstream - ({step.branch[0]} if step.branch else set()), key=rank.__getitem__)
    if after:
        notes.append("after " + ", ".join(after))
    text.append("; ".join(notes), style="dim")
    metadata = entry.get("Metadata") or {}
    outcome = (metadata.get("Condition") or {}).get("Outcome")
    if outcome is not None:
        text.append(f"  outcome {str(outcome).lower()}", style="bold")
    job = job_arn(metadata)
    if job and state not in (NOT_TAKEN, NOT_RUN):
        text.append(f"  {job.rsplit('/', 1)[-1]}", style="cyan")
    source = (entry.get("CacheHitResult") or {}).get("SourcePipelineExecutionArn")
    if source:
        text.append(f"  cached from {source.rsplit('/execution/', 1)[-1]}", style="dim")
    token = (metadata.get("Callback") or {}).get("CallbackToken")
    if token and state in ACTIVE:
        text.append(f"  waiting for callback {token}", style="yellow")
    reason = entry.get("FailureReason")
    if reason and state != "Succeeded":
        reason = " ".join(str(reason).split())
        cut = reason if len(reason) <= REASON_WIDTH else reason[: REASON_WIDTH - 1] + "…"
        text.append(f"  {cut}", style="red" if state == "Failed" else "yellow")
    return text


def job_arn(metadata: Mapping[str, Any]) -> str | None:
    """The ARN of the job (or function, model, model package) a step's Metadata names.

    >>> job_arn({"TrainingJob": {"Arn": "arn:groundfog:training:local:000000000000:training-job/t-1"}})
    'arn:groundfog:training:local:000000000000:training-job/t-1'
    """
    for value in metadata.values():
        if isinstance(value, Mapping) and isinstance(value.get("Arn"), str):
            return value["Arn"]
    return None


def _condition_outcome(entry: Mapping[str, Any]) -> bool | None:
    if entry.get("StepStatus") != "Succeeded":
        return None
    outcome = ((entry.get("Metadata") or {}).get("Condition") or {}).get("Outcome")
    return None if outcome is None else str(outcome).lower() == "true"


def _elapsed(start: Any, end: Any, now: datetime) -> str:
    began, ended = _moment(start), _moment(end) if end is not None else now
    if began is None or ended is None:
        return ""
    return duration_text((ended - began).total_seconds())


def duration_text(seconds: float) -> str:
    """``0.4s``, ``12s``, ``3m05s``, ``1h02m``.

    >>> [duration_text(s) for s in (0.42, 12.3, 185, 3725)]
    ['0.4s', '12s', '3m05s', '1h02m']
    """
    seconds = max(seconds, 0.0)
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _moment(value: Any) -> datetime | None:
    """A time from the embedded service (``datetime``) or a remote one (ISO text)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, str):
        try:
            return _moment(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None
