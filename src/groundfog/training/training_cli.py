"""``groundfog training ...``, shaped like ``aws sagemaker``'s training job commands.

    groundfog training create --entry-point train.py --source-dir src --framework sklearn \\
        --hyperparameter n-estimators=100 --channel train=s3://data/train/ --wait
    groundfog training create --file request.json          # a CreateTrainingJob request
    groundfog training logs rf-1 --follow
    groundfog training metrics rf-1
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from groundfog.cli.common import JsonOption, command, output, parse_pairs, platform
from groundfog.training.jobs_cli import (
    add_job_commands,
    report_created,
    File,
    JobKind,
    Name,
    Opt,
    Wait,
    _request_file,
    _typed,
)
from groundfog.training.sdk import Job
from groundfog.training.sdk_estimator import Estimator, TrainingJob

training_app = typer.Typer(help="Training jobs, script mode and built-in XGBoost (SageMaker CreateTrainingJob).",
                           no_args_is_help=True)  # fmt: skip

# CreateTrainingJob keys → operation arguments.
TRAINING_REQUEST = {
    "TrainingJobName": "training_job_name", "AlgorithmSpecification": "algorithm_specification",
    "OutputDataConfig": "output_data_config", "ResourceConfig": "resource_config", "HyperParameters": "hyper_parameters",
    "InputDataConfig": "input_data_config", "StoppingCondition": "stopping_condition", "Environment": "environment",
    "EnableManagedSpotTraining": "enable_managed_spot_training", "CheckpointConfig": "checkpoint_config",
    "Tags": "tags", "RoleArn": "role_arn", "SpotInterruptions": "spot_interruptions",
}  # fmt: skip


def _last_metric(job: Job) -> str:
    metrics = job.platform.training.get_training_job_metrics(training_job_name=job.name)
    named = [(name, values[-1]) for name, values in sorted(metrics.items()) if values]
    return "  ".join(f"{name}={value:g}" for name, value in named[:2])


def _training_line(job: Job, d: dict[str, Any]) -> str:
    return f"{d['TrainingJobStatus']} / {d['SecondaryStatus']}  {_last_metric(job)}"


def _training_summary(d: dict[str, Any]) -> dict[str, Any]:
    keys = ("TrainingJobName", "TrainingJobStatus", "SecondaryStatus", "ModelArtifacts", "FinalMetricDataList",
            "TrainingTimeInSeconds", "BillableTimeInSeconds", "FailureReason")  # fmt: skip
    return {k: d[k] for k in keys if d.get(k) is not None}


TRAINING = JobKind(
    kind="training", label="TrainingJob", handle=TrainingJob, line=_training_line, summary=_training_summary,
    columns=("TrainingJobName", "TrainingJobStatus", "SecondaryStatus", "CreationTime"),
    stop_note="the model saved so far is uploaded.",
)


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
        request = _request_file(file, TRAINING_REQUEST, "TrainingJobName", name, required=("AlgorithmSpecification", "OutputDataConfig"))
        p.training.create_training_job(**request)
        job = TrainingJob(p, request["training_job_name"])
    else:
        estimator = Estimator(
            entry_point=entry_point, source_dir=source_dir, framework=framework, instance_type=instance_type,
            instance_count=instance_count, output_path=output_path, use_spot_instances=spot, max_run=max_run,
            max_wait=max_wait, checkpoint_s3_uri=checkpoint_s3_uri, platform=p,
            hyperparameters={k: _typed(v) for k, v in parse_pairs(hyperparameter, "--hyperparameter").items()},
            metric_definitions=[{"Name": k, "Regex": v} for k, v in parse_pairs(metric, "--metric").items()] or None,
        )  # fmt: skip
        estimator.fit(parse_pairs(channel, "--channel") or None, wait=False, job_name=name)
        job = estimator.latest_training_job
    report_created(job, TRAINING, wait, as_json)


add_job_commands(training_app, TRAINING)


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
