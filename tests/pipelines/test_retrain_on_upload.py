"""The seed's scenario with real jobs: upload → EventBridge → pipeline → registered model;
caching reuses what did not change; a corrupted upload fails with a clear reason."""

from __future__ import annotations

import time

import pytest

from groundfog.labs import run_lab
from groundfog.labs.retrain_on_upload import BUCKET, PIPELINE, dataset_csv, upload_and_wait, wire


@pytest.fixture
def retrain(tmp_path):
    from groundfog import Platform

    with Platform(home=tmp_path / "home") as p:
        wire(p)
        yield p


def _jobs(p) -> set[str]:
    return {j["TrainingJobName"] for j in p.training.list_training_jobs()["TrainingJobSummaries"]} | {
        j["ProcessingJobName"] for j in p.processing.list_processing_jobs()["ProcessingJobSummaries"]}


def _steps(p, arn: str) -> dict[str, dict]:
    listed = p.pipelines.list_pipeline_execution_steps(pipeline_execution_arn=arn)["PipelineExecutionSteps"]
    return {s["StepName"]: s for s in listed}


def test_the_demo_runs_from_upload_to_succeeded_in_under_a_minute():
    started = time.monotonic()
    result = run_lab("retrain-on-upload")
    assert result.passed, [(c.claim, c.detail) for c in result.checks if not c.passed]
    assert time.monotonic() - started < 60


def test_a_second_execution_with_the_same_inputs_reuses_every_cacheable_step(retrain):
    data = dataset_csv()
    first = upload_and_wait(retrain, "incoming/a.csv", data)
    assert first["PipelineExecutionStatus"] == "Succeeded", first.get("FailureReason")
    jobs = _jobs(retrain)
    assert len(jobs) == 3

    again = retrain.pipelines.start_pipeline_execution(
        pipeline_name=PIPELINE, pipeline_parameters=[{"Name": "InputDataUrl", "Value": f"s3://{BUCKET}/incoming/a.csv"}])
    second = retrain.pipelines.wait_for_pipeline_execution(pipeline_execution_arn=again["PipelineExecutionArn"], timeout=60)
    assert second["PipelineExecutionStatus"] == "Succeeded"
    steps = _steps(retrain, again["PipelineExecutionArn"])
    for name in ("Preprocess", "Train", "Evaluate"):
        assert steps[name]["CacheHitResult"]["SourcePipelineExecutionArn"] == first["PipelineExecutionArn"], name
    assert _jobs(retrain) == jobs  # no new job ran
    assert steps["Register"]["StepStatus"] == "Succeeded"  # registration is not cached: version 2

    # A new hyperparameter re-runs training and what depends on it, not preprocessing.
    changed = retrain.pipelines.start_pipeline_execution(pipeline_name=PIPELINE, pipeline_parameters=[
        {"Name": "InputDataUrl", "Value": f"s3://{BUCKET}/incoming/a.csv"}, {"Name": "RegularizationC", "Value": "0.5"}])
    third = retrain.pipelines.wait_for_pipeline_execution(pipeline_execution_arn=changed["PipelineExecutionArn"], timeout=60)
    assert third["PipelineExecutionStatus"] == "Succeeded", third.get("FailureReason")
    steps = _steps(retrain, changed["PipelineExecutionArn"])
    assert "CacheHitResult" in steps["Preprocess"]
    assert "CacheHitResult" not in steps["Train"] and "CacheHitResult" not in steps["Evaluate"]
    assert len(_jobs(retrain)) == 5


def test_lineage_records_what_was_read_and_produced(retrain):
    done = upload_and_wait(retrain, "incoming/b.csv", dataset_csv())
    entries = retrain.pipelines.list_pipeline_execution_lineage(
        pipeline_execution_arn=done["PipelineExecutionArn"])["LineageEntries"]
    reads = [(e.get("StepName"), e["Uri"]) for e in entries if e["Direction"] == "Read"]
    assert (None, f"s3://{BUCKET}/incoming/b.csv") in reads
    assert ("Preprocess", f"s3://{BUCKET}/incoming/b.csv") in reads
    upload = [e for e in entries if e["Direction"] == "Read" and e.get("StepName") == "Preprocess"][0]
    assert upload["ETag"] == retrain.storage.head_object(BUCKET, "incoming/b.csv").etag
    produced = {(e["StepName"], e["Kind"]) for e in entries if e["Direction"] == "Produced"}
    assert {("Preprocess", "Output"), ("Train", "Model"), ("Evaluate", "Output"), ("Register", "ModelPackage")} <= produced


def test_the_scenario_runs_the_same_against_a_server(tmp_path):
    """The SDK, the registry and the triggers over HTTP: the server drives the executions."""
    import signal

    from server_helpers import free_port, start_server

    import groundfog as gf
    from groundfog.labs import LabResult
    from groundfog.labs.retrain_on_upload import run

    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    server = start_server(home, port)
    try:
        result = LabResult("retrain-on-upload", "")
        run(gf.connect(f"http://127.0.0.1:{port}"), result)
        assert result.passed, [(c.claim, c.detail) for c in result.checks if not c.passed]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


@pytest.mark.s3
@pytest.mark.postgres
@pytest.mark.parametrize("state_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("objects_backend", ["s3"], indirect=True)
def test_the_scenario_runs_on_postgresql_and_an_s3_object_store(tmp_path, state_url, objects_backend):
    """The scaled-out pair: state in PostgreSQL, objects in an S3-compatible server."""
    from groundfog import Platform
    from groundfog.core.config import Config
    from groundfog.labs import LabResult
    from groundfog.labs.retrain_on_upload import run

    with Platform(Config(home=tmp_path / "home", state_url=state_url, **objects_backend)) as p:
        result = LabResult("retrain-on-upload", "")
        run(p, result)
    assert result.passed, [(c.claim, c.detail) for c in result.checks if not c.passed]
