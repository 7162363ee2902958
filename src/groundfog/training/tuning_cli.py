"""``groundfog tuning ...``, shaped like ``aws sagemaker``'s hyperparameter tuning job
commands.

    groundfog tuning create --file tuning.json --wait      # a CreateHyperParameterTuningJob request
    groundfog tuning list-training-jobs rf-tuning
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from groundfog.cli.common import JsonOption, command, output, platform
from groundfog.training.jobs_cli import Name, Opt, Wait, _finish, _request_file, _watch
from groundfog.training.sdk import Job
from groundfog.training.sdk_tuning import TuningJob

tuning_app = typer.Typer(help="Hyperparameter tuning jobs (SageMaker CreateHyperParameterTuningJob).", no_args_is_help=True)

# CreateHyperParameterTuningJob keys → operation arguments.
TUNING_REQUEST = {
    "HyperParameterTuningJobName": "hyper_parameter_tuning_job_name",
    "HyperParameterTuningJobConfig": "hyper_parameter_tuning_job_config",
    "TrainingJobDefinition": "training_job_definition", "WarmStartConfig": "warm_start_config", "Tags": "tags",
}  # fmt: skip


def _tuning_line(job: Job, d: dict[str, Any]) -> str:
    counts = d.get("TrainingJobStatusCounters") or {}
    best = (d.get("BestTrainingJob") or {}).get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    done = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
    return f"{d['HyperParameterTuningJobStatus']}  training jobs: {done or 'none yet'}" + (
        f"  best {best.get('MetricName')}={best.get('Value')}" if best else ""
    )


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
    request = _request_file(file, TUNING_REQUEST, "HyperParameterTuningJobName", name, required=("HyperParameterTuningJobConfig", "TrainingJobDefinition"))
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
