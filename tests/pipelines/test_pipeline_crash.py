"""kill -9 of the server mid-execution: the restarted server resumes the execution from
where it was; it succeeds, and no step's work runs twice to completion."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from pipeline_helpers import definition, get, lam, register_functions
from server_helpers import free_port, start_server

import groundfog as gf
from groundfog import Platform

pytestmark = pytest.mark.slow

TICKS = b'''
import os, sys, time
for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 8):
    print(f"tick {i}", flush=True)
    time.sleep(0.4)
out = os.environ.get("SM_MODEL_DIR") or "/opt/ml/processing/out"
open(os.path.join(out, "done.txt"), "w").write("ok")
'''


def _tarball(files: dict[str, bytes]) -> bytes:
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, body in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


def _definition(fns: dict[str, str], log: str) -> dict:
    processing = {"Name": "Prepare", "Type": "Processing", "Arguments": {
        "AppSpecification": {"ImageUri": "sklearn", "ContainerEntrypoint": ["python3", "/opt/ml/processing/code/ticks.py"],
                             "ContainerArguments": ["8"]},
        "ProcessingInputs": [{"InputName": "code", "S3Input": {"S3Uri": "s3://code/ticks.py",
                                                               "LocalPath": "/opt/ml/processing/code"}}],
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "out", "S3Output": {
            "LocalPath": "/opt/ml/processing/out", "S3UploadMode": "EndOfJob"}}]}}}
    training = {"Name": "Train", "Type": "Training", "Arguments": {
        "AlgorithmSpecification": {"TrainingImage": "sklearn", "TrainingInputMode": "File"},
        "HyperParameters": {"sagemaker_program": "ticks.py", "sagemaker_submit_directory": "s3://code/ticks.tar.gz"},
        "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {
            "S3Uri": get("Steps.Prepare.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri")}}}],
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600}}}
    report = lam("Report", fns["append"], {"log": log, "model": get("Steps.Train.ModelArtifacts.S3ModelArtifacts")})
    return definition(processing, training, report)


def _wait(predicate, timeout: float, what: str):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.mark.parametrize("kill_during", ["Prepare", "Train"])
def test_kill_9_mid_execution_resumes_and_runs_each_step_once(tmp_path, kill_during):
    home = tmp_path / "home"
    log = tmp_path / "report.jsonl"
    with Platform(home=home) as p:
        p.storage.create_bucket("code")
        p.storage.put_object("code", "ticks.py", TICKS)
        p.storage.put_object("code", "ticks.tar.gz", _tarball({"ticks.py": TICKS}))
        fns = register_functions(p)
        p.pipelines.upsert_pipeline(pipeline_name="crashy", pipeline_definition=_definition(fns, str(log)))

    port = free_port()
    server = start_server(home, port)
    remote = gf.connect(f"http://127.0.0.1:{port}")
    arn = remote.pipelines.start_pipeline_execution(pipeline_name="crashy")["PipelineExecutionArn"]

    def executing(step: str):
        steps = remote.pipelines.list_pipeline_execution_steps(pipeline_execution_arn=arn)["PipelineExecutionSteps"]
        return any(s["StepName"] == step and s["StepStatus"] == "Executing" for s in steps)

    _wait(lambda: executing(kill_during), 60, f"{kill_during} to be executing")
    time.sleep(1.0)
    os.kill(server.pid, signal.SIGKILL)
    server.wait()

    server = start_server(home, port)
    try:
        described = remote.pipelines.wait_for_pipeline_execution(pipeline_execution_arn=arn, timeout=120)
        assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
        steps = {s["StepName"]: s for s in
                 remote.pipelines.list_pipeline_execution_steps(pipeline_execution_arn=arn)["PipelineExecutionSteps"]}
        assert {n: s["StepStatus"] for n, s in steps.items()} == {"Prepare": "Succeeded", "Train": "Succeeded",
                                                                  "Report": "Succeeded"}
        assert all(s["AttemptCount"] == 1 for s in steps.values())
        # One job per job step, named for the step's first attempt.
        processing = remote.processing.list_processing_jobs()["ProcessingJobSummaries"]
        training = remote.training.list_training_jobs()["TrainingJobSummaries"]
        assert [j["ProcessingJobStatus"] for j in processing] == ["Completed"]
        assert [j["TrainingJobStatus"] for j in training] == ["Completed"]
        assert steps["Prepare"]["Metadata"]["ProcessingJob"]["Arn"].endswith(processing[0]["ProcessingJobName"])
        assert steps["Train"]["Metadata"]["TrainingJob"]["Arn"].endswith(training[0]["TrainingJobName"])
        reports = [json.loads(line) for line in log.read_text().splitlines()]
        assert len(reports) == 1 and reports[0]["model"].endswith("model.tar.gz")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
