"""Processing jobs: inputs to local paths, the entrypoint, outputs to the object store."""

from __future__ import annotations

import time

import pytest

from groundfog.core.errors import ValidationError

PREPROCESS = b'''
import os, sys
import pandas as pd
src = sys.argv[sys.argv.index("--input") + 1]
dst = sys.argv[sys.argv.index("--output") + 1]
frame = pd.read_csv(os.path.join(src, "train.csv"))
print(f"rows={len(frame)}", flush=True)
os.makedirs(dst, exist_ok=True)
frame.sample(frac=1.0, random_state=0).head(100).to_csv(os.path.join(dst, "sample.csv"), index=False)
'''

CONTINUOUS = b'''
import os, sys, time
out = "/opt/ml/processing/out" if os.path.isdir("/opt/ml/processing/out") else sys.argv[1]
for i in range(3):
    with open(os.path.join(out, f"part-{i}.txt"), "w") as f:
        f.write(str(i))
    time.sleep(1.2)
'''


def _job(tp, name, code: bytes, arguments, outputs, **kwargs):
    tp.storage.put_object("code", f"{name}/script.py", code)
    return tp.processing.create_processing_job(
        processing_job_name=name,
        app_specification={"ImageUri": "sklearn", "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/script.py"],
                           "ContainerArguments": arguments},
        processing_resources={"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1}},
        processing_inputs=[
            {"InputName": "code", "S3Input": {"S3Uri": f"s3://code/{name}/script.py", "LocalPath": "/opt/ml/processing/input/code"}},
            {"InputName": "data", "S3Input": {"S3Uri": "s3://data/train/", "LocalPath": "/opt/ml/processing/input/data"}},
        ],
        processing_output_config={"Outputs": outputs},
        **kwargs,
    )  # fmt: skip


def test_processing_job_reads_inputs_and_uploads_outputs(tp):
    outputs = [{"OutputName": "sample", "S3Output": {"S3Uri": "s3://data/sample/", "LocalPath": "/opt/ml/processing/sample", "S3UploadMode": "EndOfJob"}}]
    _job(tp, "prep-1", PREPROCESS, ["--input", "/opt/ml/processing/input/data", "--output", "/opt/ml/processing/sample"], outputs)
    job = tp.processing.wait_for_processing_job("prep-1", timeout=60)
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert "rows=450" in tp.processing.get_processing_job_logs("prep-1")["Text"]
    body = tp.storage.get_object_bytes("data", "sample/sample.csv")
    assert body.count(b"\n") == 101


def test_continuous_outputs_appear_while_the_job_runs(tp):
    outputs = [{"OutputName": "out", "S3Output": {"S3Uri": "s3://data/stream/", "LocalPath": "/opt/ml/processing/out", "S3UploadMode": "Continuous"}}]
    _job(tp, "cont-1", CONTINUOUS, ["/opt/ml/processing/out"], outputs)
    deadline = time.time() + 30
    while not tp.storage.list_objects_v2("data", prefix="stream/").contents:
        assert time.time() < deadline
        time.sleep(0.1)
    assert tp.processing.describe_processing_job("cont-1")["ProcessingJobStatus"] == "InProgress"
    job = tp.processing.wait_for_processing_job("cont-1", timeout=60)
    assert job["ProcessingJobStatus"] == "Completed"
    assert len(tp.storage.list_objects_v2("data", prefix="stream/").contents) == 3


def test_failing_processing_script_reports_its_error(tp):
    _job(tp, "fail-1", b"raise RuntimeError('no rows to process')\n", [], [])
    job = tp.processing.wait_for_processing_job("fail-1", timeout=60)
    assert job["ProcessingJobStatus"] == "Failed"
    assert "RuntimeError: no rows to process" in job["FailureReason"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"app_specification": {"ImageUri": "sklearn"}}, "AppSpecification.ContainerEntrypoint"),
        ({"processing_inputs": [{"InputName": "d", "S3Input": {"S3Uri": "s3://data/none/", "LocalPath": "/opt/ml/processing/in"}}]}, "ProcessingInputs[0].S3Input.S3Uri"),
        ({"processing_inputs": [{"InputName": "d", "S3Input": {"S3Uri": "s3://data/train/", "LocalPath": "/etc"}}]}, "ProcessingInputs[0].S3Input.LocalPath"),
        ({"processing_resources": {"ClusterConfig": {"InstanceType": "ml.x9.large", "InstanceCount": 1}}}, "ProcessingResources.ClusterConfig.InstanceType"),
    ],
)
def test_bad_processing_requests_are_refused_with_the_field(tp, change, field):
    request = {
        "processing_job_name": "bad-1",
        "app_specification": {"ImageUri": "sklearn", "ContainerEntrypoint": ["python3", "x.py"]},
        "processing_resources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1}},
        **change,
    }
    with pytest.raises(ValidationError) as caught:
        tp.processing.create_processing_job(**request)
    assert caught.value.field == field
    assert tp.processing.list_processing_jobs()["ProcessingJobSummaries"] == []


@pytest.mark.parametrize("outputs", [5, True, "x", {"a": 1}])
def test_outputs_that_are_not_a_list_are_refused(tp, outputs):
    with pytest.raises(ValidationError) as caught:
        tp.processing.create_processing_job(
            processing_job_name="bad-outputs",
            app_specification={"ImageUri": "sklearn", "ContainerEntrypoint": ["python3", "x.py"]},
            processing_output_config={"Outputs": outputs},
        )
    assert caught.value.field == "ProcessingOutputConfig.Outputs"
