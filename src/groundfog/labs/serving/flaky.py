"""A model that fails every other request: the bad release a canary must catch."""

import os

import joblib

_calls = {"n": 0}


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def predict_fn(data, model):
    _calls["n"] += 1
    if _calls["n"] % 2 == 0:
        raise RuntimeError("bad release: every second prediction fails")
    return model.predict(data)
