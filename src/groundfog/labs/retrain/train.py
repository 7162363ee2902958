"""Train step (script mode): a scaled logistic regression on the ``train`` channel."""

import argparse
import glob
import os

import joblib
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    args = parser.parse_args()
    frame = pd.concat(pd.read_csv(p) for p in glob.glob(os.path.join(args.train, "*.csv")))
    features, label = frame.drop(columns=["label"]), frame["label"]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=args.C, max_iter=1000)).fit(features, label)
    print(f"train_accuracy={model.score(features, label):.4f}")
    joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))


if __name__ == "__main__":
    main()
