"""The SageMaker-style SDK: unchanged script-mode code trains, processes and tunes on a
local platform, and what comes back (model.tar.gz, outputs, failures) is what SageMaker gives."""

from __future__ import annotations

import io
import json
import re
import tarfile
import textwrap
from pathlib import Path

import pytest

import groundfog as gf
from groundfog.core.errors import GroundfogError, ValidationError
from groundfog.training.sdk import DEFAULT_BUCKET, name_from_base

TRAIN_SCRIPT = """\
import argparse, os, joblib
import pandas as pd
from sklearn.ensemble import RandomForestClassifier

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n-estimators", type=int, default=10)
    parser.add_argument("--criterion", default="gini")
    parser.add_argument("--model-dir", default=os.environ["SM_MODEL_DIR"])
    parser.add_argument("--train", default=os.environ["SM_CHANNEL_TRAIN"])
    args = parser.parse_args()
    df = pd.read_csv(os.path.join(args.train, "train.csv"))
    model = RandomForestClassifier(n_estimators=args.n_estimators, criterion=args.criterion, random_state=0)
    model.fit(df.drop(columns="y"), df.y)
    print(f"train_accuracy={model.score(df.drop(columns='y'), df.y):.4f}")
    joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))
"""


@pytest.fixture
def p(tmp_path: Path):
    platform = gf.Platform(home=tmp_path / "home")
    yield platform
    platform.close()


@pytest.fixture
def data(p):
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "y"})
    p.storage.create_bucket("data")
    p.storage.put_object("data", "train/train.csv", frame.to_csv(index=False).encode())
    return frame


def _script(tmp_path: Path, text: str, name: str = "train.py") -> Path:
    path = tmp_path / "code" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def _object(p, uri: str) -> bytes:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return p.storage.get_object_bytes(bucket, key)


# -- Estimator ----------------------------------------------------------------------------


def test_sklearn_script_trains_unchanged_and_its_model_data_unpacks_to_a_model_that_predicts(p, data, tmp_path, capsys):
    import joblib

    est = gf.SKLearn(entry_point=str(_script(tmp_path, TRAIN_SCRIPT)), hyperparameters={"n-estimators": 5}, platform=p)
    est.fit({"train": "s3://data/train/"})

    assert "train_accuracy=" in capsys.readouterr().out  # the log streamed while waiting
    assert est.model_data == f"s3://{DEFAULT_BUCKET}/{est.latest_training_job.name}/output/model.tar.gz"
    with tarfile.open(fileobj=io.BytesIO(_object(p, est.model_data))) as tar:
        tar.extractall(tmp_path / "model", filter="data")
    model = joblib.load(tmp_path / "model" / "model.joblib")
    assert model.n_estimators == 5
    assert (model.predict(data.drop(columns="y")) == data.y).mean() > 0.9


def test_fit_packs_the_code_as_the_sdk_does(p, data, tmp_path):
    est = gf.SKLearn(entry_point=str(_script(tmp_path, TRAIN_SCRIPT)), base_job_name="rf",
                     hyperparameters={"n-estimators": 3, "criterion": "gini"}, platform=p)  # fmt: skip
    est.fit("s3://data/train/", wait=False)  # a bare URI is the "training" channel
    job = est.latest_training_job
    hps = job.describe()["HyperParameters"]

    assert re.fullmatch(r"rf-\d{4}(-\d\d){5}-\d{3}", job.name)
    submit = f"s3://{DEFAULT_BUCKET}/{job.name}/source/sourcedir.tar.gz"
    assert hps["sagemaker_program"] == '"train.py"' and hps["sagemaker_submit_directory"] == json.dumps(submit)
    assert hps["n-estimators"] == "3" and hps["criterion"] == '"gini"'
    with tarfile.open(fileobj=io.BytesIO(_object(p, submit))) as tar:
        assert tar.getnames() == ["train.py"]
    assert job.describe()["InputDataConfig"][0]["ChannelName"] == "training"
    job.stop()


def test_hyperparameters_reach_the_script_typed(p, data, tmp_path):
    script = _script(tmp_path, """\
        import argparse, json, os
        parser = argparse.ArgumentParser()
        parser.add_argument("--n-estimators", type=int)
        parser.add_argument("--learning-rate", type=float)
        parser.add_argument("--criterion")
        args, _ = parser.parse_known_args()
        print("ARGS", json.dumps(vars(args)))
        print("HPS", os.environ["SM_HPS"])
        open(os.path.join(os.environ["SM_MODEL_DIR"], "done"), "w").close()
    """)
    hyperparameters = {"n-estimators": 100, "learning-rate": 0.05, "criterion": "entropy", "layers": [64, 32]}
    est = gf.SKLearn(entry_point=str(script), hyperparameters=hyperparameters, platform=p)
    est.fit({"train": "s3://data/train/"}, logs=False)

    log = est.latest_training_job.logs()
    args = json.loads(re.search(r"^ARGS (.*)$", log, re.M).group(1))
    assert args == {"n_estimators": 100, "learning_rate": 0.05, "criterion": "entropy"}
    assert json.loads(re.search(r"^HPS (.*)$", log, re.M).group(1)) == hyperparameters


def test_a_failing_script_raises_with_the_scripts_exception_message(p, data, tmp_path):
    script = _script(tmp_path, """\
        raise ValueError("the training data has no column named 'label'")
    """)
    est = gf.SKLearn(entry_point=str(script), platform=p)

    with pytest.raises(GroundfogError, match="has no column named 'label'") as failure:
        est.fit({"train": "s3://data/train/"}, logs=False)
    assert failure.value.details["status"] == "Failed"
    assert est.latest_training_job.describe()["TrainingJobStatus"] == "Failed"


def test_source_dir_ships_helper_modules_the_entry_point_imports(p, data, tmp_path):
    source = tmp_path / "src"
    (source / "lib").mkdir(parents=True)
    (source / "lib" / "__init__.py").write_text("")
    (source / "lib" / "features.py").write_text("def columns(df):\n    return [c for c in df.columns if c != 'y']\n")
    (source / "train.py").write_text(TRAIN_SCRIPT.replace(
        "model.fit(df.drop(columns=\"y\"), df.y)",
        "from lib.features import columns\n    model.fit(df[columns(df)], df.y)\n    print('helper used')",
    ))  # fmt: skip
    est = gf.SKLearn(entry_point="train.py", source_dir=str(source), platform=p,
                     metric_definitions=[{"Name": "train:accuracy", "Regex": r"train_accuracy=([0-9.]+)"}])  # fmt: skip
    est.fit({"train": gf.TrainingInput("s3://data/train/", content_type="text/csv")}, logs=False)

    job = est.latest_training_job
    assert "helper used" in job.logs()
    assert job.metrics()["train:accuracy"][-1] > 0.9
    assert est.model_data.endswith("/output/model.tar.gz")


def test_builtin_xgboost_runs_from_an_image_uri_without_a_script(p, data, tmp_path):
    label_first = data[["y", *[c for c in data.columns if c != "y"]]]
    p.storage.put_object("data", "xgb/train.csv", label_first.to_csv(index=False, header=False).encode())
    est = gf.Estimator(image_uri="xgboost", hyperparameters={"num_round": 5, "objective": "binary:logistic", "max_depth": 3},
                       platform=p)  # fmt: skip
    est.fit({"train": gf.TrainingInput("s3://data/xgb/", content_type="text/csv")}, logs=False)

    d = est.latest_training_job.describe()
    assert d["TrainingJobStatus"] == "Completed"
    assert "sagemaker_program" not in d["HyperParameters"] and d["HyperParameters"]["num_round"] == "5"
    assert est.model_data.endswith("/output/model.tar.gz")


def test_script_mode_without_an_entry_point_is_refused_before_anything_runs(p):
    with pytest.raises(ValidationError, match="entry_point is required") as refused:
        gf.SKLearn(platform=p).fit("s3://data/train/")
    assert refused.value.field == "entry_point"
    assert p.training.list_training_jobs()["TrainingJobSummaries"] == []


def test_model_data_before_fit_says_to_call_fit(p):
    with pytest.raises(ValidationError, match="call fit"):
        gf.SKLearn(entry_point="train.py", platform=p).model_data


def test_attach_rebuilds_the_estimator_of_a_job(p, data, tmp_path):
    est = gf.SKLearn(entry_point=str(_script(tmp_path, TRAIN_SCRIPT)), hyperparameters={"n-estimators": 4},
                     instance_type="ml.m5.xlarge", platform=p)  # fmt: skip
    est.fit({"train": "s3://data/train/"}, logs=False)

    again = gf.Estimator.attach(est.latest_training_job.name, platform=p)
    assert again.model_data == est.model_data
    assert (again.entry_point, again.hyperparameters, again.instance_type) == ("train.py", {"n-estimators": 4}, "ml.m5.xlarge")


def test_without_a_platform_the_sdk_uses_groundfog_url_or_else_groundfog_home(tmp_path, monkeypatch):
    from groundfog.client import RemotePlatform
    from groundfog.training import sdk

    monkeypatch.setattr(sdk, "_default", None)
    monkeypatch.setenv("GROUNDFOG_URL", "http://127.0.0.1:1")
    remote = sdk.default_platform()
    assert isinstance(remote, RemotePlatform) and remote.url == "http://127.0.0.1:1"
    remote.close()

    monkeypatch.setattr(sdk, "_default", None)
    monkeypatch.delenv("GROUNDFOG_URL")
    monkeypatch.setenv("GROUNDFOG_HOME", str(tmp_path / "default-home"))
    embedded = sdk.default_platform()
    try:
        assert embedded.home == tmp_path / "default-home" and sdk.default_platform() is embedded
    finally:
        embedded.close()


def test_default_tuning_job_names_fit_sagemakers_32_characters():
    name = name_from_base("sagemaker-scikit-learn-with-a-long-base", max_length=32, short=True)
    assert len(name) <= 32 and re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*", name)


# -- processing ---------------------------------------------------------------------------

PREPROCESS = """\
import argparse, glob, os
import pandas as pd
parser = argparse.ArgumentParser()
parser.add_argument("--test-size", type=float, default=0.2)
args = parser.parse_args()
df = pd.concat(pd.read_csv(f) for f in glob.glob("/opt/ml/processing/input/*.csv"))
test = df.sample(frac=args.test_size, random_state=0)
os.makedirs("/opt/ml/processing/train", exist_ok=True)
os.makedirs("/opt/ml/processing/test", exist_ok=True)
df.drop(test.index).to_csv("/opt/ml/processing/train/train.csv", index=False)
test.to_csv("/opt/ml/processing/test/test.csv", index=False)
print(f"split {len(df)} rows")
"""


def test_sklearn_processor_runs_code_mounted_at_input_code_and_uploads_each_output(p, data, tmp_path, capsys):
    proc = gf.SKLearnProcessor(framework_version="1.2-1", instance_type="ml.m5.large", instance_count=1, platform=p)
    proc.run(
        code=str(_script(tmp_path, PREPROCESS, "preprocess.py")),
        inputs=[gf.ProcessingInput(source="s3://data/train/", destination="/opt/ml/processing/input")],
        outputs=[gf.ProcessingOutput(source="/opt/ml/processing/train", output_name="train"),
                 gf.ProcessingOutput(source="/opt/ml/processing/test", destination="s3://data/split/test")],
        arguments=["--test-size", "0.25"],
    )  # fmt: skip

    assert "split 569 rows" in capsys.readouterr().out
    job = proc.latest_job
    d = job.describe()
    code = next(i for i in d["ProcessingInputs"] if i["InputName"] == "code")
    assert code["S3Input"]["LocalPath"] == "/opt/ml/processing/input/code"
    assert code["S3Input"]["S3Uri"] == f"s3://{DEFAULT_BUCKET}/{job.name}/input/code/preprocess.py"
    assert d["AppSpecification"]["ContainerEntrypoint"] == ["python3", "/opt/ml/processing/input/code/preprocess.py"]
    assert job.outputs == {"train": f"s3://{DEFAULT_BUCKET}/{job.name}/output/train", "output-2": "s3://data/split/test"}
    test_rows = _object(p, "s3://data/split/test/test.csv").decode().count("\n") - 1
    assert test_rows == round(569 * 0.25)


def test_processor_uploads_local_inputs_and_raises_when_the_job_fails(p, tmp_path):
    local = tmp_path / "local-data"
    local.mkdir()
    (local / "rows.csv").write_text("a\n1\n")
    proc = gf.Processor(image_uri="sklearn", entrypoint=["python3", "-c", "import sys; sys.exit('bad input: no column b')"],
                        platform=p)  # fmt: skip

    with pytest.raises(GroundfogError, match="bad input: no column b"):
        proc.run(inputs=[gf.ProcessingInput(source=str(local), destination="/opt/ml/processing/input")], logs=False)
    uri = proc.latest_job.describe()["ProcessingInputs"][0]["S3Input"]["S3Uri"]
    assert uri == f"s3://{DEFAULT_BUCKET}/{proc.latest_job.name}/input/input-1/"
    assert _object(p, uri + "rows.csv") == b"a\n1\n"


# -- tuning -------------------------------------------------------------------------------


def test_tuner_runs_a_small_search_and_names_the_best_job(p, data, tmp_path):
    est = gf.SKLearn(entry_point=str(_script(tmp_path, TRAIN_SCRIPT)), platform=p,
                     metric_definitions=[{"Name": "train:accuracy", "Regex": r"train_accuracy=([0-9.]+)"}])  # fmt: skip
    tuner = gf.HyperparameterTuner(
        est, objective_metric_name="train:accuracy", strategy="Random", random_seed=7,
        hyperparameter_ranges={"n-estimators": gf.IntegerParameter(1, 20),
                               "criterion": gf.CategoricalParameter(["gini", "entropy"])},
        max_jobs=3, max_parallel_jobs=2,
    )  # fmt: skip
    tuner.fit({"train": "s3://data/train/"})

    assert len(tuner.latest_tuning_job.name) <= 32
    board = tuner.leaderboard()
    assert len(board) == 3 and all(row["TrainingJobStatus"] == "Completed" for row in board)
    assert board[0]["FinalObjectiveValue"] == max(row["FinalObjectiveValue"] for row in board)
    assert all(1 <= row["n-estimators"] <= 20 and row["criterion"] in ("gini", "entropy") for row in board)
    best = gf.Estimator.attach(board[0]["TrainingJobName"], platform=p)
    assert best.hyperparameters == {"n-estimators": board[0]["n-estimators"], "criterion": board[0]["criterion"]}
    assert tuner.best_training_job() == board[0]["TrainingJobName"]
    assert tuner.best_estimator().model_data.endswith("/output/model.tar.gz")
