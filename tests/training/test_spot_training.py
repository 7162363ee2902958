"""Managed spot training: interruptions from the model, checkpoints synced and restored,
the same result as an uninterrupted run, billable time and savings."""

from __future__ import annotations

import re

import pytest
from training_helpers import script_job

from groundfog.core.errors import ValidationError
from groundfog.training.spot import InterruptionModel


def _final_loss(log: str) -> str:
    return re.findall(r"final_loss=([0-9.]+)", log)[-1]


@pytest.mark.slow
def test_three_interruptions_resume_from_checkpoints_to_the_same_result(tp):
    # Interruptions 8 s of training time apart, so that even on a busy machine each
    # attempt gets through importing torch (seen taking 6 s under a loaded test run) and
    # resumes before capacity is reclaimed; 120 epochs of 0.15 s outlast the third.
    hps = {"epochs": "120", "epoch-seconds": "0.15"}
    script_job(tp, "plain-1", "torch_spot.py", framework="pytorch", hyperparameters=hps)
    script_job(
        tp, "spot-1", "torch_spot.py", framework="pytorch", hyperparameters=hps,
        enable_managed_spot_training=True,
        checkpoint_config={"S3Uri": "s3://models/checkpoints/spot-1/"},
        stopping_condition={"MaxRuntimeInSeconds": 300, "MaxWaitTimeInSeconds": 600},
        spot_interruptions={"Schedule": [8.0, 16.0, 24.0], "RestartDelaySeconds": 0.5},
        metric_definitions=[{"Name": "loss", "Regex": r"loss=([0-9.]+)"}],
    )  # fmt: skip
    plain = tp.training.wait_for_training_job("plain-1", timeout=180)
    spot = tp.training.wait_for_training_job("spot-1", timeout=300)
    assert plain["TrainingJobStatus"] == "Completed", plain.get("FailureReason")
    assert spot["TrainingJobStatus"] == "Completed", spot.get("FailureReason")
    log = tp.training.get_training_job_logs("spot-1")["Text"]
    assert _final_loss(log) == _final_loss(tp.training.get_training_job_logs("plain-1")["Text"])
    assert len(spot["SpotInterruptions"]) == 3
    resumed = [int(e) for e in re.findall(r"Resuming from checkpoint: epoch (\d+)", log)]
    assert len(resumed) == 3 and resumed == sorted(resumed) and resumed[0] > 0, log
    epochs = [int(e) for e in re.findall(r"^epoch=(\d+) ", log, re.M)]
    assert sorted(set(epochs)) == list(range(120)) and len(epochs) == 120  # each epoch logged once
    statuses = [t["Status"] for t in spot["SecondaryStatusTransitions"]]
    assert statuses.count("Interrupted") == 3 and statuses[-1] == "Completed"
    assert 0 < spot["BillableTimeInSeconds"] < spot["TrainingTimeInSeconds"]
    assert spot["SavingsPercent"] == pytest.approx((1 - spot["BillableTimeInSeconds"] / spot["TrainingTimeInSeconds"]) * 100, abs=5)
    assert spot["Cost"]["spot"] is True and spot["Cost"]["usd"] < spot["Cost"]["on_demand_usd"]
    keys = [o.key for o in tp.storage.list_objects_v2("models", prefix="checkpoints/spot-1/").contents]
    assert keys == ["checkpoints/spot-1/checkpoint.pt"]


def test_max_wait_time_is_enforced_for_spot_jobs(tp):
    script_job(
        tp, "spot-wait", "sleepy.py", enable_managed_spot_training=True,
        stopping_condition={"MaxRuntimeInSeconds": 2, "MaxWaitTimeInSeconds": 3},
        spot_interruptions={"Schedule": [1.0], "RestartDelaySeconds": 30},
    )  # fmt: skip
    job = tp.training.wait_for_training_job("spot-wait", timeout=60)
    assert job["TrainingJobStatus"] == "Stopped"
    assert job["SecondaryStatus"] == "MaxWaitTimeExceeded"


def test_seeded_rate_gives_the_same_interruptions_every_time():
    a = InterruptionModel({"RatePerHour": 30, "Seed": 3})
    b = InterruptionModel({"RatePerHour": 30, "Seed": 3})
    points = []
    t = 0.0
    for _ in range(5):
        t = a.next_after(t)
        points.append(t)
    assert points == sorted(points) and b.next_after(0.0) == points[0]
    assert 30 < sum(p2 - p1 for p1, p2 in zip([0.0, *points], points)) / 5 < 400  # mean gap near 120 s


def test_spot_interruption_model_is_checked(tp):
    with pytest.raises(ValidationError) as caught:
        script_job(tp, "spot-bad", "crash.py", enable_managed_spot_training=True, spot_interruptions={"Schedule": [-1]})
    assert caught.value.field == "SpotInterruptions.Schedule"
