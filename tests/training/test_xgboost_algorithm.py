"""SageMaker's built-in XGBoost algorithm, run as the training service runs it: a
program in a SageMaker-style ``/opt/ml`` tree with the ``SM_*`` variables, on real
data (scikit-learn's bundled data sets), checked by what it leaves behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xgboost as xgb
from sklearn.datasets import dump_svmlight_file, load_breast_cancer, load_diabetes, load_iris
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from groundfog.core.errors import ValidationError
from groundfog.training.algorithms import (
    BUILTIN_ALGORITHMS,
    validate_content_type,
    validate_xgboost_hyperparameters,
)

XGBOOST = BUILTIN_ALGORITHMS["xgboost"]
ROUND_LINE = re.compile(r"^\[(\d+)\]\t")


# ---------------------------------------------------------------------------------
# A SageMaker-style job directory, and running the algorithm in it
# ---------------------------------------------------------------------------------


@dataclass
class Job:
    root: Path
    env: dict[str, str]

    @property
    def ml(self) -> Path:
        return self.root / "algo-1" / "opt" / "ml"

    @property
    def model_file(self) -> Path:
        return self.ml / "model" / "xgboost-model"

    @property
    def failure_file(self) -> Path:
        return self.ml / "output" / "failure"

    def run(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", XGBOOST.module],
            env=self.env, cwd=self.root, capture_output=True, text=True, timeout=240,
        )  # fmt: skip


def make_job(
    root: Path,
    hyperparameters: dict[str, str],
    channels: dict[str, tuple[str, dict[str, bytes]]],
    *,
    checkpoint_dir: Path | None = None,
) -> Job:
    """Lay out ``root/algo-1/opt/ml`` as the training service does; ``channels`` maps
    a channel name to (ContentType, {file name: content})."""
    ml = root / "algo-1" / "opt" / "ml"
    config = ml / "input" / "config"
    config.mkdir(parents=True)
    for sub in ("model", "output/data"):
        (ml / sub).mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    (config / "resourceconfig.json").write_text(json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]}))
    data_config = {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("SM_")}
    for name, (content_type, files) in channels.items():
        directory = ml / "input" / "data" / name
        directory.mkdir(parents=True)
        for file_name, content in files.items():
            (directory / file_name).write_bytes(content)
        data_config[name] = {"ContentType": content_type, "TrainingInputMode": "File", "S3DistributionType": "FullyReplicated"}
        env[f"SM_CHANNEL_{name.upper()}"] = str(directory)
    (config / "inputdataconfig.json").write_text(json.dumps(data_config))
    if checkpoint_dir is not None:
        (config / "checkpointconfig.json").write_text(json.dumps({"LocalPath": str(checkpoint_dir), "S3Uri": "s3://b/ckpt"}))
    env.update(
        SM_MODEL_DIR=str(ml / "model"),
        SM_OUTPUT_DIR=str(ml / "output"),
        SM_OUTPUT_DATA_DIR=str(ml / "output" / "data"),
        SM_INPUT_DIR=str(ml / "input"),
        SM_INPUT_CONFIG_DIR=str(config),
        SM_CHANNELS=json.dumps(sorted(channels)),
        SM_HPS=json.dumps(hyperparameters),
        SM_NUM_CPUS="1",  # deterministic, and polite to the other test workers
        SM_HOSTS=json.dumps(["algo-1"]),
        SM_CURRENT_HOST="algo-1",
    )
    return Job(root, env)


def csv_bytes(labels: np.ndarray, features: np.ndarray, weights: np.ndarray | None = None) -> bytes:
    columns = [labels[:, None]] + ([weights[:, None]] if weights is not None else []) + [features]
    return pd.DataFrame(np.hstack(columns)).to_csv(header=False, index=False).encode()


def libsvm_bytes(labels: np.ndarray, features: np.ndarray, path: Path) -> bytes:
    dump_svmlight_file(features, labels, str(path), zero_based=True)
    return path.read_bytes()


def parquet_bytes(labels: np.ndarray, features: np.ndarray, path: Path) -> bytes:
    table = pa.table({"label": labels, **{f"f{i}": features[:, i] for i in range(features.shape[1])}})
    pq.write_table(table, path)
    return path.read_bytes()


def load_model(path: Path) -> xgb.Booster:
    booster = xgb.Booster()
    booster.load_model(bytearray(path.read_bytes()))
    return booster


def round_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if ROUND_LINE.match(line)]


def parsed(metric: str, line: str) -> float | None:
    match = re.match(XGBOOST.metric(metric).regex, line)
    return float(match.group(1)) if match else None


def assert_failed_with_one_line(result: subprocess.CompletedProcess[str], job: Job, *expected: str) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    reason = job.failure_file.read_text().strip()
    assert "\n" not in reason
    assert result.stderr.strip().splitlines()[-1] == reason
    assert "Traceback" not in result.stderr
    for text in expected:
        assert text in reason
    return reason


@pytest.fixture(scope="module")
def breast_cancer() -> tuple[np.ndarray, ...]:
    X, y = load_breast_cancer(return_X_y=True)
    return tuple(train_test_split(X, y.astype(float), test_size=0.25, random_state=0, stratify=y))


# ---------------------------------------------------------------------------------
# Training on each content type
# ---------------------------------------------------------------------------------


def test_binary_logistic_on_csv_learns_breast_cancer_and_logs_sagemaker_round_lines(tmp_path, breast_cancer):
    X_train, X_valid, y_train, y_valid = breast_cancer
    half = len(y_train) // 2  # two files in one channel: both are read, in order
    job = make_job(
        tmp_path,
        {"num_round": "40", "objective": "binary:logistic", "eval_metric": "auc", "max_depth": "3", "eta": "0.2", "seed": "7"},
        {
            "train": ("text/csv", {"part-0.csv": csv_bytes(y_train[:half], X_train[:half]),
                                   "part-1.csv": csv_bytes(y_train[half:], X_train[half:])}),
            "validation": ("text/csv", {"valid.csv": csv_bytes(y_valid, X_valid)}),
        },
    )  # fmt: skip
    result = job.run()
    assert result.returncode == 0, result.stderr

    booster = load_model(job.model_file)
    assert booster.num_boosted_rounds() == 40
    dvalid = xgb.DMatrix(X_valid, label=y_valid)
    assert roc_auc_score(y_valid, booster.predict(dvalid)) > 0.95
    assert f"Train matrix has {len(y_train)} rows and 30 columns" in result.stdout

    lines = round_lines(result.stdout)
    assert [int(ROUND_LINE.match(line).group(1)) for line in lines] == list(range(40))
    for line in lines:
        assert parsed("train:auc", line) is not None and parsed("validation:auc", line) is not None
        # CloudWatch shows the tab as #011: SageMaker's regexes are written for that.
        assert parsed("validation:auc", line.replace("\t", "#011")) == parsed("validation:auc", line)
        assert parsed("validation:rmse", line) is None
    booster.set_param("eval_metric", "auc")  # a saved model does not keep its metrics
    own = float(booster.eval(dvalid, "validation").split("validation-auc:")[1].split()[0])
    assert parsed("validation:auc", lines[-1]) == pytest.approx(own, abs=6e-6)


def test_regression_on_libsvm_predicts_diabetes_better_than_the_mean(tmp_path):
    X, y = load_diabetes(return_X_y=True)
    X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.25, random_state=0)
    job = make_job(
        tmp_path,
        {"num_round": "60", "objective": "reg:squarederror", "eta": "0.1", "max_depth": "2", "eval_metric": "rmse,mae"},
        {
            "train": ("text/libsvm", {"train.libsvm": libsvm_bytes(y_train, X_train, tmp_path / "t.svm")}),
            "validation": ("libsvm", {"valid.libsvm": libsvm_bytes(y_valid, X_valid, tmp_path / "v.svm")}),
        },
    )
    result = job.run()
    assert result.returncode == 0, result.stderr

    booster = load_model(job.model_file)
    rmse = float(np.sqrt(np.mean((booster.predict(xgb.DMatrix(X_valid)) - y_valid) ** 2)))
    assert rmse < 0.85 * float(np.std(y_valid))
    last = round_lines(result.stdout)[-1]
    assert parsed("validation:rmse", last) == pytest.approx(rmse, abs=1e-3)
    assert parsed("validation:mae", last) is not None and parsed("train:rmse", last) is not None


def test_multiclass_softprob_on_parquet_classifies_iris(tmp_path):
    X, y = load_iris(return_X_y=True)
    X_train, X_valid, y_train, y_valid = train_test_split(X, y.astype(float), test_size=0.3, random_state=0, stratify=y)
    job = make_job(
        tmp_path,
        {"num_round": "30", "objective": "multi:softprob", "num_class": "3", "eval_metric": "mlogloss,merror,accuracy"},
        {
            "train": ("application/x-parquet", {"train.parquet": parquet_bytes(y_train, X_train, tmp_path / "t.pq")}),
            "validation": ("application/x-parquet", {"valid.parquet": parquet_bytes(y_valid, X_valid, tmp_path / "v.pq")}),
        },
    )
    result = job.run()
    assert result.returncode == 0, result.stderr

    probabilities = load_model(job.model_file).predict(xgb.DMatrix(X_valid))
    assert probabilities.shape == (len(y_valid), 3)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == y_valid))
    assert accuracy > 0.9
    last = round_lines(result.stdout)[-1]
    assert parsed("validation:merror", last) == pytest.approx(1 - accuracy, abs=1e-5)
    assert parsed("validation:accuracy", last) == pytest.approx(accuracy, abs=1e-5)  # computed by the algorithm
    assert parsed("validation:mlogloss", last) < 0.3


def test_ranking_on_libsvm_uses_the_query_ids(tmp_path):
    rng = np.random.default_rng(0)
    features = rng.normal(size=(400, 4))
    relevance = np.clip(np.round(features[:, 0] + 0.3 * rng.normal(size=400) + 1), 0, 3)
    qid = np.repeat(np.arange(40), 10)  # 40 queries of 10 documents, in order
    path = tmp_path / "rank.svm"
    dump_svmlight_file(features, relevance, str(path), zero_based=True, query_id=qid)
    job = make_job(
        tmp_path / "job",
        {"num_round": "20", "objective": "rank:pairwise", "eval_metric": "ndcg"},
        {"train": ("text/libsvm", {"train.libsvm": path.read_bytes()}),
         "validation": ("text/libsvm", {"valid.libsvm": path.read_bytes()})},
    )  # fmt: skip
    result = job.run()
    assert result.returncode == 0, result.stderr
    assert parsed("validation:ndcg", round_lines(result.stdout)[-1]) > 0.9


def test_csv_weights_reads_the_second_column_as_instance_weight(tmp_path, breast_cancer):
    X_train, _, y_train, _ = breast_cancer
    weights = np.where(y_train == 1, 1.0, 3.0)
    job = make_job(
        tmp_path,
        {"num_round": "5", "objective": "binary:logistic", "csv_weights": "1"},
        {"train": ("text/csv", {"train.csv": csv_bytes(y_train, X_train, weights)})},
    )
    result = job.run()
    assert result.returncode == 0, result.stderr
    assert load_model(job.model_file).num_features() == 30  # the weight column is not a feature


def test_early_stopping_ends_training_when_validation_stops_improving(tmp_path, breast_cancer):
    X_train, X_valid, y_train, y_valid = breast_cancer
    job = make_job(
        tmp_path,
        {"num_round": "500", "objective": "binary:logistic", "eval_metric": "logloss", "eta": "0.5",
         "early_stopping_rounds": "5"},
        {"train": ("text/csv", {"t.csv": csv_bytes(y_train, X_train)}),
         "validation": ("text/csv", {"v.csv": csv_bytes(y_valid, X_valid)})},
    )  # fmt: skip
    result = job.run()
    assert result.returncode == 0, result.stderr
    booster = load_model(job.model_file)
    assert booster.num_boosted_rounds() < 500
    assert booster.num_boosted_rounds() == booster.best_iteration + 1 + 5
    assert len(round_lines(result.stdout)) == booster.num_boosted_rounds()


# ---------------------------------------------------------------------------------
# Checkpoints (managed spot training)
# ---------------------------------------------------------------------------------


def test_resuming_from_a_checkpoint_continues_the_rounds_and_ends_where_a_straight_run_does(tmp_path, breast_cancer):
    X_train, X_valid, y_train, y_valid = breast_cancer
    channels = {
        "train": ("text/csv", {"t.csv": csv_bytes(y_train, X_train)}),
        "validation": ("text/csv", {"v.csv": csv_bytes(y_valid, X_valid)}),
    }
    hps = {"objective": "binary:logistic", "eval_metric": "logloss,auc", "tree_method": "hist", "seed": "3", "max_depth": "4"}
    straight = make_job(tmp_path / "straight", {**hps, "num_round": "10"}, channels)
    result = straight.run()
    assert result.returncode == 0, result.stderr
    straight_lines = round_lines(result.stdout)

    checkpoints = tmp_path / "checkpoints"
    first = make_job(tmp_path / "first", {**hps, "num_round": "5"}, channels, checkpoint_dir=checkpoints)
    assert first.run().returncode == 0
    assert sorted(p.name for p in checkpoints.iterdir()) == [f"xgboost-checkpoint.{i}" for i in range(5)]

    resumed = make_job(tmp_path / "resumed", {**hps, "num_round": "10"}, channels, checkpoint_dir=checkpoints)
    result = resumed.run()
    assert result.returncode == 0, result.stderr
    assert "Resuming from checkpoint xgboost-checkpoint.4: continuing at round 5" in result.stdout
    lines = round_lines(result.stdout)
    assert [int(ROUND_LINE.match(line).group(1)) for line in lines] == [5, 6, 7, 8, 9]
    assert lines[-1] == straight_lines[-1]
    assert load_model(resumed.model_file).num_boosted_rounds() == 10
    # Only the last few checkpoints are kept.
    assert sorted(p.name for p in checkpoints.iterdir()) == [f"xgboost-checkpoint.{i}" for i in range(5, 10)]


def test_sigterm_ends_training_after_the_round_and_saves_the_model_when_asked(tmp_path, breast_cancer):
    X_train, _, y_train, _ = breast_cancer
    job = make_job(
        tmp_path,
        {"num_round": "100000", "objective": "binary:logistic", "save_model_on_termination": "true"},
        {"train": ("text/csv", {"t.csv": csv_bytes(y_train, X_train)})},
    )
    with open(tmp_path / "stderr.log", "w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", XGBOOST.module], env=job.env, cwd=job.root,
                                   stdout=subprocess.PIPE, stderr=stderr, text=True)  # fmt: skip
        printed = ""
        for line in process.stdout:  # wait for training to be under way
            printed += line
            if ROUND_LINE.match(line):
                break
        process.send_signal(signal.SIGTERM)
        printed += process.stdout.read()  # the same buffered reader: no line is lost
        process.wait(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, (tmp_path / "stderr.log").read_text()
    rounds = len(round_lines(printed))
    assert 1 <= rounds < 100000
    assert load_model(job.model_file).num_boosted_rounds() == rounds
    assert not job.failure_file.exists()  # stopped, not failed


# ---------------------------------------------------------------------------------
# Failures: one line of reason, a failure file, exit status 1
# ---------------------------------------------------------------------------------


def test_malformed_csv_fails_with_the_file_and_line_in_one_line(tmp_path):
    text = b"1,0.5,2.0\n0,0.1,1.5\n1,abc,2.2\n0,0.3,1.1\n"
    job = make_job(tmp_path, {"num_round": "3"}, {"train": ("text/csv", {"bad.csv": text})})
    result = job.run()
    assert_failed_with_one_line(result, job, "DataError", "bad.csv line 3, column 2", "'abc' is not a number")
    assert not job.model_file.exists()


def test_csv_with_a_header_row_is_explained(tmp_path):
    job = make_job(tmp_path, {"num_round": "3"}, {"train": ("text/csv", {"h.csv": b"label,x\n1,2\n0,3\n"})})
    assert_failed_with_one_line(job.run(), job, "h.csv line 1", "no header row")


def test_bad_hyperparameter_fails_the_job_naming_it(tmp_path, breast_cancer):
    X_train, _, y_train, _ = breast_cancer
    job = make_job(tmp_path, {"num_round": "3", "eta": "1.5"}, {"train": ("text/csv", {"t.csv": csv_bytes(y_train, X_train)})})
    assert_failed_with_one_line(job.run(), job, "ValidationError", "HyperParameters.eta", "[0, 1]", "1.5")


def test_labels_the_objective_cannot_learn_are_named_by_row(tmp_path, breast_cancer):
    X_train, _, y_train, _ = breast_cancer
    labels = y_train.copy()
    labels[7] = 5.0
    job = make_job(
        tmp_path,
        {"num_round": "3", "objective": "binary:logistic"},
        {"train": ("text/csv", {"t.csv": csv_bytes(labels, X_train)})},
    )
    assert_failed_with_one_line(job.run(), job, "DataError", "label in row 8 is 5", "[0, 1]")


def test_errors_from_xgboost_keep_its_reason_without_the_cpp_stack(tmp_path, breast_cancer):
    X_train, _, y_train, _ = breast_cancer
    too_many = "(" + ",".join(["1"] * 40) + ")"  # 40 constraints for 30 features
    job = make_job(
        tmp_path,
        {"num_round": "3", "tree_method": "hist", "monotone_constraints": too_many},
        {"train": ("text/csv", {"t.csv": csv_bytes(y_train, X_train)})},
    )
    reason = assert_failed_with_one_line(job.run(), job, "XGBoostError", "monotone constraint")
    assert "/workspace/" not in reason and "[bt]" not in reason and "Check failed" not in reason


def test_missing_train_channel_is_refused(tmp_path, breast_cancer):
    X_train, _, y_train, _ = breast_cancer
    job = make_job(tmp_path, {"num_round": "3"}, {"validation": ("text/csv", {"v.csv": csv_bytes(y_train, X_train)})})
    assert_failed_with_one_line(job.run(), job, "'train' channel")


# ---------------------------------------------------------------------------------
# The registry: hyperparameters, content types, metric definitions
# ---------------------------------------------------------------------------------


def test_hyperparameters_are_typed_and_aliases_take_their_canonical_name():
    typed = validate_xgboost_hyperparameters(
        {"num_round": "100", "learning_rate": "0.1", "max_depth": "6", "subsample": "0.8", "objective": "binary:logistic",
         "eval_metric": "auc,error@0.7", "monotone_constraints": "(1,0,-1)", "interaction_constraints": "[[0,1],[2]]",
         "tree_method": "hist", "early_stopping_rounds": "10", "seed": '"42"'}
    )  # fmt: skip
    assert typed == {
        "num_round": 100, "eta": 0.1, "max_depth": 6, "subsample": 0.8, "objective": "binary:logistic",
        "eval_metric": ["auc", "error@0.7"], "monotone_constraints": (1, 0, -1), "interaction_constraints": [[0, 1], [2]],
        "tree_method": "hist", "early_stopping_rounds": 10, "seed": 42,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("hyperparameters", "field", "says"),
    [
        ({}, "HyperParameters.num_round", "required"),
        ({"num_round": "0"}, "HyperParameters.num_round", "[1, inf)"),
        ({"num_round": "ten"}, "HyperParameters.num_round", "integer"),
        ({"num_round": "10", "eta": "1.5"}, "HyperParameters.eta", "[0, 1]"),
        ({"num_round": "10", "subsample": "0"}, "HyperParameters.subsample", "(0, 1]"),
        ({"num_round": "10", "max_depth": "2.5"}, "HyperParameters.max_depth", "integer"),
        ({"num_round": "10", "max_dept": "3"}, "HyperParameters.max_dept", "'max_depth'"),
        ({"num_round": "10", "objective": "binary:logistc"}, "HyperParameters.objective", "binary:logistic"),
        ({"num_round": "10", "objective": "multi:softmax"}, "HyperParameters.num_class", "required"),
        ({"num_round": "10", "num_class": "3"}, "HyperParameters.num_class", "multi-class"),
        ({"num_round": "10", "eval_metric": "auc"}, "HyperParameters.eval_metric", "binary classification"),
        ({"num_round": "10", "eval_metric": "rmse,,mae"}, "HyperParameters.eval_metric", "empty"),
        ({"num_round": "10", "eval_metric": "rsme"}, "HyperParameters.eval_metric", "'rmse'"),
        ({"num_round": "10", "tree_method": "gpu_hist"}, "HyperParameters.tree_method", "CPU"),
        ({"num_round": "10", "eta": "0.1", "learning_rate": "0.2"}, "HyperParameters.learning_rate", "twice"),
        ({"num_round": "10", "monotone_constraints": "(1,2)"}, "HyperParameters.monotone_constraints", "-1, 0 or 1"),
    ],
)
def test_validator_refuses_bad_hyperparameters_naming_the_field(hyperparameters, field, says):
    with pytest.raises(ValidationError) as caught:
        validate_xgboost_hyperparameters(hyperparameters)
    assert caught.value.field == field
    assert says in caught.value.message


def test_content_types_are_normalised_and_unknown_ones_refused():
    assert validate_content_type("train", "text/x-libsvm") == "text/libsvm"
    assert validate_content_type("train", "libsvm") == "text/libsvm"
    assert validate_content_type("validation", "text/csv; label_size=1") == "text/csv"
    assert validate_content_type("train", None) == "text/libsvm"  # SageMaker's default for XGBoost
    with pytest.raises(ValidationError) as caught:
        validate_content_type("validation", "application/json")
    assert caught.value.field == "InputDataConfig.validation.ContentType"
    with pytest.raises(ValidationError) as caught:
        XGBOOST.validate_input_data_config({"train": {"ContentType": "text/csv"}, "test": {}})
    assert caught.value.field == "InputDataConfig.test"


def test_metric_definitions_cover_train_and_validation_with_a_direction():
    names = {m.name for m in XGBOOST.metric_definitions}
    for name in ("train:rmse", "validation:rmse", "validation:auc", "train:auc", "validation:logloss", "validation:error",
                 "validation:mae", "validation:merror", "validation:mlogloss", "validation:aucpr", "validation:ndcg",
                 "validation:map", "validation:accuracy", "validation:f1"):  # fmt: skip
        assert name in names
    assert XGBOOST.metric("validation:auc").direction == "Maximize"
    assert XGBOOST.metric("validation:rmse").to_dict().keys() == {"Name", "Regex"}
    line = "[12]#011train-error:0.01#011train-merror:0.5#011validation-error:0.03125#011validation-aucpr:1e-05"
    assert parsed("validation:error", line) == 0.03125
    assert parsed("train:error", line) == 0.01
    assert parsed("validation:merror", line) is None
    assert parsed("validation:aucpr", line) == 1e-05
    assert parsed("validation:auc", line) is None


def test_importing_the_registry_does_not_import_the_engines():
    code = "import sys, groundfog.training.algorithms; print([m for m in ('xgboost', 'pandas', 'numpy', 'pyarrow') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
