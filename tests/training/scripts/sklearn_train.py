"""A scikit-learn script exactly as written for SageMaker script mode."""
import argparse
import os

import joblib
import pandas as pd
from sklearn.ensemble import RandomForestClassifier

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n-estimators", type=int, default=10)
    parser.add_argument("--max-depth", type=int, default=None)
    parser.add_argument("--model-dir", type=str, default=os.environ.get("SM_MODEL_DIR"))
    parser.add_argument("--train", type=str, default=os.environ.get("SM_CHANNEL_TRAIN"))
    parser.add_argument("--validation", type=str, default=os.environ.get("SM_CHANNEL_VALIDATION"))
    args, _ = parser.parse_known_args()
    print(f"n_estimators={args.n_estimators}", flush=True)
    train = pd.read_csv(os.path.join(args.train, "train.csv"))
    model = RandomForestClassifier(n_estimators=args.n_estimators, max_depth=args.max_depth, random_state=0)
    model.fit(train.drop(columns=["label"]), train["label"])
    if args.validation:
        valid = pd.read_csv(os.path.join(args.validation, "validation.csv"))
        print(f"validation-accuracy: {model.score(valid.drop(columns=['label']), valid['label']):.5f}")
    joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))
    with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "report.txt"), "w") as f:
        f.write("trained\n")
