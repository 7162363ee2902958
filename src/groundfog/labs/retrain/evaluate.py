"""Evaluate step: score the trained model on the test set; write ``evaluation.json``
in the shape the pipeline's condition reads (``metrics.accuracy.value``)."""

import glob
import json
import os
import tarfile

import joblib
import pandas as pd

MODEL = "/opt/ml/processing/model"
TEST = "/opt/ml/processing/test"
OUTPUT = "/opt/ml/processing/evaluation"


def main():
    with tarfile.open(os.path.join(MODEL, "model.tar.gz")) as archive:
        archive.extractall(MODEL, filter="data")
    model = joblib.load(os.path.join(MODEL, "model.joblib"))
    frame = pd.concat(pd.read_csv(p) for p in glob.glob(os.path.join(TEST, "*.csv")))
    accuracy = float(model.score(frame.drop(columns=["label"]), frame["label"]))
    report = {"metrics": {"accuracy": {"value": accuracy}}, "rows": int(len(frame))}
    os.makedirs(OUTPUT, exist_ok=True)
    with open(os.path.join(OUTPUT, "evaluation.json"), "w") as f:
        json.dump(report, f)
    print(f"accuracy={accuracy:.4f} on {len(frame)} rows")


if __name__ == "__main__":
    main()
