"""Job steps with real jobs: a processing step retried under a job retry policy, and a
tuning step whose best model becomes a model and a registered version."""

from __future__ import annotations

import io
import tarfile

import pytest
from pipeline_helpers import definition, get, run

from groundfog import Platform

FLAKY = b'''
import os, sys
counter = os.environ["COUNTER"]
calls = int(open(counter).read()) + 1 if os.path.exists(counter) else 1
open(counter, "w").write(str(calls))
if calls <= 2:
    sys.exit(f"flaky job, attempt {calls}")
open("/opt/ml/processing/out/ok.txt", "w").write(str(calls))
'''

TRIAL = b'''
import argparse, os
parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float)
args, _ = parser.parse_known_args()
print(f"score={-(args.x - 3) ** 2:.4f}", flush=True)
open(os.path.join(os.environ["SM_MODEL_DIR"], "x.txt"), "w").write(str(args.x))
'''


def _tarball(name: str, body: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


@pytest.fixture
def jp(tmp_path):
    with Platform(home=tmp_path / "home") as p:
        p.storage.create_bucket("code")
        p.storage.put_object("code", "flaky.py", FLAKY)
        p.storage.put_object("code", "trial.tar.gz", _tarball("trial.py", TRIAL))
        p.storage.create_bucket("data")
        p.storage.put_object("data", "train/x.csv", b"x\n1\n")
        yield p


def test_a_job_that_fails_twice_succeeds_under_a_retry_policy_of_three_attempts(jp, tmp_path):
    step = {"Name": "Flaky", "Type": "Processing", "Arguments": {
        "AppSpecification": {"ImageUri": "sklearn", "ContainerEntrypoint": ["python3", "/opt/ml/processing/code/flaky.py"]},
        "ProcessingInputs": [{"InputName": "code", "S3Input": {"S3Uri": "s3://code/flaky.py",
                                                               "LocalPath": "/opt/ml/processing/code"}}],
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "out", "S3Output": {"LocalPath": "/opt/ml/processing/out",
                                                                                  "S3UploadMode": "EndOfJob"}}]},
        "Environment": {"COUNTER": str(tmp_path / "calls")}},
        "RetryPolicies": [{"ExceptionType": ["SageMaker.JOB_INTERNAL_ERROR"], "IntervalSeconds": 1, "BackoffRate": 1.0,
                           "MaxAttempts": 3}]}  # fmt: skip
    _, described, steps = run(jp, "flaky-job", definition(step), timeout=90)
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    assert steps["Flaky"]["AttemptCount"] == 3
    jobs = jp.processing.list_processing_jobs()["ProcessingJobSummaries"]
    assert sorted(j["ProcessingJobStatus"] for j in jobs) == ["Completed", "Failed", "Failed"]
    assert steps["Flaky"]["Metadata"]["ProcessingJob"]["Arn"].endswith("-Flaky-3")


def test_a_tuning_steps_best_model_is_created_and_registered(jp):
    jp.registry.create_model_package_group(model_package_group_name="tuned")
    tuning = {"Name": "Tune", "Type": "Tuning", "Arguments": {
        "HyperParameterTuningJobConfig": {
            "Strategy": "Grid",
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "score"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 3, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": {"CategoricalParameterRanges": [{"Name": "x", "Values": ["1", "3", "4"]}]}},
        "TrainingJobDefinition": {
            "StaticHyperParameters": {"sagemaker_program": "trial.py", "sagemaker_submit_directory": "s3://code/trial.tar.gz"},
            "AlgorithmSpecification": {"TrainingImage": "sklearn", "TrainingInputMode": "File",
                                       "MetricDefinitions": [{"Name": "score", "Regex": r"score=(-?[0-9.]+)"}]},
            "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {"S3Uri": "s3://data/train/"}}}],
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
            "StoppingCondition": {"MaxRuntimeInSeconds": 300}}}}  # fmt: skip
    best_model = {"Std:Join": {"On": "/", "Values": [
        get("Steps.Tune.TrainingJobDefinition.OutputDataConfig.S3OutputPath"),
        get("Steps.Tune.BestTrainingJob.TrainingJobName"), "output", "model.tar.gz"]}}
    model = {"Name": "CreateModel", "Type": "Model", "Arguments": {"PrimaryContainer": {
        "Image": "sklearn", "ModelDataUrl": best_model}}}
    register = {"Name": "Register", "Type": "RegisterModel", "Arguments": {
        "ModelPackageGroupName": "tuned", "ModelApprovalStatus": "Approved",
        "InferenceSpecification": {"Containers": [{"Image": "sklearn", "ModelDataUrl": best_model}],
                                   "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]}},
        "DependsOn": ["CreateModel"]}  # fmt: skip
    arn, described, steps = run(jp, "tuned", definition(tuning, model, register), timeout=120)
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    tuned = jp.tuning.describe_hyper_parameter_tuning_job(
        hyper_parameter_tuning_job_name=steps["Tune"]["Metadata"]["TuningJob"]["Arn"].rsplit("/", 1)[1])
    best = tuned["BestTrainingJob"]["TrainingJobName"]
    assert tuned["BestTrainingJob"]["TunedHyperParameters"]["x"] in ("3", '"3"')
    model_name = steps["CreateModel"]["Metadata"]["Model"]["Arn"].rsplit("/", 1)[1]
    created = jp.registry.describe_model(model_name=model_name)
    assert best in created["PrimaryContainer"]["ModelDataUrl"]
    package = jp.registry.describe_model_package(model_package_name=steps["Register"]["Metadata"]["RegisterModel"]["Arn"])
    assert package["ModelApprovalStatus"] == "Approved" and package["ModelPackageVersion"] == 1
    assert package["Lineage"]["PipelineExecutionArn"] == arn


def test_a_cache_hit_expires_after_expire_after(tmp_path):
    from groundfog.core.clock import ManualClock
    from groundfog.core.config import Config

    clock = ManualClock()
    with Platform(Config(home=tmp_path / "home"), clock=clock) as p:
        p.storage.create_bucket("code")
        p.storage.put_object("code", "noop.py", b"print('done')\n")
        step = {"Name": "Prep", "Type": "Processing", "CacheConfig": {"Enabled": True, "ExpireAfter": "PT1H"},
                "Arguments": {
                    "AppSpecification": {"ImageUri": "sklearn",
                                         "ContainerEntrypoint": ["python3", "/opt/ml/processing/code/noop.py"]},
                    "ProcessingInputs": [{"InputName": "code", "S3Input": {"S3Uri": "s3://code/noop.py",
                                                                           "LocalPath": "/opt/ml/processing/code"}}]}}  # fmt: skip
        first, _, _ = run(p, "cached", definition(step))
        _, _, steps = run(p, "cached", definition(step))
        assert steps["Prep"]["CacheHitResult"]["SourcePipelineExecutionArn"] == first
        clock.advance(2 * 3600)
        _, described, steps = run(p, "cached", definition(step))
        assert described["PipelineExecutionStatus"] == "Succeeded"
        assert "CacheHitResult" not in steps["Prep"]
        assert len(p.processing.list_processing_jobs()["ProcessingJobSummaries"]) == 2
