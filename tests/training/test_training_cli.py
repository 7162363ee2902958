"""``groundfog training|processing|tuning`` on the embedded platform: jobs started from
options or from a request file, followed, described, listed, and failures as exit codes."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

import groundfog as gf
from groundfog.cli.common import close_platform
from groundfog.cli.main import app

TRAIN_SCRIPT = """\
import argparse, os, joblib
import pandas as pd
from sklearn.linear_model import LogisticRegression

parser = argparse.ArgumentParser()
parser.add_argument("--c", type=float, default=1.0)
parser.add_argument("--model-dir", default=os.environ["SM_MODEL_DIR"])
parser.add_argument("--train", default=os.environ["SM_CHANNEL_TRAIN"])
args = parser.parse_args()
df = pd.read_csv(os.path.join(args.train, "train.csv"))
X, y = df.drop(columns="y"), df.y
model = LogisticRegression(C=args.c, max_iter=5000).fit(X, y)
print(f"C={args.c!r}")
print(f"train_accuracy={model.score(X, y):.4f}")
joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))
"""


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A home with s3://data/train/train.csv, that the CLI then uses."""
    from sklearn.datasets import load_breast_cancer

    home = tmp_path / "home"
    monkeypatch.setenv("GROUNDFOG_HOME", str(home))
    monkeypatch.delenv("GROUNDFOG_URL", raising=False)
    monkeypatch.delenv("GROUNDFOG_STATE_URL", raising=False)
    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "y"})
    with gf.Platform(home=home) as p:
        p.storage.create_bucket("data")
        p.storage.put_object("data", "train/train.csv", frame.to_csv(index=False).encode())
    return home


@pytest.fixture
def run(home):
    cli = CliRunner()

    def invoke(*args: str):
        try:
            return cli.invoke(app, list(args))
        finally:
            close_platform()

    return invoke


def _code(tmp_path: Path, text: str, name: str = "train.py") -> Path:
    path = tmp_path / "code" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_create_from_options_waits_and_prints_the_finished_job_as_json(run, tmp_path):
    script = _code(tmp_path, TRAIN_SCRIPT)
    result = run("training", "create", "--name", "lr-1", "--entry-point", "train.py", "--source-dir", str(script.parent),
                 "--hyperparameter", "c=0.5", "--channel", "train=s3://data/train/",
                 "--metric", r"train:accuracy=train_accuracy=([0-9.]+)", "--wait", "--json")  # fmt: skip

    assert result.exit_code == 0, result.output
    job = json.loads(result.stdout)  # stdout holds the record and nothing else
    assert (job["TrainingJobName"], job["TrainingJobStatus"]) == ("lr-1", "Completed")
    assert job["HyperParameters"]["c"] == "0.5"
    assert job["ModelArtifacts"]["S3ModelArtifacts"] == "s3://sagemaker-local-000000000000/lr-1/output/model.tar.gz"
    assert job["FinalMetricDataList"][0]["MetricName"] == "train:accuracy"

    logs = run("training", "logs", "lr-1")
    assert logs.exit_code == 0 and "C=0.5" in logs.stdout
    metrics = json.loads(run("training", "metrics", "lr-1", "--json").stdout)
    assert metrics["train:accuracy"][0] > 0.9
    listed = json.loads(run("training", "list", "--status", "Completed", "--json").stdout)
    assert [s["TrainingJobName"] for s in listed["TrainingJobSummaries"]] == ["lr-1"]


def test_create_from_a_request_file_then_wait_and_follow_the_log(run, tmp_path):
    script = _code(tmp_path, TRAIN_SCRIPT)
    request = {
        "TrainingJobName": "from-file",
        "AlgorithmSpecification": {"TrainingImage": "sklearn", "TrainingInputMode": "File"},
        "HyperParameters": {"sagemaker_program": "train.py", "sagemaker_submit_directory": f"file://{script.parent}",
                            "c": "2.0"},
        "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {"S3Uri": "s3://data/train/"}}}],
        "OutputDataConfig": {"S3OutputPath": "s3://data/models/"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }  # fmt: skip
    (tmp_path / "request.json").write_text(json.dumps(request))

    created = run("training", "create", "--file", str(tmp_path / "request.json"), "--json")
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["TrainingJobArn"].endswith("training-job/from-file")

    waited = run("training", "wait", "from-file", "--json")  # this process adopts the job and finishes it
    assert waited.exit_code == 0, waited.output
    assert json.loads(waited.stdout)["ModelArtifacts"]["S3ModelArtifacts"] == "s3://data/models/from-file/output/model.tar.gz"
    followed = run("training", "logs", "from-file", "--follow")
    assert "C=2.0" in followed.stdout and "Training job completed" in followed.stdout
    described = json.loads(run("training", "describe", "from-file", "--json").stdout)
    assert described["TrainingJobStatus"] == "Completed"


def test_a_failed_job_under_wait_exits_non_zero_with_its_reason_on_one_line(run, tmp_path):
    script = _code(tmp_path, 'raise RuntimeError("label column missing")\n')
    result = run("training", "create", "--name", "bad", "--entry-point", str(script),
                 "--channel", "train=s3://data/train/", "--wait")  # fmt: skip

    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: training job 'bad' failed:") and "label column missing" in lines[0]
    assert "Traceback" not in result.stdout


def test_bad_requests_are_refused_with_the_field_named(run, tmp_path):
    (tmp_path / "request.json").write_text(json.dumps({"TrainingJobName": "x", "Algorithm": {}}))
    unknown = run("training", "create", "--file", str(tmp_path / "request.json"))
    assert unknown.exit_code == 2 and "unknown key 'Algorithm'" in unknown.stderr
    pair = run("training", "create", "--entry-point", "train.py", "--hyperparameter", "c")
    assert pair.exit_code == 2 and "--hyperparameter expects NAME=VALUE" in pair.stderr
    missing = run("training", "describe", "nope")
    assert missing.exit_code == 3 and "no training job named 'nope'" in missing.stderr
    for group, body in (("training", {"TrainingJobName": "x"}), ("processing", {"ProcessingJobName": "x"}),
                        ("tuning", {"HyperParameterTuningJobName": "x"})):
        (tmp_path / "partial.json").write_text(json.dumps(body))
        partial = run(group, "create", "--file", str(tmp_path / "partial.json"))
        assert partial.exit_code == 2 and "lacks" in partial.stderr, (group, partial.stderr)


def test_stop_ends_a_running_job_as_stopped(run, tmp_path):
    script = _code(tmp_path, "import time\nprint('started', flush=True)\ntime.sleep(60)\n")
    assert run("training", "create", "--name", "slow", "--entry-point", str(script)).exit_code == 0

    assert run("training", "stop", "slow").exit_code == 0
    waited = run("training", "wait", "slow", "--json")
    assert waited.exit_code == 0, waited.output
    assert json.loads(waited.stdout)["TrainingJobStatus"] == "Stopped"


PREPROCESS = """\
import argparse, os
import pandas as pd
parser = argparse.ArgumentParser()
parser.add_argument("--test-size", type=float)
args = parser.parse_args()
df = pd.read_csv("/opt/ml/processing/input/train.csv")
os.makedirs("/opt/ml/processing/test", exist_ok=True)
df.sample(frac=args.test_size, random_state=0).to_csv("/opt/ml/processing/test/test.csv", index=False)
print("wrote the test split")
"""


def test_processing_create_runs_a_script_with_arguments_and_uploads_its_output(run, tmp_path):
    script = _code(tmp_path, PREPROCESS, "preprocess.py")
    result = run("processing", "create", "--name", "prep-1", "--code", str(script),
                 "--input", "s3://data/train/=/opt/ml/processing/input",
                 "--output", "/opt/ml/processing/test=s3://data/split/test", "--wait", "--json",
                 "--", "--test-size", "0.5")  # fmt: skip

    assert result.exit_code == 0, result.output
    job = json.loads(result.stdout)
    assert job["ProcessingJobStatus"] == "Completed"
    assert job["AppSpecification"]["ContainerArguments"] == ["--test-size", "0.5"]
    assert job["ProcessingOutputConfig"]["Outputs"][0]["OutputName"] == "test"
    assert "wrote the test split" in run("processing", "logs", "prep-1").stdout
    listed = json.loads(run("processing", "list", "--json").stdout)
    assert [s["ProcessingJobName"] for s in listed["ProcessingJobSummaries"]] == ["prep-1"]
    with gf.Platform() as p:
        assert p.storage.head_object("data", "split/test/test.csv").size > 0


def test_processing_create_needs_code_an_entrypoint_or_a_file(run):
    result = run("processing", "create", "--name", "nothing")
    assert result.exit_code == 2 and "give --code" in result.stderr


def test_tuning_create_from_a_file_and_list_its_training_jobs(run, tmp_path):
    script = _code(tmp_path, TRAIN_SCRIPT)
    request = {
        "HyperParameterTuningJobName": "lr-tune",
        "HyperParameterTuningJobConfig": {
            "Strategy": "Random", "RandomSeed": 3,
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "train:accuracy"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": {"ContinuousParameterRanges": [{"Name": "c", "MinValue": "0.01", "MaxValue": "10",
                                                               "ScalingType": "Logarithmic"}]},
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": {"sagemaker_program": "train.py", "sagemaker_submit_directory": f"file://{script.parent}"},
            "AlgorithmSpecification": {"TrainingImage": "sklearn", "TrainingInputMode": "File",
                                       "MetricDefinitions": [{"Name": "train:accuracy", "Regex": r"train_accuracy=([0-9.]+)"}]},
            "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {"S3Uri": "s3://data/train/"}}}],
            "OutputDataConfig": {"S3OutputPath": "s3://data/tuning/"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
    }  # fmt: skip
    (tmp_path / "tuning.json").write_text(json.dumps(request))

    created = run("tuning", "create", "--file", str(tmp_path / "tuning.json"), "--wait", "--json")
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["HyperParameterTuningJobStatus"] == "Completed"
    jobs = json.loads(run("tuning", "list-training-jobs", "lr-tune", "--json").stdout)["TrainingJobSummaries"]
    assert len(jobs) == 2 and all(j["TrainingJobStatus"] == "Completed" for j in jobs)
    listed = json.loads(run("tuning", "list", "--json").stdout)
    assert "lr-tune" in json.dumps(listed)
