"""``groundfog pipelines ...``, shaped like ``aws sagemaker``'s pipeline commands.

    groundfog pipelines upsert pipeline.py                  # a file that defines a Pipeline
    groundfog pipelines upsert retrain.json --name retrain  # or a definition document
    groundfog pipelines start retrain --parameter Threshold=0.9 --watch
    groundfog pipelines list-steps 0a1b2c3d4e5f
    groundfog pipelines watch 0a1b2c3d4e5f

Executions are named by their ARN or by their id (the ARN's last part). On the
embedded platform an execution advances while some groundfog process drives it:
``start --wait``, ``start --watch``, ``watch``, or a server (``groundfog up``).
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from groundfog.cli.common import JsonOption, command, fail, output, parse_pairs, platform
from groundfog.core.errors import ValidationError

pipelines_app = typer.Typer(help="Pipelines: DAGs of processing, training, condition and registration steps "
                                 "(SageMaker Pipelines).", no_args_is_help=True)  # fmt: skip

Opt = typer.Option
PipelineName = Annotated[str, typer.Argument(help="The pipeline's name (or ARN).")]
Execution = Annotated[str, typer.Argument(help="The execution's ARN, or its id (the ARN's last part).")]
Wait = Annotated[bool, Opt("--wait", help="Block until the execution ends; exit non-zero unless it succeeded.")]
Watch = Annotated[bool, Opt("--watch", help="Show the steps live until the execution ends; exit non-zero unless it succeeded.")]
Interval = Annotated[float, Opt("--interval", min=0.05, help="Seconds between redraws.")]
SUCCEEDED, TERMINAL = "Succeeded", ("Succeeded", "Failed", "Stopped")
WAIT_SLICE = 10.0  # seconds a single wait request blocks


# -- pipelines ------------------------------------------------------------------------------


@pipelines_app.command("upsert")
@command
def upsert_pipeline(
    file: Annotated[str, typer.Argument(help="FILE.py that defines a Pipeline (or get_pipeline()), or FILE.json, "
                                             "a pipeline definition document.")],  # fmt: skip
    name: Annotated[str | None, Opt("--name", help="The pipeline's name (FILE.json: default the file's stem; "
                                                   "FILE.py: which of its pipelines).")] = None,  # fmt: skip
    description: Annotated[str | None, Opt("--description", help="The pipeline's description.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create the pipeline, or update it to a new version (UpsertPipeline)."""
    path = Path(file)
    if path.suffix == ".py":
        pipeline_name, document = _pipeline_from_python(path, name)
    else:
        pipeline_name, document = name or path.stem, _read_json(path)
    try:
        saved = platform().pipelines.upsert_pipeline(pipeline_name=pipeline_name, pipeline_definition=document,
                                                     pipeline_description=description)  # fmt: skip
    except ValidationError as exc:
        raise ValidationError(f"{path}: {exc}", field=exc.field) from None
    _say(saved, f"{saved['PipelineArn']} (version {saved['PipelineVersionId']})", as_json)


@pipelines_app.command("describe")
@command
def describe_pipeline(
    name: PipelineName,
    version: Annotated[int | None, Opt("--version", help="This version's definition (default: the latest).")] = None,
    as_json: JsonOption = False,
) -> None:
    """The pipeline and its definition (DescribePipeline)."""
    output(platform().pipelines.describe_pipeline(pipeline_name=name, pipeline_version_id=version), as_json=as_json)


@pipelines_app.command("list")
@command
def list_pipelines(
    prefix: Annotated[str | None, Opt("--prefix", help="Only pipelines whose name starts with this.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Pipelines, newest first (ListPipelines)."""
    found = platform().pipelines.list_pipelines(pipeline_name_prefix=prefix)
    if as_json:
        output(found, as_json=True)
        return
    rows = [{**s, "CreationTime": _when(s.get("CreationTime")), "LastExecutionTime": _when(s.get("LastExecutionTime"))}
            for s in found["PipelineSummaries"]]  # fmt: skip
    output(rows, as_json=False, columns=["PipelineName", "PipelineDescription", "CreationTime", "LastExecutionTime"])


@pipelines_app.command("versions")
@command
def list_pipeline_versions(name: PipelineName, as_json: JsonOption = False) -> None:
    """The pipeline's versions, newest first (ListPipelineVersions)."""
    found = platform().pipelines.list_pipeline_versions(pipeline_name=name)
    if as_json:
        output(found, as_json=True)
        return
    rows = [{**v, "CreationTime": _when(v.get("CreationTime"))} for v in found["PipelineVersionSummaries"]]
    output(rows, as_json=False, columns=["PipelineVersionId", "CreationTime"])


@pipelines_app.command("delete")
@command
def delete_pipeline(name: PipelineName, as_json: JsonOption = False) -> None:
    """Delete the pipeline, its versions and executions (refused while one runs)."""
    deleted = platform().pipelines.delete_pipeline(pipeline_name=name)
    _say(deleted, f"Deleted {deleted['PipelineArn']}", as_json)


# -- executions -----------------------------------------------------------------------------


@pipelines_app.command("start")
@command
def start_pipeline_execution(
    name: PipelineName,
    parameter: Annotated[list[str] | None, Opt("--parameter", "-p", help="A pipeline parameter, NAME=VALUE (repeatable).")] = None,
    display_name: Annotated[str | None, Opt("--display-name", help="The execution's display name.")] = None,
    wait: Wait = False,
    watch: Watch = False,
    as_json: JsonOption = False,
) -> None:
    """Start an execution (StartPipelineExecution) and print its ARN."""
    p = platform()
    parameters = [{"Name": k, "Value": v} for k, v in parse_pairs(parameter, "--parameter").items()]
    started = p.pipelines.start_pipeline_execution(pipeline_name=name, pipeline_parameters=parameters,
                                                   pipeline_execution_display_name=display_name)  # fmt: skip
    _follow(p, started["PipelineExecutionArn"], wait=wait, watch=watch, as_json=as_json)


@pipelines_app.command("describe-execution")
@command
def describe_pipeline_execution(execution: Execution, as_json: JsonOption = False) -> None:
    """The execution: status, parameters, failure reason (DescribePipelineExecution)."""
    output(platform().pipelines.describe_pipeline_execution(pipeline_execution_arn=execution), as_json=as_json)


@pipelines_app.command("list-executions")
@command
def list_pipeline_executions(name: PipelineName, as_json: JsonOption = False) -> None:
    """The pipeline's executions, newest first (ListPipelineExecutions)."""
    found = platform().pipelines.list_pipeline_executions(pipeline_name=name)
    if as_json:
        output(found, as_json=True)
        return
    rows = [{"Execution": _execution_id(s["PipelineExecutionArn"]), "Status": s.get("PipelineExecutionStatus"),
             "DisplayName": s.get("PipelineExecutionDisplayName"), "Started": _when(s.get("StartTime")),
             "FailureReason": s.get("PipelineExecutionFailureReason")}
            for s in found["PipelineExecutionSummaries"]]  # fmt: skip
    output(rows, as_json=False, columns=["Execution", "Status", "DisplayName", "Started", "FailureReason"])


@pipelines_app.command("list-steps")
@command
def list_pipeline_execution_steps(execution: Execution, as_json: JsonOption = False) -> None:
    """The execution's steps in the order they started (ListPipelineExecutionSteps)."""
    found = platform().pipelines.list_pipeline_execution_steps(pipeline_execution_arn=execution, sort_order="Ascending")
    if as_json:
        output(found, as_json=True)
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from groundfog.pipelines.cli_view import GLYPHS, job_arn

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    flexible = ("cached from", "job", "failure reason")  # the rest keep their width on a narrow terminal
    for column in ("step", "type", "status", "attempts", "cached from", "job", "started", "ended", "failure reason"):
        table.add_column(column, overflow="fold", no_wrap=column not in flexible, ratio=1 if column in flexible else None)
    for s in found["PipelineExecutionSteps"]:
        metadata = s.get("Metadata") or {}
        token = (metadata.get("Callback") or {}).get("CallbackToken")
        status = str(s.get("StepStatus", ""))
        table.add_row(
            s["StepName"], s.get("StepType", ""), f"[{GLYPHS.get(status, ('', 'default'))[1]}]{status}[/]",
            str(s.get("AttemptCount", "")),
            _execution_id((s.get("CacheHitResult") or {}).get("SourcePipelineExecutionArn") or ""),
            # the ARN's resource part (training-job/NAME): --json has the whole ARN
            (job_arn(metadata) or "").split(":", 5)[-1] or (f"callback token {token}" if token else ""),
            _when(s.get("StartTime"), "%H:%M:%S"), _when(s.get("EndTime"), "%H:%M:%S"), s.get("FailureReason") or "",
        )  # fmt: skip
    Console().print(table)


@pipelines_app.command("lineage")
@command
def list_pipeline_execution_lineage(execution: Execution, as_json: JsonOption = False) -> None:
    """What the execution read and what each step produced."""
    found = platform().pipelines.list_pipeline_execution_lineage(pipeline_execution_arn=execution)
    if as_json:
        output(found, as_json=True)
        return
    output(found["LineageEntries"], as_json=False, columns=["StepName", "Direction", "Kind", "Uri", "ETag"])


@pipelines_app.command("definition")
@command
def describe_pipeline_definition_for_execution(execution: Execution, as_json: JsonOption = False) -> None:
    """The definition the execution runs (DescribePipelineDefinitionForExecution), as JSON."""
    found = platform().pipelines.describe_pipeline_definition_for_execution(pipeline_execution_arn=execution)
    document = json.loads(found["PipelineDefinition"])
    if as_json:
        output({**found, "PipelineDefinition": document}, as_json=True)
    else:  # plain JSON, so it can be redirected to a file and upserted again
        sys.stdout.write(json.dumps(document, indent=2) + "\n")


@pipelines_app.command("stop")
@command
def stop_pipeline_execution(execution: Execution, wait: Wait = False, as_json: JsonOption = False) -> None:
    """Stop the execution: its running jobs are stopped, then it is Stopped."""
    p = platform()
    arn = p.pipelines.stop_pipeline_execution(pipeline_execution_arn=execution)["PipelineExecutionArn"]
    if wait:
        described = _wait(p, arn)
        _say(described, f"{arn} {described['PipelineExecutionStatus']}", as_json)
    else:
        _say({"PipelineExecutionArn": arn}, f"Stopping {arn}", as_json)


@pipelines_app.command("retry")
@command
def retry_pipeline_execution(execution: Execution, wait: Wait = False, watch: Watch = False,
                             as_json: JsonOption = False) -> None:  # fmt: skip
    """Run a Failed or Stopped execution's failed steps again, and what follows them."""
    p = platform()
    arn = p.pipelines.retry_pipeline_execution(pipeline_execution_arn=execution)["PipelineExecutionArn"]
    _follow(p, arn, wait=wait, watch=watch, as_json=as_json)


@pipelines_app.command("watch")
@command
def watch_pipeline_execution(execution: Execution, interval: Interval = 0.5, as_json: JsonOption = False) -> None:
    """Show the execution's steps live until it ends; exit non-zero unless it succeeded.

    Steps are drawn level by level of the DAG; ``--json`` prints the final description instead."""
    p = platform()
    if as_json:
        _end(_wait(p, execution), as_json=True)
    else:
        _end(_watch(p, execution, interval), as_json=False, show=False)


# -- callbacks ------------------------------------------------------------------------------


@pipelines_app.command("callback-success")
@command
def send_step_success(
    token: Annotated[str, typer.Argument(help="The Callback step's token (list-steps shows it).")],
    output_parameter: Annotated[list[str] | None, Opt("--output", "-o", help="An output parameter, NAME=VALUE (repeatable).")] = None,
    as_json: JsonOption = False,
) -> None:
    """End a waiting Callback step as succeeded, with its outputs (SendPipelineExecutionStepSuccess)."""
    outputs = [{"Name": k, "Value": v} for k, v in parse_pairs(output_parameter, "--output").items()]
    sent = platform().pipelines.send_pipeline_execution_step_success(callback_token=token, output_parameters=outputs)
    _say(sent, sent["PipelineExecutionArn"], as_json)


@pipelines_app.command("callback-failure")
@command
def send_step_failure(
    token: Annotated[str, typer.Argument(help="The Callback step's token (list-steps shows it).")],
    reason: Annotated[str | None, Opt("--reason", help="Why the step failed.")] = None,
    as_json: JsonOption = False,
) -> None:
    """End a waiting Callback step as failed (SendPipelineExecutionStepFailure)."""
    sent = platform().pipelines.send_pipeline_execution_step_failure(callback_token=token, failure_reason=reason)
    _say(sent, sent["PipelineExecutionArn"], as_json)


# -- helpers --------------------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}", field="FILE") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                              field="FILE") from None  # fmt: skip


def _pipeline_from_python(path: Path, name: str | None) -> tuple[str, Any]:
    """Run ``path`` and take the pipeline it defines: a module-level object with ``name``
    and ``definition()`` (SageMaker's ``Pipeline``), or what ``get_pipeline()`` returns."""
    if not path.is_file():
        raise ValidationError(f"cannot read {path}: No such file or directory", field="FILE")
    directory = str(path.resolve().parent)
    sys.path.insert(0, directory)
    try:
        namespace = runpy.run_path(str(path), run_name="__groundfog_pipeline__")
        found = [v for v in namespace.values() if _is_pipeline(v)]
        if callable(namespace.get("get_pipeline")):
            made = namespace["get_pipeline"]()
            if not _is_pipeline(made):
                raise ValidationError(f"{path}: get_pipeline() returned {type(made).__name__}, not a pipeline",
                                      field="FILE")  # fmt: skip
            found.append(made)
        pipelines = list({id(v): v for v in found}.values())
        if not pipelines:
            raise ValidationError(f"{path} defines no pipeline: expected a module-level Pipeline (an object with "
                                  "name and definition()) or a get_pipeline() function", field="FILE")  # fmt: skip
        names = [str(v.name) for v in pipelines]
        if name is not None:
            chosen = [v for v in pipelines if str(v.name) == name]
            if not chosen:
                raise ValidationError(f"{path} defines no pipeline named {name!r}; it defines {', '.join(names)}",
                                      field="--name")  # fmt: skip
        elif len(pipelines) > 1:
            raise ValidationError(f"{path} defines several pipelines ({', '.join(names)}); choose one with --name",
                                  field="--name")  # fmt: skip
        else:
            chosen = pipelines
        return str(chosen[0].name), chosen[0].definition()
    except (ValidationError, typer.Exit, KeyboardInterrupt):
        raise
    except BaseException as exc:  # the file is the user's code: any failure is reported as theirs
        raise ValidationError(f"{path} failed: {type(exc).__name__}: {exc}", field="FILE") from None
    finally:
        if directory in sys.path:
            sys.path.remove(directory)


def _is_pipeline(value: Any) -> bool:
    return (not isinstance(value, type) and callable(getattr(value, "definition", None))
            and isinstance(getattr(value, "name", None), str))  # fmt: skip


def _follow(p: Any, arn: str, *, wait: bool, watch: bool, as_json: bool) -> None:
    """Print the execution's ARN (``--json``: as a record), then watch it or wait for it."""
    if not as_json:
        typer.echo(arn)
    if watch and not as_json:
        _end(_watch(p, arn, 0.5), as_json=False, show=False)
    elif wait or watch:
        _end(_wait(p, arn), as_json=as_json)
    elif as_json:
        output({"PipelineExecutionArn": arn}, as_json=True)
    elif not os.environ.get("GROUNDFOG_URL"):
        # This process ends now; the execution goes on in whichever groundfog process looks next.
        typer.echo(f"note: follow it with `groundfog pipelines watch {_execution_id(arn)}` (or serve the platform "
                   "with `groundfog up`); an embedded execution advances while a groundfog process drives it",
                   err=True)  # fmt: skip


def _wait(p: Any, execution: str) -> dict[str, Any]:
    """Wait for the execution to end, with a status line on stderr when it is a terminal."""
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    err = Console(stderr=True)
    if not err.is_terminal:
        return _wait_quietly(p, execution)
    started = time.monotonic()
    with Live(Text(""), console=err, transient=True, refresh_per_second=4) as live:
        while True:
            described = p.pipelines.wait_for_pipeline_execution(pipeline_execution_arn=execution, timeout=0.5)
            steps = p.pipelines.list_pipeline_execution_steps(pipeline_execution_arn=execution)["PipelineExecutionSteps"]
            done = sum(s.get("StepStatus") == SUCCEEDED for s in steps)
            live.update(Text(f"{_execution_id(described['PipelineExecutionArn'])}  {described['PipelineExecutionStatus']}"
                             f"  {done} steps succeeded  {time.monotonic() - started:.0f}s", style="dim"))  # fmt: skip
            if described["PipelineExecutionStatus"] in TERMINAL:
                return described


def _wait_quietly(p: Any, execution: str) -> dict[str, Any]:
    # In bounded waits, so a remote platform's requests stay short.
    while True:
        described = p.pipelines.wait_for_pipeline_execution(pipeline_execution_arn=execution, timeout=WAIT_SLICE)
        if described["PipelineExecutionStatus"] in TERMINAL:
            return described


def _watch(p: Any, execution: str, interval: float) -> dict[str, Any]:
    """Redraw the execution's DAG every ``interval`` seconds until it ends; its final description."""
    from rich.console import Console
    from rich.live import Live

    from groundfog.pipelines.cli_view import render_execution
    from groundfog.pipelines.definition import parse_definition

    pipelines = p.pipelines
    described = pipelines.describe_pipeline_execution(pipeline_execution_arn=execution)
    arn = described["PipelineExecutionArn"]
    definition = parse_definition(pipelines.describe_pipeline_definition_for_execution(pipeline_execution_arn=arn)["PipelineDefinition"])

    def view(d: dict[str, Any], spinners: bool = True) -> Any:
        steps = pipelines.list_pipeline_execution_steps(pipeline_execution_arn=arn, sort_order="Ascending")
        return render_execution(definition, steps["PipelineExecutionSteps"], d, spinners=spinners)

    console = Console()
    if not console.is_terminal:  # a file or a pipe gets the final view only
        described = _wait_quietly(p, arn)
        console.print(view(described, spinners=False))
        return described
    with Live(view(described), console=console, refresh_per_second=8) as live:
        while described["PipelineExecutionStatus"] not in TERMINAL:
            described = pipelines.wait_for_pipeline_execution(pipeline_execution_arn=arn, timeout=interval)
            live.update(view(described))
    return described


def _end(described: dict[str, Any], *, as_json: bool, show: bool = True) -> None:
    """Print the ended execution (unless the live view showed it); exit non-zero unless it succeeded."""
    status = described["PipelineExecutionStatus"]
    if show:
        _say(described, status, as_json)
    if status != SUCCEEDED:
        reason = described.get("FailureReason")
        fail(f"pipeline execution {_execution_id(described['PipelineExecutionArn'])} {status.lower()}"
             + (f": {reason}" if reason else ""))  # fmt: skip


def _say(record: Any, text: str, as_json: bool) -> None:
    """The record as JSON (``--json``), else one plain line (ARNs are never folded)."""
    if as_json:
        output(record, as_json=True)
    else:
        typer.echo(text)


def _execution_id(arn: str) -> str:
    return arn.rsplit("/execution/", 1)[-1]


def _when(value: Any, layout: str = "%Y-%m-%d %H:%M:%S") -> str:
    if isinstance(value, str):  # from a remote platform
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value.strftime(layout) if isinstance(value, datetime) else ""
