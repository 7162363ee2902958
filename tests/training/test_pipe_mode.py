"""Pipe input mode: the channel streams through /opt/ml/input/data/<channel>_<epoch> FIFOs,
every object once per epoch, nothing copied to disk."""

from __future__ import annotations

import hashlib
import json

import pytest
from training_helpers import model_files, script_job

from groundfog.core.errors import ValidationError


def test_a_pipe_mode_channel_streams_every_object_once_per_epoch(tp, tmp_path):
    parts = [b"a,b\n" + b"1,2\n" * 50_000, b"3,4\n" * 70_000]  # several chunks each
    tp.storage.put_object("data", "piped/part-0.csv", parts[0])
    tp.storage.put_object("data", "piped/part-1.csv", parts[1])
    script_job(tp, "piped", "pipe_reader.py", channels={"train": "s3://data/piped/"}, input_mode="Pipe",
               environment={"EPOCHS": "3"})
    job = tp.training.wait_for_training_job("piped", timeout=60)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    report = json.loads((model_files(tp, job["ModelArtifacts"]["S3ModelArtifacts"], tmp_path / "m") / "report.json").read_text())
    whole = b"".join(parts)
    assert report["mode"] == "Pipe"
    assert report["epochs"] == [{"bytes": len(whole), "md5": hashlib.md5(whole).hexdigest()}] * 3
    assert not list((tp.config.jobs_dir / "training" / "piped" / "data").glob("**/*.csv"))  # nothing downloaded
    assert "streamed through train_<epoch> pipes" in tp.training.get_training_job_logs("piped")["Text"]


def test_a_job_that_never_opens_its_pipe_still_ends(tp):
    tp.storage.put_object("data", "piped/x.csv", b"1\n")
    script_job(tp, "unread", "pipe_reader.py", channels={"train": "s3://data/piped/"}, input_mode="Pipe",
               environment={"EPOCHS": "0"})
    job = tp.training.wait_for_training_job("unread", timeout=60)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")


def test_the_builtin_xgboost_algorithm_refuses_pipe_mode(tp):
    with pytest.raises(ValidationError, match="Pipe mode"):
        tp.training.create_training_job(
            training_job_name="xgb-pipe", algorithm_specification={"TrainingImage": "xgboost", "TrainingInputMode": "Pipe"},
            hyper_parameters={"num_round": "2"},
            input_data_config=[{"ChannelName": "train", "ContentType": "text/csv",
                                "DataSource": {"S3DataSource": {"S3Uri": "s3://data/train/"}}}],
            output_data_config={"S3OutputPath": "s3://models/out"},
            resource_config={"InstanceType": "ml.m5.large", "InstanceCount": 1})
