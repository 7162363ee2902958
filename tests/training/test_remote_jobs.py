"""Jobs through a running server: long waits are several short requests."""

from __future__ import annotations

import signal

import pytest
from server_helpers import free_port, start_server
from training_helpers import make_platform, source_tarball

import groundfog as gf
from groundfog import client

pytestmark = pytest.mark.slow

SLOW = b'import time\nfor i in range(4):\n    print(f"tick {i}", flush=True)\n    time.sleep(0.5)\n'


def test_a_wait_longer_than_one_request_still_ends_with_the_job(tmp_path, monkeypatch, breast_cancer_csv):
    home = tmp_path / "home"
    with make_platform(home) as p:
        p.storage.put_object("data", "train/train.csv", breast_cancer_csv[0])
        p.storage.put_object("code", "slow.tar.gz", source_tarball(("slow.py", SLOW)))
    port = free_port()
    server = start_server(home, port)
    try:
        monkeypatch.setattr(client, "WAIT_SLICE", 0.3)
        sent = []
        remote = gf.connect(f"http://127.0.0.1:{port}")
        original = remote.training.call
        monkeypatch.setattr(remote.training, "call", lambda op, kw: sent.append(op) or original(op, kw))
        remote.training.create_training_job(
            training_job_name="slow-1", algorithm_specification={"TrainingImage": "sklearn"},
            hyper_parameters={"sagemaker_program": "slow.py", "sagemaker_submit_directory": "s3://code/slow.tar.gz"},
            input_data_config=[{"ChannelName": "train", "DataSource": {"S3DataSource": {"S3Uri": "s3://data/train/"}}}],
            output_data_config={"S3OutputPath": "s3://models/out"},
        )  # fmt: skip
        job = remote.training.wait_for_training_job(training_job_name="slow-1")
        assert job["TrainingJobStatus"] == "Completed"
        assert sent.count("WaitForTrainingJob") >= 3
        short = remote.training.wait_for_training_job(training_job_name="slow-1", timeout=0)
        assert short["TrainingJobStatus"] == "Completed"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
