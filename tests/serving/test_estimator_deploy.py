"""``Estimator.deploy`` and ``HyperparameterTuner.deploy`` as in the SageMaker SDK: a job
trained here goes behind an endpoint named after it, served by the training script
itself (its ``model_fn`` / ``output_fn``) or by the framework's defaults."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

import groundfog as gf
from groundfog.core.config import Config
from groundfog.core.errors import ValidationError
from groundfog.serving.sdk import CSVSerializer, JSONDeserializer, NumpySerializer

SCRIPT = '''\
import argparse
import json
import os

import joblib
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def output_fn(prediction, accept):
    return json.dumps({"served_by": "train.py", "labels": [int(p) for p in prediction]}), "application/json"


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--c", type=float, default=1.0)
    args, _ = parser.parse_known_args()
    train = pd.read_csv(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv"))
    X, y = train.drop(columns=["label"]).to_numpy(), train["label"]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=args.c, max_iter=2000)).fit(X, y)
    print(f"accuracy={model.score(X, y):.4f}", flush=True)
    joblib.dump(model, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))
'''


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[gf.Platform]:
    X, y = load_breast_cancer(return_X_y=True)
    p = gf.Platform(Config(home=tmp_path / "home"))
    p.storage.create_bucket("data")
    header = ",".join(f"f{i}" for i in range(X.shape[1])) + ",label\n"
    p.storage.put_object("data", "train/train.csv", header + "".join(
        ",".join(f"{v:.6g}" for v in row) + f",{label}\n" for row, label in zip(X, y)))  # fmt: skip
    p.storage.put_object("data", "xgb/train.csv", "".join(
        f"{label}," + ",".join(f"{v:.6g}" for v in row) + "\n" for row, label in zip(X, y)))  # fmt: skip
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(SCRIPT)
    try:
        yield p
    finally:
        p.close()  # stops the workers of the endpoints it hosts


def rows(n: int) -> np.ndarray:
    return load_breast_cancer(return_X_y=True)[0][:n]


def test_a_trained_estimator_deploys_behind_an_endpoint_named_after_its_job(platform, tmp_path):
    est = gf.SKLearn(entry_point="train.py", source_dir=str(tmp_path / "src"), hyperparameters={"c": 0.5},
                     platform=platform)  # fmt: skip
    with pytest.raises(ValidationError, match="call fit\\(\\) first"):
        est.deploy()
    est.fit({"train": "s3://data/train/"}, logs=False)
    predictor = est.deploy(initial_instance_count=1, instance_type="ml.m5.large",
                           serializer=NumpySerializer(), deserializer=JSONDeserializer())  # fmt: skip
    job = est.latest_training_job.name
    assert predictor.endpoint_name == job
    assert platform.serving.describe_endpoint(endpoint_name=job)["EndpointStatus"] == "InService"
    assert platform.registry.describe_model(model_name=job)["PrimaryContainer"]["ModelDataUrl"] == est.model_data
    # The training script is the inference code, as SageMaker's framework models make it.
    answer = predictor.predict(rows(3))
    assert answer["served_by"] == "train.py"
    assert answer["labels"] == [int(v) for v in load_breast_cancer(return_X_y=True)[1][:3]]


def test_the_built_in_xgboost_model_deploys_with_the_framework_defaults(platform):
    est = gf.Estimator(image_uri="xgboost", hyperparameters={"num_round": 20, "objective": "binary:logistic"},
                       platform=platform)  # fmt: skip
    est.fit({"train": gf.TrainingInput("s3://data/xgb/", content_type="text/csv")}, logs=False)
    predictor = est.deploy(endpoint_name="xgb-bc", serializer=CSVSerializer())
    answer = predictor.predict(rows(4))  # XGBoostModel's predictor reads CSV: a list per line
    scores = [float(v) for line in answer for v in line]
    labels = load_breast_cancer(return_X_y=True)[1][:4]
    assert [round(s) for s in scores] == list(labels) and all(0.0 <= s <= 1.0 for s in scores)


def test_a_tuner_deploys_its_best_training_job(platform, tmp_path):
    est = gf.SKLearn(entry_point="train.py", source_dir=str(tmp_path / "src"), platform=platform,
                     metric_definitions=[{"Name": "train:accuracy", "Regex": "accuracy=([0-9.]+)"}])  # fmt: skip
    tuner = gf.HyperparameterTuner(est, "train:accuracy", {"c": gf.ContinuousParameter(0.01, 1.0)},
                                   strategy="Random", max_jobs=2, max_parallel_jobs=1)  # fmt: skip
    tuner.fit({"train": "s3://data/train/"})
    predictor = tuner.deploy(initial_instance_count=1, instance_type="ml.m5.large")
    assert predictor.endpoint_name == tuner.best_training_job()
    answer = json.loads(platform.serving.invoke_endpoint(predictor.endpoint_name, json.dumps(rows(2).tolist()),
                                                         content_type="application/json").body)  # fmt: skip
    assert answer["served_by"] == "train.py" and len(answer["labels"]) == 2
