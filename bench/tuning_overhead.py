"""What a tuning job adds per trial: K trials of a trivial script (Random strategy, one
trial at a time) against the same K training jobs created back to back, and against
K ``python train.py`` runs with the same interpreter (the floor).

Each path runs the same hyperparameter values (the ones the tuning job chose). Times
are wall clock from the first create call to the last job's end; the table shows the
median over a few rounds, on one platform created once, after a warm-up tuning job of
one trial (shown apart).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.training_startup import run_direct, source_tarball

K = 8
ROUNDS = 3
SCRIPT = (
    "import argparse\n"
    "parser = argparse.ArgumentParser()\n"
    "parser.add_argument('--x', type=float, default=0.5)\n"
    "args, _ = parser.parse_known_args()\n"
    "print(f'loss={(args.x - 0.3) ** 2:.6f}', flush=True)\n"
)
KEY = "tune/sourcedir.tar.gz"
DEFINITION = {
    "StaticHyperParameters": {"sagemaker_program": "train.py", "sagemaker_submit_directory": f"s3://code/{KEY}"},
    "AlgorithmSpecification": {"TrainingImage": "sklearn", "TrainingInputMode": "File",
                               "MetricDefinitions": [{"Name": "loss", "Regex": r"loss=([0-9.]+)"}]},
    "OutputDataConfig": {"S3OutputPath": "s3://models/tuning"},
    "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    "StoppingCondition": {"MaxRuntimeInSeconds": 60},
}  # fmt: skip


def _tune(p: Any, name: str, trials: int, seed: int) -> tuple[float, list[str]]:
    """Seconds from create to Completed, and the ``x`` of each trial."""
    start = time.time()
    p.tuning.create_hyper_parameter_tuning_job(
        hyper_parameter_tuning_job_name=name,
        hyper_parameter_tuning_job_config={
            "Strategy": "Random", "RandomSeed": seed,
            "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "loss"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": trials, "MaxParallelTrainingJobs": 1},
            "ParameterRanges": {"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1"}]},
        },
        training_job_definition=DEFINITION,
    )  # fmt: skip
    job = p.tuning.wait_for_hyper_parameter_tuning_job(name, timeout=120)
    seconds = time.time() - start
    if job["HyperParameterTuningJobStatus"] != "Completed" or job["TrainingJobStatusCounters"]["Completed"] != trials:
        raise RuntimeError(f"{name} ended {job['HyperParameterTuningJobStatus']}: {job.get('FailureReason')}")
    listed = p.tuning.list_training_jobs_for_hyper_parameter_tuning_job(name, sort_by="CreationTime")["TrainingJobSummaries"]
    return seconds, [s["TunedHyperParameters"]["x"] for s in listed]


def _jobs(p: Any, prefix: str, xs: list[str]) -> float:
    start = time.time()
    for i, x in enumerate(xs):
        name = f"{prefix}-{i}"
        p.training.create_training_job(
            training_job_name=name, algorithm_specification=DEFINITION["AlgorithmSpecification"],
            hyper_parameters={**DEFINITION["StaticHyperParameters"], "x": x},
            output_data_config=DEFINITION["OutputDataConfig"], resource_config=DEFINITION["ResourceConfig"],
            stopping_condition=DEFINITION["StoppingCondition"],
        )  # fmt: skip
        job = p.training.wait_for_training_job(name, timeout=60)
        if job["TrainingJobStatus"] != "Completed":
            raise RuntimeError(f"{name} ended {job['TrainingJobStatus']}: {job.get('FailureReason')}")
    return time.time() - start


def _direct(script: Path, xs: list[str]) -> float:
    start = time.time()
    for x in xs:
        run_direct(script, ("--x", x))
    return time.time() - start


def main() -> None:
    from groundfog import Platform

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # a line per study otherwise
    totals: dict[str, list[float]] = {"tuning": [], "jobs": [], "direct": []}
    with tempfile.TemporaryDirectory(prefix="gf-bench-tuning-") as home:
        script = Path(home) / "direct" / "train.py"
        script.parent.mkdir()
        script.write_text(SCRIPT)
        with Platform(home=Path(home) / "gf") as p:
            p.storage.create_bucket("code")
            p.storage.create_bucket("models")
            p.storage.put_object("code", KEY, source_tarball({"train.py": SCRIPT}))
            cold, _ = _tune(p, "warmup", 1, seed=0)
            for r in range(ROUNDS):
                seconds, xs = _tune(p, f"round-{r}", K, seed=r + 1)
                totals["tuning"].append(seconds)
                totals["jobs"].append(_jobs(p, f"round-{r}-job", xs))
                totals["direct"].append(_direct(script, xs))

    per_trial = {path: statistics.median(values) / K for path, values in totals.items()}
    table = Table(title=f"{K} trials, one at a time; median of {ROUNDS} rounds (s)")
    for col in ("path", "total", "per trial", "tuning adds per trial", "ratio"):
        table.add_column(col)
    rows = (
        ("tuning job (Random)", "tuning", "", ""),
        ("training jobs back to back", "jobs", f"{per_trial['tuning'] - per_trial['jobs']:+.3f}", f"{per_trial['tuning'] / per_trial['jobs']:.2f}x"),
        ("python train.py (floor)", "direct", f"{per_trial['tuning'] - per_trial['direct']:+.3f}", f"{per_trial['tuning'] / per_trial['direct']:.1f}x"),
    )  # fmt: skip
    for label, path, added, ratio in rows:
        table.add_row(label, f"{statistics.median(totals[path]):.2f}", f"{per_trial[path]:.3f}", added, ratio)
    console = Console()
    console.print(table)
    console.print("tuning adds per trial: the tuning job's per-trial time minus that path's; ratio likewise")
    console.print(f"warm-up tuning job of 1 trial, the platform's first (not in the table): {cold:.2f} s")
