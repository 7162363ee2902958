"""What ``groundfog training``, ``processing`` and ``tuning`` share: the options every
job command takes, reading a ``--file`` request, ``KEY=VALUE`` options, and waiting for
a job with a live status line on stderr (when it is a terminal) while stdout holds only
the records or the log.

Each command module passes ``_watch`` and ``_print_logs`` its own status line
(``Completed / Completed  validation:auc=0.98``).
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from groundfog.cli.common import JsonOption, command, fail, output, platform
from groundfog.core.errors import ValidationError
from groundfog.training.sdk import TERMINAL, Job

# Options and arguments the three command groups spell the same way.
Opt = typer.Option
Name = Annotated[str, typer.Argument(help="The job's name.")]
File = Annotated[str | None, Opt("--file", help="The request as JSON, with the API's PascalCase keys (path or file://path).")]
Wait = Annotated[bool, Opt("--wait", help="Block until the job ends; exit non-zero if it failed.")]
Follow = Annotated[bool, Opt("--follow", "-f", help="Keep printing until the job ends.")]
Status = Annotated[str | None, Opt("--status", help="Only jobs in this status: InProgress, Completed, Failed, Stopping, Stopped.")]
NameContains = Annotated[str | None, Opt(help="Only jobs whose name contains this.")]
MaxResults = Annotated[int, Opt(help="At most this many jobs, newest first.")]


def _request_file(
    path: str, keys: dict[str, str], name_key: str, name: str | None, required: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The request in ``path`` as operation arguments; ``--name`` replaces its job name.
    Every key of ``required`` (the API's names) must be there."""
    source = Path(path.removeprefix("file://"))
    try:
        body = json.loads(source.read_text())
    except OSError as exc:
        raise ValidationError(f"--file: cannot read {source}: {exc.strerror}", field="--file") from None
    except json.JSONDecodeError as exc:
        raise ValidationError(f"--file {source} is not valid JSON: {exc.msg} at line {exc.lineno}", field="--file") from None
    if not isinstance(body, dict):
        raise ValidationError(f"--file {source} must hold a JSON object", field="--file")
    known = {**keys, **{v: v for v in keys.values()}}
    unknown = [k for k in body if k not in known]
    if unknown:
        raise ValidationError(f"--file: unknown key {unknown[0]!r}; expected {', '.join(keys)}", field=unknown[0])
    request = {known[k]: v for k, v in body.items()}
    if name is not None:
        request[keys[name_key]] = name
    if keys[name_key] not in request:
        raise ValidationError(f"--file holds no {name_key}; add it or give --name", field=name_key)
    missing = [key for key in required if keys[key] not in request]
    if missing:
        raise ValidationError(f"--file {source} lacks {', '.join(missing)}", field=missing[0])
    return request


def _typed(text: str) -> Any:
    """A hyperparameter's value as JSON where it parses (``100``, ``0.1``, ``true``), else text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _watch(job: Job, line: Callable[[Job, dict[str, Any]], str], *, logs: bool) -> dict[str, Any]:
    """Wait for the job to end, printing its log to stdout when ``logs``, with a live status
    line on stderr when stderr is a terminal; returns its final description."""
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    err = Console(stderr=True)
    started, offset, done = time.monotonic(), 0, not logs
    with contextlib.ExitStack() as stack:
        live = None
        if err.is_terminal:
            # Log lines go above the status line when both streams are the terminal.
            live = stack.enter_context(Live(Text(""), console=err, transient=True, refresh_per_second=4,
                                            redirect_stdout=sys.stdout.isatty(), redirect_stderr=False))  # fmt: skip
        while True:
            fresh = ""
            if logs:
                page = job.log_page(offset)
                fresh, offset, done = page["Text"], page["NextStart"], page["Done"]
                sys.stdout.write(fresh)
                sys.stdout.flush()
            description = job.wait_briefly(0 if fresh else 1.0)  # more may be waiting
            if live is not None:
                elapsed = time.monotonic() - started
                live.update(Text(f"{job.name}  {line(job, description)}  {elapsed:.0f}s", style="dim"))
            if description[job.status_key] in TERMINAL and done:
                return description


def _finish(description: dict[str, Any], status_key: str, label: str, summary: dict[str, Any], as_json: bool) -> None:
    output(description if as_json else summary, as_json=as_json)
    if description[status_key] == "Failed":
        fail(f"{label} {description.get('FailureReason') or 'failed'}")


def _print_logs(job: Job, follow: bool, line: Callable[[Job, dict[str, Any]], str], as_json: bool) -> None:
    if as_json:
        text = job.logs() if not follow else _collect(job)
        output({"Text": text}, as_json=True)
    elif follow:
        _watch(job, line, logs=True)
    else:
        sys.stdout.write(job.logs())


def _collect(job: Job) -> str:
    while job.wait_briefly(10.0)[job.status_key] not in TERMINAL:
        pass
    return job.logs()


@dataclass(frozen=True)
class JobKind:
    """What the shared commands need to know of a job kind (``training``, ``processing``)."""

    kind: str  # the service's name on the platform and in the CLI
    label: str  # "TrainingJob": the API's prefix of names and operations
    handle: type[Job]  # the SDK's handle of one job
    line: Callable[[Job, dict[str, Any]], str]  # the live progress line
    summary: Callable[[dict[str, Any]], dict[str, Any]]  # what --wait prints at the end
    columns: tuple[str, ...]  # of the list table
    stop_note: str  # what a stop keeps


def add_job_commands(app: typer.Typer, spec: JobKind) -> None:
    """``describe``, ``list``, ``stop``, ``logs`` and ``wait`` for one job kind: the same
    five commands each kind has, written once."""
    words = spec.kind  # "training" → "training job"
    name_arg = f"{spec.kind}_job_name"

    def service() -> Any:
        return getattr(platform(), spec.kind)

    def describe(name: Name, as_json: JsonOption = False) -> None:
        output(getattr(service(), f"describe_{spec.kind}_job")(**{name_arg: name}), as_json=as_json)

    def listing(
        status: Status = None, name_contains: NameContains = None, max_results: MaxResults = 100, as_json: JsonOption = False
    ) -> None:
        found = getattr(service(), f"list_{spec.kind}_jobs")(status_equals=status, name_contains=name_contains, max_results=max_results)
        if as_json:
            output(found, as_json=True)
        else:
            output(found[f"{spec.label}Summaries"], as_json=False, columns=list(spec.columns))

    def stop(name: Name, as_json: JsonOption = False) -> None:
        getattr(service(), f"stop_{spec.kind}_job")(**{name_arg: name})
        output({f"{spec.label}Name": name, "Stopping": True} if as_json else f"Stopping {name}", as_json=as_json)

    def logs(name: Name, follow: Follow = False, as_json: JsonOption = False) -> None:
        _print_logs(spec.handle(platform(), name), follow, spec.line, as_json)

    def wait(name: Name, as_json: JsonOption = False) -> None:
        _wait_and_report(spec.handle(platform(), name), spec, as_json)

    describe.__doc__ = f"The job as Describe{spec.label} shows it."
    listing.__doc__ = f"{words.capitalize()} jobs, newest first (List{spec.label}s)."
    stop.__doc__ = f"Stop a running job (Stop{spec.label}); {spec.stop_note}"
    logs.__doc__ = "The job's log (every host's lines, prefixed by host when there are several)."
    wait.__doc__ = "Block until the job ends; exit non-zero if it failed."
    for verb, fn in (("describe", describe), ("list", listing), ("stop", stop), ("logs", logs), ("wait", wait)):
        app.command(verb)(command(fn))


def report_created(job: Job, spec: JobKind, wait: bool, as_json: bool) -> None:
    """What ``create`` prints: the new job's name and ARN, or with ``--wait`` how it ended."""
    if wait:
        _wait_and_report(job, spec, as_json)
    else:
        d = job.describe()
        output({f"{spec.label}Name": job.name, f"{spec.label}Arn": d[f"{spec.label}Arn"]}, as_json=as_json)


def _wait_and_report(job: Job, spec: JobKind, as_json: bool) -> None:
    d = _watch(job, spec.line, logs=False)
    _finish(d, f"{spec.label}Status", f"{spec.kind} job {job.name!r} failed:", spec.summary(d), as_json)
