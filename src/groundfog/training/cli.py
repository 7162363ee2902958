"""``groundfog training|processing|tuning ...``, shaped like ``aws sagemaker``'s job commands.

    groundfog training create --entry-point train.py --source-dir src --framework sklearn \\
        --hyperparameter n-estimators=100 --channel train=s3://data/train/ --wait
    groundfog training create --file request.json          # a CreateTrainingJob request
    groundfog training logs rf-1 --follow
    groundfog processing create --code prep.py --input s3://data/raw/=/opt/ml/processing/input \\
        --output /opt/ml/processing/train --wait -- --test-size 0.2
    groundfog tuning create --file tuning.json --wait
    groundfog tuning list-training-jobs rf-tuning

``--file`` takes the request as the API spells it (PascalCase keys), like ``aws ...
--cli-input-json``. ``--wait`` and ``--follow`` show a live status line on stderr when it
is a terminal; stdout holds only the records (or ``--json``).
"""

from __future__ import annotations

import contextlib
import json
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from groundfog.cli.common import JsonOption, command, fail, output, platform
from groundfog.core.errors import ValidationError
from groundfog.training.sdk import TERMINAL, Job
from groundfog.training.sdk_estimator import Estimator, TrainingJob
from groundfog.training.sdk_processing import ProcessingInput, ProcessingJob, ProcessingOutput, Processor, ScriptProcessor
from groundfog.training.sdk_tuning import TuningJob

training_app = typer.Typer(help="Training jobs, script mode and built-in XGBoost (SageMaker CreateTrainingJob).",
                           no_args_is_help=True)  # fmt: skip
processing_app = typer.Typer(help="Processing jobs (SageMaker CreateProcessingJob).", no_args_is_help=True)
tuning_app = typer.Typer(help="Hyperparameter tuning jobs (SageMaker CreateHyperParameterTuningJob).", no_args_is_help=True)

Opt = typer.Option
Name = Annotated[str, typer.Argument(help="The job's name.")]
File = Annotated[str | None, Opt("--file", help="The request as JSON, with the API's PascalCase keys (path or file://path).")]
Wait = Annotated[bool, Opt("--wait", help="Block until the job ends; exit non-zero if it failed.")]
Follow = Annotated[bool, Opt("--follow", "-f", help="Keep printing until the job ends.")]
Status = Annotated[str | None, Opt("--status", help="Only jobs in this status: InProgress, Completed, Failed, Stopping, Stopped.")]
NameContains = Annotated[str | None, Opt(help="Only jobs whose name contains this.")]
MaxResults = Annotated[int, Opt(help="At most this many jobs, newest first.")]

# CreateTrainingJob / CreateProcessingJob / CreateHyperParameterTuningJob keys → operation arguments.
TRAINING_REQUEST = {
    "TrainingJobName": "training_job_name", "AlgorithmSpecification": "algorithm_specification",
    "OutputDataConfig": "output_data_config", "ResourceConfig": "resource_config", "HyperParameters": "hyper_parameters",
    "InputDataConfig": "input_data_config", "StoppingCondition": "stopping_condition", "Environment": "environment",
    "EnableManagedSpotTraining": "enable_managed_spot_training", "CheckpointConfig": "checkpoint_config",
    "Tags": "tags", "RoleArn": "role_arn", "SpotInterruptions": "spot_interruptions",
}  # fmt: skip
PROCESSING_REQUEST = {
    "ProcessingJobName": "processing_job_name", "AppSpecification": "app_specification",
    "ProcessingResources": "processing_resources", "ProcessingInputs": "processing_inputs",
    "ProcessingOutputConfig": "processing_output_config", "Environment": "environment",
    "StoppingCondition": "stopping_condition", "Tags": "tags", "RoleArn": "role_arn",
}  # fmt: skip
TUNING_REQUEST = {
    "HyperParameterTuningJobName": "hyper_parameter_tuning_job_name",
    "HyperParameterTuningJobConfig": "hyper_parameter_tuning_job_config",
    "TrainingJobDefinition": "training_job_definition", "WarmStartConfig": "warm_start_config", "Tags": "tags",
}  # fmt: skip


# -- shared helpers -------------------------------------------------------------------------


def _request_file(path: str, keys: dict[str, str], name_key: str, name: str | None) -> dict[str, Any]:
    """The request in ``path`` as operation arguments; ``--name`` replaces its job name."""
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
    return request


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """``["a=1", "b=x"]`` → ``{"a": "1", "b": "x"}``."""
    out = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValidationError(f"{option} expects KEY=VALUE, got {item!r}", field=option)
        out[key] = value
    return out


def _typed(text: str) -> Any:
    """A hyperparameter's value as JSON where it parses (``100``, ``0.1``, ``true``), else text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _last_metric(job: Job) -> str:
    metrics = job.platform.training.get_training_job_metrics(training_job_name=job.name)
    named = [(name, values[-1]) for name, values in sorted(metrics.items()) if values]
    return "  ".join(f"{name}={value:g}" for name, value in named[:2])


def _training_line(job: Job, d: dict[str, Any]) -> str:
    return f"{d['TrainingJobStatus']} / {d['SecondaryStatus']}  {_last_metric(job)}"


def _processing_line(job: Job, d: dict[str, Any]) -> str:
    return f"{d['ProcessingJobStatus']} / {d.get('Stage', '')}"


def _tuning_line(job: Job, d: dict[str, Any]) -> str:
    counts = d.get("TrainingJobStatusCounters") or {}
    best = (d.get("BestTrainingJob") or {}).get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    done = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
    return f"{d['HyperParameterTuningJobStatus']}  training jobs: {done or 'none yet'}" + (
        f"  best {best.get('MetricName')}={best.get('Value')}" if best else ""
    )


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


# -- training -------------------------------------------------------------------------------


def _training_summary(d: dict[str, Any]) -> dict[str, Any]:
    keys = ("TrainingJobName", "TrainingJobStatus", "SecondaryStatus", "ModelArtifacts", "FinalMetricDataList",
            "TrainingTimeInSeconds", "BillableTimeInSeconds", "FailureReason")  # fmt: skip
    return {k: d[k] for k in keys if d.get(k) is not None}


@training_app.command("create")
@command
def create_training_job(
    file: File = None,
    name: Annotated[str | None, Opt(help="The job's name (default: <framework>-<timestamp>).")] = None,
    entry_point: Annotated[str | None, Opt(help="The script to run (inside --source-dir when given).")] = None,
    source_dir: Annotated[str | None, Opt(help="A directory of code, or an s3:// sourcedir.tar.gz.")] = None,
    framework: Annotated[str, Opt(help="sklearn, xgboost or pytorch (xgboost without --entry-point: the built-in algorithm).")] = "sklearn",
    instance_type: Annotated[str, Opt(help="An ML instance type, e.g. ml.m5.large.")] = "ml.m5.large",
    instance_count: Annotated[int, Opt(help="How many hosts.")] = 1,
    hyperparameter: Annotated[list[str] | None, Opt(help="NAME=VALUE (JSON values are typed: 100, 0.1, true); repeat.")] = None,
    channel: Annotated[list[str] | None, Opt(help="CHANNEL=s3://bucket/prefix; repeat.")] = None,
    output_path: Annotated[str | None, Opt(help="Where model.tar.gz goes (default s3://sagemaker-local-000000000000/).")] = None,
    spot: Annotated[bool, Opt("--spot", help="Managed spot training.")] = False,
    max_run: Annotated[int, Opt(help="MaxRuntimeInSeconds.")] = 86400,
    max_wait: Annotated[int | None, Opt(help="MaxWaitTimeInSeconds (spot only).")] = None,
    checkpoint_s3_uri: Annotated[str | None, Opt(help="Where checkpoints are synced.")] = None,
    metric: Annotated[list[str] | None, Opt(help="NAME=REGEX with one group capturing the value; repeat.")] = None,
    wait: Wait = False,
    as_json: JsonOption = False,
) -> None:
    """Start a training job (CreateTrainingJob), from --file or from the options."""
    p = platform()
    if file is not None:
        request = _request_file(file, TRAINING_REQUEST, "TrainingJobName", name)
        p.training.create_training_job(**request)
        job = TrainingJob(p, request["training_job_name"])
    else:
        estimator = Estimator(
            entry_point=entry_point, source_dir=source_dir, framework=framework, instance_type=instance_type,
            instance_count=instance_count, output_path=output_path, use_spot_instances=spot, max_run=max_run,
            max_wait=max_wait, checkpoint_s3_uri=checkpoint_s3_uri, platform=p,
            hyperparameters={k: _typed(v) for k, v in _pairs(hyperparameter, "--hyperparameter").items()},
            metric_definitions=[{"Name": k, "Regex": v} for k, v in _pairs(metric, "--metric").items()] or None,
        )  # fmt: skip
        estimator.fit(_pairs(channel, "--channel") or None, wait=False, job_name=name)
        job = estimator.latest_training_job
    if wait:
        d = _watch(job, _training_line, logs=False)
        _finish(d, "TrainingJobStatus", f"training job {job.name!r} failed:", _training_summary(d), as_json)
    else:
        d = job.describe()
        output({"TrainingJobName": job.name, "TrainingJobArn": d["TrainingJobArn"]}, as_json=as_json)


@training_app.command("describe")
@command
def describe_training_job(name: Name, as_json: JsonOption = False) -> None:
    """The job as DescribeTrainingJob shows it."""
    output(platform().training.describe_training_job(training_job_name=name), as_json=as_json)


@training_app.command("list")
@command
def list_training_jobs(
    status: Status = None, name_contains: NameContains = None, max_results: MaxResults = 100, as_json: JsonOption = False
) -> None:
    """Training jobs, newest first (ListTrainingJobs)."""
    found = platform().training.list_training_jobs(status_equals=status, name_contains=name_contains, max_results=max_results)
    if as_json:
        output(found, as_json=True)
    else:
        output(found["TrainingJobSummaries"], as_json=False,
               columns=["TrainingJobName", "TrainingJobStatus", "SecondaryStatus", "CreationTime"])  # fmt: skip


@training_app.command("stop")
@command
def stop_training_job(name: Name, as_json: JsonOption = False) -> None:
    """Stop a running job (StopTrainingJob); the model saved so far is uploaded."""
    platform().training.stop_training_job(training_job_name=name)
    output({"TrainingJobName": name, "Stopping": True} if as_json else f"Stopping {name}", as_json=as_json)


@training_app.command("logs")
@command
def training_job_logs(name: Name, follow: Follow = False, as_json: JsonOption = False) -> None:
    """The job's log (every host's lines, prefixed by host when there are several)."""
    _print_logs(TrainingJob(platform(), name), follow, _training_line, as_json)


@training_app.command("wait")
@command
def wait_for_training_job(name: Name, as_json: JsonOption = False) -> None:
    """Block until the job ends; exit non-zero if it failed."""
    d = _watch(TrainingJob(platform(), name), _training_line, logs=False)
    _finish(d, "TrainingJobStatus", f"training job {name!r} failed:", _training_summary(d), as_json)


@training_app.command("metrics")
@command
def training_job_metrics(
    name: Name,
    metric_name: Annotated[str | None, Opt(help="Only this metric.")] = None,
    host: Annotated[str, Opt(help="The host whose log was read.")] = "algo-1",
    as_json: JsonOption = False,
) -> None:
    """Every value the job's metric definitions matched, in order."""
    found = platform().training.get_training_job_metrics(training_job_name=name, metric_name=metric_name, host=host)
    if as_json:
        output(found, as_json=True)
    else:
        rows = [{"Metric": k, "Count": len(v), "Last": v[-1], "Min": min(v), "Max": max(v)} for k, v in found.items() if v]
        output(rows, as_json=False, columns=["Metric", "Count", "Last", "Min", "Max"])


# -- processing -----------------------------------------------------------------------------


def _processing_summary(d: dict[str, Any]) -> dict[str, Any]:
    outputs = {o["OutputName"]: o["S3Output"]["S3Uri"] for o in d["ProcessingOutputConfig"]["Outputs"]}
    summary = {"ProcessingJobName": d["ProcessingJobName"], "ProcessingJobStatus": d["ProcessingJobStatus"], "Outputs": outputs}
    for key in ("ExitMessage", "FailureReason"):
        if d.get(key):
            summary[key] = d[key]
    return summary


def _input_spec(item: str) -> ProcessingInput:
    # SOURCE=DESTINATION, split at the last "=": the destination is a container path.
    source, sep, destination = item.rpartition("=")
    if not sep or not source or not destination:
        raise ValidationError(f"--input expects SOURCE=DESTINATION, got {item!r}", field="--input")
    return ProcessingInput(source=source, destination=destination)


def _output_spec(item: str) -> ProcessingOutput:
    # SOURCE or SOURCE=s3://...; named after the source's last folder (``train``), not ``output-1``.
    source, _, destination = item.partition("=")
    return ProcessingOutput(source=source, destination=destination or None, output_name=Path(source).name or None)


@processing_app.command("create")
@command
def create_processing_job(
    arguments: Annotated[list[str] | None, typer.Argument(help="Arguments for the entrypoint (after --).")] = None,
    file: File = None,
    name: Annotated[str | None, Opt(help="The job's name (default: <image>-<timestamp>).")] = None,
    image: Annotated[str, Opt(help="The image (sklearn, xgboost, pytorch or an image URI naming one).")] = "sklearn",
    entrypoint: Annotated[str | None, Opt(help="The container entrypoint, e.g. 'python3 /opt/ml/processing/input/code/prep.py'.")] = None,
    code: Annotated[str | None, Opt(help="A local script (or s3:// URI) to run with --command, as ScriptProcessor does.")] = None,
    command_: Annotated[str, Opt("--command", help="What runs --code.")] = "python3",
    input_: Annotated[list[str] | None, Opt("--input", help="SOURCE=DESTINATION: an s3:// URI or local path to a path under /opt/ml/processing/; repeat.")] = None,
    output_: Annotated[list[str] | None, Opt("--output", help="SOURCE[=s3://DESTINATION]: a path under /opt/ml/processing/; repeat.")] = None,
    env: Annotated[list[str] | None, Opt(help="NAME=VALUE for the container's environment; repeat.")] = None,
    instance_type: Annotated[str, Opt(help="An ML instance type, e.g. ml.m5.large.")] = "ml.m5.large",
    instance_count: Annotated[int, Opt(help="How many hosts.")] = 1,
    max_runtime: Annotated[int | None, Opt(help="MaxRuntimeInSeconds.")] = None,
    wait: Wait = False,
    as_json: JsonOption = False,
) -> None:
    """Start a processing job (CreateProcessingJob), from --file or from the options."""
    p = platform()
    if file is not None:
        request = _request_file(file, PROCESSING_REQUEST, "ProcessingJobName", name)
        p.processing.create_processing_job(**request)
        job = ProcessingJob(p, request["processing_job_name"])
    else:
        inputs = [_input_spec(item) for item in input_ or []]
        outputs = [_output_spec(item) for item in output_ or []]
        settings = {"image_uri": image, "instance_type": instance_type, "instance_count": instance_count,
                    "env": _pairs(env, "--env"), "max_runtime_in_seconds": max_runtime, "platform": p}  # fmt: skip
        if code is not None:
            script = ScriptProcessor(command=shlex.split(command_), **settings)
            script.run(code=code, inputs=inputs, outputs=outputs, arguments=arguments, wait=False, job_name=name)
            job = script.latest_job
        elif entrypoint is not None:
            processor = Processor(entrypoint=shlex.split(entrypoint), **settings)
            processor.run(inputs=inputs, outputs=outputs, arguments=arguments, wait=False, job_name=name)
            job = processor.latest_job
        else:
            raise ValidationError("give --code (a script) or --entrypoint, or the whole request with --file", field="--code")
    if wait:
        d = _watch(job, _processing_line, logs=False)
        _finish(d, "ProcessingJobStatus", f"processing job {job.name!r} failed:", _processing_summary(d), as_json)
    else:
        d = job.describe()
        output({"ProcessingJobName": job.name, "ProcessingJobArn": d["ProcessingJobArn"]}, as_json=as_json)


@processing_app.command("describe")
@command
def describe_processing_job(name: Name, as_json: JsonOption = False) -> None:
    """The job as DescribeProcessingJob shows it."""
    output(platform().processing.describe_processing_job(processing_job_name=name), as_json=as_json)


@processing_app.command("list")
@command
def list_processing_jobs(
    status: Status = None, name_contains: NameContains = None, max_results: MaxResults = 100, as_json: JsonOption = False
) -> None:
    """Processing jobs, newest first (ListProcessingJobs)."""
    found = platform().processing.list_processing_jobs(status_equals=status, name_contains=name_contains, max_results=max_results)
    if as_json:
        output(found, as_json=True)
    else:
        output(found["ProcessingJobSummaries"], as_json=False,
               columns=["ProcessingJobName", "ProcessingJobStatus", "CreationTime", "FailureReason"])  # fmt: skip


@processing_app.command("stop")
@command
def stop_processing_job(name: Name, as_json: JsonOption = False) -> None:
    """Stop a running job (StopProcessingJob); outputs written so far are uploaded."""
    platform().processing.stop_processing_job(processing_job_name=name)
    output({"ProcessingJobName": name, "Stopping": True} if as_json else f"Stopping {name}", as_json=as_json)


@processing_app.command("logs")
@command
def processing_job_logs(name: Name, follow: Follow = False, as_json: JsonOption = False) -> None:
    """The job's log."""
    _print_logs(ProcessingJob(platform(), name), follow, _processing_line, as_json)


@processing_app.command("wait")
@command
def wait_for_processing_job(name: Name, as_json: JsonOption = False) -> None:
    """Block until the job ends; exit non-zero if it failed."""
    d = _watch(ProcessingJob(platform(), name), _processing_line, logs=False)
    _finish(d, "ProcessingJobStatus", f"processing job {name!r} failed:", _processing_summary(d), as_json)


# -- tuning ---------------------------------------------------------------------------------


def _tuning_summary(d: dict[str, Any]) -> dict[str, Any]:
    keys = ("HyperParameterTuningJobName", "HyperParameterTuningJobStatus", "TrainingJobStatusCounters",
            "BestTrainingJob", "FailureReason")  # fmt: skip
    return {k: d[k] for k in keys if d.get(k)}


@tuning_app.command("create")
@command
def create_tuning_job(
    file: Annotated[str, Opt("--file", help="A CreateHyperParameterTuningJob request as JSON (path or file://path).")],
    name: Annotated[str | None, Opt(help="The tuning job's name (replaces the file's; at most 32 characters).")] = None,
    wait: Wait = False,
    as_json: JsonOption = False,
) -> None:
    """Start a hyperparameter tuning job (CreateHyperParameterTuningJob)."""
    p = platform()
    request = _request_file(file, TUNING_REQUEST, "HyperParameterTuningJobName", name)
    created = p.tuning.create_hyper_parameter_tuning_job(**request)
    job = TuningJob(p, request["hyper_parameter_tuning_job_name"])
    if wait:
        d = _watch(job, _tuning_line, logs=False)
        _finish(d, "HyperParameterTuningJobStatus", f"tuning job {job.name!r} failed:", _tuning_summary(d), as_json)
    else:
        output({"HyperParameterTuningJobName": job.name, **(created or {})}, as_json=as_json)


@tuning_app.command("describe")
@command
def describe_tuning_job(name: Name, as_json: JsonOption = False) -> None:
    """The job as DescribeHyperParameterTuningJob shows it."""
    output(platform().tuning.describe_hyper_parameter_tuning_job(hyper_parameter_tuning_job_name=name), as_json=as_json)


@tuning_app.command("list")
@command
def list_tuning_jobs(as_json: JsonOption = False) -> None:
    """Tuning jobs, newest first (ListHyperParameterTuningJobs)."""
    found = platform().tuning.list_hyper_parameter_tuning_jobs()
    if as_json:
        output(found, as_json=True)
    else:
        rows = found.get("HyperParameterTuningJobSummaries", []) if isinstance(found, dict) else found
        output(rows, as_json=False, columns=["HyperParameterTuningJobName", "HyperParameterTuningJobStatus", "Strategy",
                                             "CreationTime"])  # fmt: skip


@tuning_app.command("stop")
@command
def stop_tuning_job(name: Name, as_json: JsonOption = False) -> None:
    """Stop a tuning job and its running training jobs."""
    platform().tuning.stop_hyper_parameter_tuning_job(hyper_parameter_tuning_job_name=name)
    output({"HyperParameterTuningJobName": name, "Stopping": True} if as_json else f"Stopping {name}", as_json=as_json)


@tuning_app.command("list-training-jobs")
@command
def list_training_jobs_for_tuning_job(
    name: Name,
    sort_by: Annotated[str, Opt(help="FinalObjectiveMetricValue, Name, CreationTime or Status.")] = "FinalObjectiveMetricValue",
    as_json: JsonOption = False,
) -> None:
    """The tuning job's training jobs, best first (ListTrainingJobsForHyperParameterTuningJob)."""
    found = TuningJob(platform(), name).training_jobs(sort_by=sort_by)
    if as_json:
        output({"TrainingJobSummaries": found}, as_json=True)
        return
    rows = [{"TrainingJobName": s["TrainingJobName"], "TrainingJobStatus": s["TrainingJobStatus"],
             "Objective": (s.get("FinalHyperParameterTuningJobObjectiveMetric") or {}).get("Value"),
             "TunedHyperParameters": s.get("TunedHyperParameters")} for s in found]  # fmt: skip
    output(rows, as_json=False, columns=["TrainingJobName", "TrainingJobStatus", "Objective", "TunedHyperParameters"])


@tuning_app.command("wait")
@command
def wait_for_tuning_job(name: Name, as_json: JsonOption = False) -> None:
    """Block until the tuning job ends; exit non-zero if it failed."""
    d = _watch(TuningJob(platform(), name), _tuning_line, logs=False)
    _finish(d, "HyperParameterTuningJobStatus", f"tuning job {name!r} failed:", _tuning_summary(d), as_json)
