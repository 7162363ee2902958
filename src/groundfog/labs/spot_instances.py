"""Seed note: "To save on costs: spot instances".

The lab trains the same small checkpointing script twice: once on demand, once with
managed spot training and three scheduled interruptions (capacity reclaimed after
1.2, 2.4 and 3.6 s of training). It holds managed spot to what SageMaker promises:
the job is interrupted as scheduled and goes through ``Interrupted`` each time; each
restart resumes from the latest checkpoint synced to the object store, so no epoch is
done twice; both jobs end with the same model; and the spot job is billed for less
than it ran (SavingsPercent = (1 - BillableTimeInSeconds / TrainingTimeInSeconds)
x 100, as SageMaker defines it), so it costs less than the on-demand job.

The script is what a spot-ready SageMaker script looks like: it finds its checkpoint
directory in ``checkpointconfig.json`` (``/opt/ml/checkpoints`` by default), writes
each checkpoint atomically, and on SIGTERM (capacity reclaimed, with a short grace
period) finishes the epoch it is in, saves, and exits.
"""

from __future__ import annotations

import io
import re
import tarfile
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from groundfog.labs import LabResult
    from groundfog.platform import Platform

BUCKET = "lab-spot"
INSTANCE_TYPE = "ml.m5.xlarge"
EPOCHS = 80
EPOCH_SECONDS = 0.1
SCHEDULE = [2.0, 4.0, 6.0]  # seconds of training at which spot capacity is reclaimed (2 s apart: room for a busy machine)
RESTART_DELAY = 0.5
GRACE_SECONDS = 2.0  # groundfog's SIGTERM-to-SIGKILL window on a spot interruption

SCRIPT = '''"""Fit y = a*x + b by gradient descent, one checkpoint per epoch; resume from the latest."""
import argparse
import json
import os
import signal
import sys
import time


def checkpoint_dir():
    config = os.path.join(os.environ.get("SM_INPUT_CONFIG_DIR", "/opt/ml/input/config"), "checkpointconfig.json")
    if os.path.exists(config):
        with open(config) as f:
            return json.load(f)["LocalPath"]
    return "/opt/ml/checkpoints"


reclaimed = []
signal.signal(signal.SIGTERM, lambda signum, frame: reclaimed.append(signum))

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=50)
parser.add_argument("--epoch-seconds", type=float, default=0.1)
args, _ = parser.parse_known_args()

xs = [0.5 * i for i in range(10)]
ys = [2.5 * x + 1.0 for x in xs]
directory = checkpoint_dir()
os.makedirs(directory, exist_ok=True)
path = os.path.join(directory, "checkpoint.json")
state = {"epoch": -1, "a": 0.0, "b": 0.0}
if os.path.exists(path):
    with open(path) as f:
        state = json.load(f)
    print(f"Resuming from checkpoint: epoch {state['epoch'] + 1}", flush=True)
a, b = state["a"], state["b"]
for epoch in range(state["epoch"] + 1, args.epochs):
    errors = [a * x + b - y for x, y in zip(xs, ys)]
    a -= 0.05 * 2 * sum(e * x for e, x in zip(errors, xs)) / len(xs)
    b -= 0.05 * 2 * sum(errors) / len(xs)
    time.sleep(args.epoch_seconds)
    loss = sum((a * x + b - y) ** 2 for x, y in zip(xs, ys)) / len(xs)
    print(f"epoch={epoch} loss={loss:.6f}", flush=True)
    with open(path + ".tmp", "w") as f:
        json.dump({"epoch": epoch, "a": a, "b": b}, f)
    os.replace(path + ".tmp", path)
    if reclaimed:
        print(f"SIGTERM: checkpoint of epoch {epoch} saved, exiting", flush=True)
        sys.exit(0)
print(f"final a={a!r} b={b!r}", flush=True)
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as f:
    json.dump({"a": a, "b": b}, f)
'''


def run(p: "Platform", result: "LabResult") -> None:
    p.storage.create_bucket(bucket=BUCKET)
    p.storage.put_object(BUCKET, "code/sourcedir.tar.gz", _tarball("train.py", SCRIPT))
    _train(p, "lab-on-demand")
    _train(
        p, "lab-spot", enable_managed_spot_training=True,
        checkpoint_config={"S3Uri": f"s3://{BUCKET}/checkpoints/lab-spot/"},
        stopping_condition={"MaxRuntimeInSeconds": 120, "MaxWaitTimeInSeconds": 240},
        spot_interruptions={"Schedule": SCHEDULE, "RestartDelaySeconds": RESTART_DELAY},
    )  # fmt: skip
    plain = p.training.wait_for_training_job("lab-on-demand", timeout=60)
    spot = p.training.wait_for_training_job("lab-spot", timeout=90)
    plain_log = p.training.get_training_job_logs("lab-on-demand")["Text"]
    spot_log = p.training.get_training_job_logs("lab-spot")["Text"]
    done = result.check(
        "both jobs complete, on demand and on spot",
        plain["TrainingJobStatus"] == "Completed" and spot["TrainingJobStatus"] == "Completed",
        f"on demand: {plain['TrainingJobStatus']} {plain.get('FailureReason', '')}; "
        f"spot: {spot['TrainingJobStatus']} {spot.get('FailureReason', '')}",
    )
    if not done:
        return
    _interruptions(spot, result)
    _resumption(spot_log, result)
    finals = (_final(plain_log), _final(spot_log))
    result.check(
        "both jobs end with the same model: the interruptions cost nothing in the result",
        finals[0] is not None and finals[0] == finals[1],
        f"on demand: {finals[0]}; spot: {finals[1]}",
    )
    _savings(plain, spot, result)


def _train(p: "Platform", name: str, **spot: Any) -> None:
    p.training.create_training_job(
        training_job_name=name,
        algorithm_specification={"TrainingImage": "sklearn", "TrainingInputMode": "File"},
        hyper_parameters={
            "sagemaker_program": "train.py", "sagemaker_submit_directory": f"s3://{BUCKET}/code/sourcedir.tar.gz",
            "epochs": str(EPOCHS), "epoch-seconds": str(EPOCH_SECONDS),
        },
        output_data_config={"S3OutputPath": f"s3://{BUCKET}/models"},
        resource_config={"InstanceType": INSTANCE_TYPE, "InstanceCount": 1},
        **spot,
    )  # fmt: skip


def _interruptions(spot: dict[str, Any], result: "LabResult") -> None:
    at = spot["SpotInterruptions"]
    # Each is recorded when the attempt's process has gone: after the scheduled point,
    # within the driver's tick and the grace period.
    on_time = len(at) == len(SCHEDULE) and all(s <= a < s + GRACE_SECONDS + 1.0 for s, a in zip(SCHEDULE, at))
    result.check(
        "the spot job was interrupted as scheduled",
        on_time,
        f"scheduled after {SCHEDULE} s of training; interrupted after {at} s",
    )
    statuses = [t["Status"] for t in spot["SecondaryStatusTransitions"]]
    expected = ["Starting", "Downloading", "Training", *["Interrupted", "Downloading", "Training"] * len(SCHEDULE), "Uploading", "Completed"]
    result.check(
        f"it went through Interrupted {len(SCHEDULE)} times, each followed by a restart (Downloading, Training)",
        statuses == expected,
        " → ".join(statuses),
    )


def _resumption(log: str, result: "LabResult") -> None:
    resumed: list[int] = []
    latest: list[int] = []  # the last epoch logged before each restart
    seen: list[int] = []
    for line in log.splitlines():
        if match := re.match(r"Resuming from checkpoint: epoch (\d+)", line):
            resumed.append(int(match.group(1)))
            latest.append(max(seen, default=-1))
        elif match := re.match(r"epoch=(\d+) ", line):
            seen.append(int(match.group(1)))
    result.check(
        "each restart resumed from the latest checkpoint: the epoch after the last one logged",
        len(resumed) == len(SCHEDULE) and resumed[0] > 0 and resumed == [e + 1 for e in latest] and resumed == sorted(resumed),
        f"resumed at epochs {resumed}; last epochs logged before each restart {latest}",
    )
    result.check(
        f"no epoch was trained twice: epochs 0-{EPOCHS - 1} are each logged once",
        sorted(seen) == list(range(EPOCHS)),
        f"{len(seen)} epoch lines, {len(set(seen))} distinct",
    )


def _savings(plain: dict[str, Any], spot: dict[str, Any], result: "LabResult") -> None:
    billable, training = spot["BillableTimeInSeconds"], spot["TrainingTimeInSeconds"]
    savings = spot.get("SavingsPercent")
    result.check(
        "the spot job is billed for less time than it trained",
        0 < billable < training,
        f"BillableTimeInSeconds {billable} < TrainingTimeInSeconds {training}",
    )
    cost, on_demand = spot["Cost"], plain["Cost"]
    reported = (1 - billable / training) * 100
    # The times are reported in whole seconds; the percentage may come from the exact
    # ones: the exact billable time (running time less the spot discount) over a
    # training time that rounds to the one reported.
    exact_billable = cost["billable_seconds"] * (1 - cost["discount"])
    low, high = ((1 - exact_billable / max(t, 1e-9)) * 100 for t in (training - 0.5, training + 0.5))
    result.check(
        "SavingsPercent = (1 - BillableTimeInSeconds / TrainingTimeInSeconds) x 100, as SageMaker defines it",
        savings is not None and (abs(savings - reported) <= 0.05 or low - 0.05 <= savings <= high + 0.05),
        f"SavingsPercent {savings}%; (1 - {billable} / {training}) x 100 = {reported:.1f}%; from the unrounded "
        f"times ({exact_billable:.2f} s billable): {low:.1f}% to {high:.1f}%",
    )
    result.check(
        "To save on costs: the spot job costs less than the same job on demand",
        cost["spot"] and cost["usd"] < cost["on_demand_usd"] and cost["usd"] < on_demand["usd"],
        f"{INSTANCE_TYPE}: spot ${cost['usd']:.6f} (at ${cost['hourly_rate']}/h, {cost['savings_percent']:g}% off) "
        f"vs ${cost['on_demand_usd']:.6f} for the same running time on demand and ${on_demand['usd']:.6f} for the "
        f"on-demand job; saved ${cost['savings_usd']:.6f}, and the interruptions added only "
        f"{cost['billable_seconds'] - on_demand['billable_seconds']:.1f} s of running time",
    )


def _final(log: str) -> str | None:
    found = re.findall(r"^final (a=\S+ b=\S+)$", log, re.M)
    return found[-1] if found else None


def _tarball(name: str, text: str) -> bytes:
    data = text.encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()

