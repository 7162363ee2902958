"""The metrics SageMaker's XGBoost algorithm publishes in its log: each metric's name,
the regex that finds its value in a boosting-round line, and whether hyperparameter
tuning maximises or minimises it.

The registry (``groundfog.training.algorithms``) turns these into the algorithm's
``AlgorithmMetric`` definitions; the hyperparameter validator checks ``eval_metric``
and ``_tuning_objective_metric`` against them.

>>> name, regex, direction = metric_definitions()[0]
>>> (name, direction)
('validation:accuracy', 'Maximize')
>>> re.match(regex, "[3]#011train-accuracy:0.99#011validation-accuracy:0.98").group(1)
'0.98'
"""

from __future__ import annotations

import re

__all__ = ["XGBOOST_MAXIMIZE_METRICS", "XGBOOST_MINIMIZE_METRICS", "metric_definitions"]

# The metric names SageMaker's XGBoost algorithm publishes (the container's
# xgb_constants): xgboost's own evaluation metrics plus the ones the container
# computes itself (accuracy, f1, mse, r2, precision, recall, ...).
XGBOOST_MAXIMIZE_METRICS: tuple[str, ...] = (
    "accuracy", "auc", "aucpr", "balanced_accuracy", "f1", "f1_binary", "f1_macro", "map", "ndcg",
    "precision", "precision_macro", "precision_micro", "r2", "recall", "recall_macro", "recall_micro",
)  # fmt: skip
XGBOOST_MINIMIZE_METRICS: tuple[str, ...] = (
    "aft-nloglik", "cox-nloglik", "error", "gamma-deviance", "gamma-nloglik", "interval-regression-accuracy",
    "logloss", "mae", "mape", "merror", "mlogloss", "mphe", "mse", "poisson-nloglik", "rmse", "rmsle",
    "tweedie-nloglik",
)  # fmt: skip

# A value as Python prints it (``0.98765``, ``1e-05``, ``nan``, ``inf``). The line is
# ``[<round>]<TAB>train-rmse:...<TAB>validation-rmse:...``; CloudWatch shows the tab as
# ``#011``, and SageMaker's published regexes say ``#011``, so accept either.
_VALUE = r"([-+]?(?:[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|nan|inf))"


def metric_definitions() -> tuple[tuple[str, str, str], ...]:
    """``(name, regex, direction)`` for every published metric: each name above on the
    validation and the train data (``validation:auc``, ``train:auc``), group 1 of the
    regex capturing the value."""
    metrics = []
    for data in ("validation", "train"):
        for names, direction in ((XGBOOST_MAXIMIZE_METRICS, "Maximize"), (XGBOOST_MINIMIZE_METRICS, "Minimize")):
            for metric in names:
                regex = rf".*\[[0-9]+\].*(?:\t|#011){data}-{re.escape(metric)}:{_VALUE}"
                metrics.append((f"{data}:{metric}", regex, direction))
    return tuple(metrics)
