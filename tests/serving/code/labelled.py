"""SageMaker-style inference code: JSON in ({"features": [...]}), JSON out with the label
and its probability."""

import json
import os

import joblib
import numpy as np


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(request_body, request_content_type):
    if request_content_type != "application/json":
        raise ValueError(f"this model takes application/json, not {request_content_type}")
    return np.array([json.loads(request_body)["features"]], dtype=float)


def predict_fn(input_data, model):
    return model.predict_proba(input_data)[0]


def output_fn(prediction, accept):
    label = int(np.argmax(prediction))
    return json.dumps({"label": label, "probability": round(float(prediction[label]), 6)}), "application/json"
