"""kill -9 of the server while training, spot and tuning jobs run: the restarted server
resumes each of them (or marks what cannot finish), and none stays InProgress."""

from __future__ import annotations

import os
import signal
import time

import pytest
from server_helpers import free_port, start_server
from training_helpers import SCRIPTS, make_platform, source_tarball

import groundfog as gf
from groundfog.core.config import Config

pytestmark = pytest.mark.slow

TICKS = b'''
import os, time
for i in range(12):
    print(f"tick {i}", flush=True)
    time.sleep(0.4)
open(os.path.join(os.environ["SM_MODEL_DIR"], "done.txt"), "w").write("ok")
'''


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_kill_9_of_the_server_leaves_no_job_in_progress(tmp_path, breast_cancer_csv):
    home = tmp_path / "home"
    with make_platform(home) as p:
        p.storage.put_object("data", "train/train.csv", breast_cancer_csv[0])
        p.storage.put_object("code", "ticks.tar.gz", source_tarball(("ticks.py", TICKS)))
        p.storage.put_object("code", "sleepy.tar.gz", source_tarball(SCRIPTS / "sleepy.py"))
        p.storage.put_object("code", "ticks.py", TICKS)
    port = free_port()
    server = start_server(home, port)
    remote = gf.connect(f"http://127.0.0.1:{port}")

    def create(name: str, tarball: str, program: str, **extra):
        remote.training.create_training_job(
            training_job_name=name,
            algorithm_specification={"TrainingImage": "sklearn"},
            hyper_parameters={"sagemaker_program": program, "sagemaker_submit_directory": f"s3://code/{tarball}"},
            input_data_config=[{"ChannelName": "train", "DataSource": {"S3DataSource": {"S3Uri": "s3://data/train/"}}}],
            output_data_config={"S3OutputPath": "s3://models/out"},
            **extra,
        )

    create("survivor", "ticks.tar.gz", "ticks.py")
    create("spot", "ticks.tar.gz", "ticks.py", enable_managed_spot_training=True,
           checkpoint_config={"S3Uri": "s3://models/ckpt/spot/"},
           spot_interruptions={"Schedule": [1.5], "RestartDelaySeconds": 1.0})  # fmt: skip
    create("orphan", "sleepy.tar.gz", "sleepy.py")
    remote.processing.create_processing_job(
        processing_job_name="prep",
        app_specification={"ImageUri": "sklearn", "ContainerEntrypoint": ["python3", "/opt/ml/processing/code/ticks.py"]},
        processing_inputs=[{"InputName": "code", "S3Input": {"S3Uri": "s3://code/ticks.py", "LocalPath": "/opt/ml/processing/code"}}],
        processing_output_config={"Outputs": [{"OutputName": "out", "S3Output": {
            "S3Uri": "s3://models/prep/", "LocalPath": "/opt/ml/processing/out", "S3UploadMode": "EndOfJob"}}]},
        environment={"SM_MODEL_DIR": "/opt/ml/processing/out"},
    )  # fmt: skip
    remote.tuning.create_hyper_parameter_tuning_job(
        hyper_parameter_tuning_job_name="hpo",
        hyper_parameter_tuning_job_config={
            "Strategy": "Random",
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "tick"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
            "ParameterRanges": {"CategoricalParameterRanges": [{"Name": "mode", "Values": ["a", "b"]}]},
        },
        training_job_definition={
            "StaticHyperParameters": {"sagemaker_program": "ticks.py", "sagemaker_submit_directory": "s3://code/ticks.tar.gz"},
            "AlgorithmSpecification": {"TrainingImage": "sklearn", "MetricDefinitions": [{"Name": "tick", "Regex": r"tick (\d+)"}]},
            "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {"S3Uri": "s3://data/train/"}}}],
            "OutputDataConfig": {"S3OutputPath": "s3://models/hpo"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        },
    )  # fmt: skip
    try:
        _wait(lambda: "tick 1" in remote.training.get_training_job_logs(training_job_name="survivor")["Text"], 30, "the first job to run")
        _wait(lambda: "tick 1" in remote.training.get_training_job_logs(training_job_name="orphan")["Text"], 30, "the second job to run")
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()

    # The orphan's host process dies with its machine; the others keep running.
    with gf.Platform(Config(home=home)) as p:
        host = p.jobs.lookup("training-host", "orphan-algo-1-1")
    os.killpg(host.pid, signal.SIGKILL)

    server = start_server(home, port)
    try:
        results = {n: remote.training.wait_for_training_job(training_job_name=n, timeout=90) for n in ("survivor", "spot", "orphan")}
        tuning = remote.tuning.wait_for_hyper_parameter_tuning_job(hyper_parameter_tuning_job_name="hpo", timeout=90)
        processing = remote.processing.wait_for_processing_job(processing_job_name="prep", timeout=90)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert results["survivor"]["TrainingJobStatus"] == "Completed", results["survivor"].get("FailureReason")
    assert results["survivor"]["ModelArtifacts"]["S3ModelArtifacts"].endswith("survivor/output/model.tar.gz")
    assert results["spot"]["TrainingJobStatus"] == "Completed", results["spot"].get("FailureReason")
    assert results["spot"]["SpotInterruptions"], "the spot job's interruption was lost"
    assert results["orphan"]["TrainingJobStatus"] == "Failed"
    assert results["orphan"]["FailureReason"]
    assert tuning["HyperParameterTuningJobStatus"] == "Completed", tuning.get("FailureReason")
    assert processing["ProcessingJobStatus"] == "Completed", processing.get("FailureReason")
    assert tuning["TrainingJobStatusCounters"]["Completed"] == 2
    assert tuning["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == 11
    with gf.Platform(Config(home=home)) as p:
        assert p.training.list_training_jobs(status_equals="InProgress")["TrainingJobSummaries"] == []
        assert p.training.list_training_jobs(status_equals="Stopping")["TrainingJobSummaries"] == []
        assert p.jobs.list(status="InProgress") == []
        assert p.processing.list_processing_jobs(status_equals="InProgress")["ProcessingJobSummaries"] == []
        assert [o.key for o in p.storage.list_objects_v2("models", prefix="prep/").contents] == ["prep/done.txt"]
        assert p.tuning.list_hyper_parameter_tuning_jobs(status_equals="InProgress")["HyperParameterTuningJobSummaries"] == []
