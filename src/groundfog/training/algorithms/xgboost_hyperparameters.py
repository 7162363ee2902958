"""The XGBoost algorithm's hyperparameters, declared as data (names, types, ranges,
choices, as SageMaker documents them) and checked by one validator,
``validate_xgboost_hyperparameters``, before a job starts.

>>> validate_xgboost_hyperparameters({"num_round": "50", "learning_rate": "0.3"})
{'num_round': 50, 'eta': 0.3}
>>> try:
...     validate_xgboost_hyperparameters({"num_round": "50", "max_dept": "6"})
... except ValidationError as exc:
...     print(exc.field)
HyperParameters.max_dept
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from groundfog.core.errors import ValidationError
from groundfog.training.algorithms.xgboost_metrics import (
    XGBOOST_MAXIMIZE_METRICS,
    XGBOOST_MINIMIZE_METRICS,
    metric_definitions,
)

__all__ = ["validate_xgboost_hyperparameters"]

_INF = math.inf


@dataclass(frozen=True)
class _Param:
    kind: Literal["int", "float", "choice", "metrics", "list", "tuple", "nested"]
    low: float = -_INF
    high: float = _INF
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    required: bool = False


def _interval(low: float = -_INF, high: float = _INF, *, low_open: bool = False, high_open: bool = False) -> dict:
    return {"low": low, "high": high, "low_open": low_open, "high_open": high_open}


_OBJECTIVES = (
    "reg:squarederror", "reg:squaredlogerror", "reg:logistic", "reg:pseudohubererror", "reg:absoluteerror",
    "reg:gamma", "reg:tweedie", "reg:linear", "binary:logistic", "binary:logitraw", "binary:hinge",
    "count:poisson", "multi:softmax", "multi:softprob", "rank:pairwise", "rank:ndcg", "rank:map",
    "survival:cox", "survival:aft",
)  # fmt: skip
# The updaters xgboost still has (grow_skmaker, grow_local_histmaker and distcol,
# which older SageMaker images list, were removed from xgboost itself).
_UPDATERS = (
    "grow_colmaker", "grow_histmaker", "grow_quantile_histmaker", "sync", "refresh", "prune", "shotgun",
    "coord_descent",
)  # fmt: skip
_TRUE_FALSE = ("true", "false")

# Names, types and ranges as SageMaker's XGBoost algorithm documents them
# (https://docs.aws.amazon.com/sagemaker/latest/dg/xgboost_hyperparameters.html).
_XGBOOST_PARAMS: dict[str, _Param] = {
    "num_round": _Param("int", **_interval(1), required=True),
    "num_class": _Param("int", **_interval(2)),
    "objective": _Param("choice", choices=_OBJECTIVES),
    "eval_metric": _Param("metrics"),
    "early_stopping_rounds": _Param("int", **_interval(1)),
    "csv_weights": _Param("int", **_interval(0, 1)),
    "booster": _Param("choice", choices=("gbtree", "gblinear", "dart")),
    "verbosity": _Param("int", **_interval(0, 3)),
    "nthread": _Param("int", **_interval(1)),
    "seed": _Param("int", **_interval(-(2**31), 2**31 - 1, low_open=True, high_open=True)),
    "eta": _Param("float", **_interval(0, 1)),
    "gamma": _Param("float", **_interval(0)),
    "max_depth": _Param("int", **_interval(0)),
    "min_child_weight": _Param("float", **_interval(0)),
    "max_delta_step": _Param("float", **_interval(0)),
    "subsample": _Param("float", **_interval(0, 1, low_open=True)),
    "colsample_bytree": _Param("float", **_interval(0, 1, low_open=True)),
    "colsample_bylevel": _Param("float", **_interval(0, 1, low_open=True)),
    "colsample_bynode": _Param("float", **_interval(0, 1, low_open=True)),
    "lambda": _Param("float", **_interval(0)),
    "alpha": _Param("float", **_interval(0)),
    "tree_method": _Param("choice", choices=("auto", "exact", "approx", "hist")),
    "sketch_eps": _Param("float", **_interval(0, 1, low_open=True, high_open=True)),
    "scale_pos_weight": _Param("float", **_interval(0, low_open=True)),
    "updater": _Param("list", choices=_UPDATERS),
    "refresh_leaf": _Param("int", **_interval(0, 1)),
    "process_type": _Param("choice", choices=("default", "update")),
    "grow_policy": _Param("choice", choices=("depthwise", "lossguide")),
    "max_leaves": _Param("int", **_interval(0)),
    "max_bin": _Param("int", **_interval(2)),
    "monotone_constraints": _Param("tuple", **_interval(-1, 1)),
    "interaction_constraints": _Param("nested", **_interval(0)),
    "sample_type": _Param("choice", choices=("uniform", "weighted")),
    "normalize_type": _Param("choice", choices=("tree", "forest")),
    "rate_drop": _Param("float", **_interval(0, 1)),
    "one_drop": _Param("int", **_interval(0, 1)),
    "skip_drop": _Param("float", **_interval(0, 1)),
    "lambda_bias": _Param("float", **_interval(0, 1)),
    "tweedie_variance_power": _Param("float", **_interval(1, 2, low_open=True, high_open=True)),
    "huber_slope": _Param("float", **_interval(0, low_open=True)),
    "base_score": _Param("float"),
    "num_parallel_tree": _Param("int", **_interval(1)),
    "save_model_on_termination": _Param("choice", choices=_TRUE_FALSE),
    "aft_loss_distribution": _Param("choice", choices=("normal", "logistic", "extreme")),
    "aft_loss_distribution_scale": _Param("float", **_interval(0, low_open=True)),
    "sampling_method": _Param("choice", choices=("uniform", "gradient_based")),
    "single_precision_histogram": _Param("choice", choices=_TRUE_FALSE),
    "deterministic_histogram": _Param("choice", choices=_TRUE_FALSE),
    # Set by hyperparameter tuning jobs: the objective metric (``validation:auc``);
    # the algorithm stops early on it.
    "_tuning_objective_metric": _Param("choice"),
}
_ALIASES = {"learning_rate": "eta", "min_split_loss": "gamma", "reg_lambda": "lambda", "reg_alpha": "alpha"}
_THRESHOLD_METRICS = ("error", "ndcg", "map")  # the ones that take ``name@t``


def validate_xgboost_hyperparameters(hyperparameters: Mapping[str, object]) -> dict[str, object]:
    """Check the XGBoost algorithm's hyperparameters (string values, as in
    ``hyperparameters.json``) and return them typed, under their canonical names.

    Raises ``ValidationError`` with ``field="HyperParameters.<name>"`` for an unknown
    name (with close matches), a value of the wrong type or out of range, or a
    combination SageMaker refuses (``multi:*`` without ``num_class``, ``auc`` with a
    regression objective, ...).

    >>> validate_xgboost_hyperparameters({"num_round": "10", "objective": "multi:softprob",
    ...                                   "num_class": "3", "eval_metric": "mlogloss,merror"})
    {'num_round': 10, 'objective': 'multi:softprob', 'num_class': 3, 'eval_metric': ['mlogloss', 'merror']}
    """
    typed: dict[str, object] = {}
    for raw_name, raw_value in hyperparameters.items():
        name = _ALIASES.get(raw_name, raw_name)
        spec = _XGBOOST_PARAMS.get(name)
        if spec is None:
            raise ValidationError(_unknown_name_message(raw_name), field=f"HyperParameters.{raw_name}")
        if name in typed:
            raise ValidationError(
                f"HyperParameters sets {name!r} twice (as {name!r} and its alias {raw_name!r}); keep one",
                field=f"HyperParameters.{raw_name}",
            )
        typed[name] = _parse(raw_name, spec, _text(raw_value))
    for name, spec in _XGBOOST_PARAMS.items():
        if spec.required and name not in typed:
            field = f"HyperParameters.{name}"
            raise ValidationError(f"{field} is required by the XGBoost algorithm", field=field)
    _check_combinations(typed)
    return typed


def _text(value: object) -> str:
    # SageMaker writes every value as a string; the Python SDK's framework estimators
    # JSON-encode strings once more ('"binary:logistic"'), so undo that too.
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            decoded = json.loads(text)
        except ValueError:
            return text
        return str(decoded)
    return text


def _unknown_name_message(name: str) -> str:
    candidates = list(_XGBOOST_PARAMS) + list(_ALIASES)
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"HyperParameters.{name} is not a hyperparameter of the XGBoost algorithm{hint}"


def _parse(name: str, spec: _Param, text: str) -> object:
    field = f"HyperParameters.{name}"
    if spec.kind == "int":
        return _in_range(name, spec, _integer(name, text), "an integer")
    if spec.kind == "float":
        try:
            number = float(text)
        except ValueError:
            raise ValidationError(f"{field} must be a number; got {text!r}", field=field) from None
        if math.isnan(number) or math.isinf(number):
            raise ValidationError(f"{field} must be a finite number; got {text!r}", field=field)
        return _in_range(name, spec, number, "a number")
    if spec.kind == "choice":
        choices = spec.choices or _tuning_metric_names()
        if text not in choices:
            hint = ""
            if name == "tree_method" and text == "gpu_hist":
                hint = " (groundfog's XGBoost runs on CPU: 'hist' is the same algorithm)"
            listed = ", ".join(choices) if len(choices) <= 20 else "a metric the algorithm publishes, like validation:auc"
            raise ValidationError(f"{field} must be one of {listed}; got {text!r}{hint}", field=field)
        return text
    if spec.kind == "metrics":
        return [_metric(name, item) for item in _items(name, text)]
    if spec.kind == "list":
        items = _items(name, text)
        for item in items:
            if item not in spec.choices:
                raise ValidationError(f"{field} items must be among {', '.join(spec.choices)}; got {item!r}", field=field)
        return items
    if spec.kind == "tuple":  # monotone_constraints: "(1,0,-1)"
        body = text.strip()
        if not (body.startswith("(") and body.endswith(")")):
            raise ValidationError(f"{field} must look like (1,0,-1), one entry per feature; got {text!r}", field=field)
        return tuple(_in_range(name, spec, _integer(name, item), "-1, 0 or 1") for item in _items(name, body[1:-1]))
    # nested: interaction_constraints "[[0,1],[2,3,4]]"
    try:
        groups = json.loads(text)
        ok = isinstance(groups, list) and all(isinstance(g, list) and all(isinstance(i, int) for i in g) for g in groups)
    except ValueError:
        ok = False
    if not ok:
        raise ValidationError(
            f"{field} must be a list of lists of feature indices, like [[0,1],[2,3]]; got {text!r}", field=field
        )
    for group in groups:
        for index in group:
            _in_range(name, spec, index, "a feature index")
    return groups


def _integer(name: str, text: str) -> int:
    field = f"HyperParameters.{name}"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)  # tuning jobs may send "12.0" for an integer range
    except ValueError:
        number = math.nan
    if not number.is_integer():
        raise ValidationError(f"{field} must be an integer; got {text!r}", field=field)
    return int(number)


def _in_range(name: str, spec: _Param, value: float, what: str) -> float:
    below = value < spec.low or (spec.low_open and value == spec.low)
    above = value > spec.high or (spec.high_open and value == spec.high)
    if below or above:
        field = f"HyperParameters.{name}"
        raise ValidationError(f"{field} must be {what} in {_describe(spec)}; got {value!r}", field=field)
    return value


def _describe(spec: _Param) -> str:
    low = "(-inf" if spec.low == -_INF else f"{'(' if spec.low_open else '['}{_num(spec.low)}"
    high = "inf)" if spec.high == _INF else f"{_num(spec.high)}{')' if spec.high_open else ']'}"
    return f"{low}, {high}"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _items(name: str, text: str) -> list[str]:
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not item for item in items):
        field = f"HyperParameters.{name}"
        raise ValidationError(f"{field} must be a comma-separated list with no empty item; got {text!r}", field=field)
    return items


def _metric(name: str, metric: str) -> str:
    field = f"HyperParameters.{name}"
    base, at, threshold = metric.partition("@")
    if at:
        if base not in _THRESHOLD_METRICS:
            raise ValidationError(
                f"{field}: {metric!r} is not supported; only {', '.join(_THRESHOLD_METRICS)} take a threshold (name@t)",
                field=field,
            )
        try:
            float(threshold.rstrip("-"))  # ndcg@5- / map@5- are xgboost's "empty list scores 0" forms
        except ValueError:
            raise ValidationError(f"{field}: the threshold in {metric!r} must be a number", field=field) from None
        return metric
    if metric not in XGBOOST_MAXIMIZE_METRICS + XGBOOST_MINIMIZE_METRICS:
        close = difflib.get_close_matches(metric, XGBOOST_MAXIMIZE_METRICS + XGBOOST_MINIMIZE_METRICS, n=3)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ValidationError(f"{field}: {metric!r} is not a metric of the XGBoost algorithm{hint}", field=field)
    return metric


def _tuning_metric_names() -> tuple[str, ...]:
    return tuple(name for name, _regex, _direction in metric_definitions())


def _check_combinations(typed: dict[str, object]) -> None:
    objective = str(typed.get("objective", "reg:squarederror"))
    if objective.startswith("multi:") and "num_class" not in typed:
        raise ValidationError(
            f"HyperParameters.num_class is required with objective {objective!r}", field="HyperParameters.num_class"
        )
    if "num_class" in typed and not objective.startswith("multi:"):
        raise ValidationError(
            f"HyperParameters.num_class is only for multi-class objectives (multi:softmax, multi:softprob); "
            f"objective is {objective!r}",
            field="HyperParameters.num_class",
        )
    metrics = [str(m).partition("@")[0] for m in typed.get("eval_metric", [])]  # type: ignore[union-attr]
    if "auc" in metrics and not objective.startswith(("binary:", "rank:")):
        raise ValidationError(
            f"HyperParameters.eval_metric: 'auc' applies to binary classification and ranking objectives; "
            f"objective is {objective!r}",
            field="HyperParameters.eval_metric",
        )
    for metric, needed in (("aft-nloglik", "survival:aft"), ("cox-nloglik", "survival:cox")):
        if metric in metrics and objective != needed:
            raise ValidationError(
                f"HyperParameters.eval_metric: {metric!r} applies only to objective {needed!r}; objective is {objective!r}",
                field="HyperParameters.eval_metric",
            )
    tree_method = typed.get("tree_method", "auto")
    constrained = (("monotone_constraints", ("auto", "exact", "hist")),
                   ("interaction_constraints", ("auto", "exact", "hist", "approx")))  # fmt: skip
    for name, allowed in constrained:
        if name in typed and tree_method not in allowed:
            raise ValidationError(
                f"HyperParameters.{name} needs tree_method {', '.join(a for a in allowed if a != 'auto')}; "
                f"tree_method is {tree_method!r}",
                field=f"HyperParameters.{name}",
            )
    tuning_metric = typed.get("_tuning_objective_metric")
    if tuning_metric is not None and str(tuning_metric).partition(":")[2] in ("auc", "aucpr"):
        if not objective.startswith(("binary:", "rank:")):
            raise ValidationError(
                f"HyperParameters._tuning_objective_metric {tuning_metric!r} applies to binary classification "
                f"and ranking objectives; objective is {objective!r}",
                field="HyperParameters._tuning_objective_metric",
            )

