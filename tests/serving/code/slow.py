"""A model that sleeps as long as the request's custom attributes say (sleep=SECONDS)."""

import os
import time

import joblib


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def predict_fn(data, model, context=None):
    attributes = (context.custom_attributes if context is not None else None) or ""
    for part in attributes.split(","):
        if part.startswith("sleep="):
            time.sleep(float(part[len("sleep="):]))
    return model.predict(data)
