"""SageMaker's built-in algorithms, as data: which program runs, which channels and
content types it takes, which metrics its log publishes, and how its hyperparameters
are checked before a job starts.

The training service looks an algorithm up here when a job names one
(``AlgorithmSpecification.TrainingImage`` / ``AlgorithmName``), validates the
request with it, and runs ``python -m <module>`` inside the job's ``/opt/ml``-style
directory. Importing this package is cheap on purpose (no xgboost, no pandas): the
API and the CLI validate requests with it.

>>> from groundfog.training.algorithms import BUILTIN_ALGORITHMS
>>> xgb = BUILTIN_ALGORITHMS["xgboost"]
>>> xgb.module
'groundfog.training.algorithms.xgboost_algorithm'
>>> xgb.validate_hyperparameters({"num_round": "50", "eta": "0.3"})
{'num_round': 50, 'eta': 0.3}
>>> xgb.metric("validation:auc").direction
'Maximize'
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from groundfog.core.errors import ValidationError

__all__ = [
    "BUILTIN_ALGORITHMS",
    "XGBOOST_MAXIMIZE_METRICS",
    "XGBOOST_MINIMIZE_METRICS",
    "AlgorithmChannel",
    "AlgorithmMetric",
    "BuiltinAlgorithm",
    "validate_content_type",
    "validate_xgboost_hyperparameters",
]


@dataclass(frozen=True)
class AlgorithmMetric:
    """One metric an algorithm writes to its log, found there by ``regex``
    (group 1 is the value); ``direction`` is what hyperparameter tuning optimises."""

    name: str
    regex: str
    direction: Literal["Maximize", "Minimize"]

    def to_dict(self) -> dict[str, str]:
        """SageMaker's ``MetricDefinition`` shape: ``{"Name": ..., "Regex": ...}``."""
        return {"Name": self.name, "Regex": self.regex}


@dataclass(frozen=True)
class AlgorithmChannel:
    """An input channel the algorithm reads (``train``, ``validation``)."""

    name: str
    required: bool
    content_types: tuple[str, ...]
    input_modes: tuple[str, ...] = ("File", "FastFile")


@dataclass(frozen=True)
class BuiltinAlgorithm:
    """A built-in algorithm: the program to run and the rules a job must satisfy."""

    name: str
    module: str  # run as ``python -m <module>`` in the job's SageMaker-style environment
    channels: tuple[AlgorithmChannel, ...]
    content_types: tuple[str, ...]  # canonical forms; aliases are normalised by validate_content_type
    default_content_type: str  # used when a channel gives no ContentType, as SageMaker does
    metric_definitions: tuple[AlgorithmMetric, ...]
    validate_hyperparameters: Callable[[Mapping[str, object]], dict[str, object]]
    validate_content_type: Callable[[str, str | None], str]
    model_file: str  # the file the program writes under SM_MODEL_DIR

    def metric(self, name: str) -> AlgorithmMetric:
        """The published metric called ``name`` (``validation:auc``); KeyError if none."""
        for metric in self.metric_definitions:
            if metric.name == name:
                return metric
        raise KeyError(name)

    def channel(self, name: str) -> AlgorithmChannel | None:
        return next((c for c in self.channels if c.name == name), None)

    def validate_input_data_config(self, channels: Mapping[str, Mapping[str, object]]) -> dict[str, str]:
        """Check a job's channels (``{"train": {"ContentType": ..., "TrainingInputMode": ...}}``)
        and return each channel's canonical content type.

        >>> BUILTIN_ALGORITHMS["xgboost"].validate_input_data_config({"train": {"ContentType": "libsvm"}})
        {'train': 'text/libsvm'}
        """
        known = [c.name for c in self.channels]
        for name in channels:
            if name not in known:
                raise ValidationError(
                    f"InputDataConfig has a channel {name!r} that the {self.name} algorithm does not read; "
                    f"its channels are {', '.join(known)}",
                    field=f"InputDataConfig.{name}",
                )
        result: dict[str, str] = {}
        for spec in self.channels:
            config = channels.get(spec.name)
            if config is None:
                if spec.required:
                    raise ValidationError(
                        f"the {self.name} algorithm needs a {spec.name!r} channel in InputDataConfig",
                        field=f"InputDataConfig.{spec.name}",
                    )
                continue
            mode = config.get("TrainingInputMode") or config.get("InputMode") or "File"
            if mode not in spec.input_modes:
                raise ValidationError(
                    f"InputDataConfig.{spec.name}.TrainingInputMode {mode!r} is not supported by the "
                    f"{self.name} algorithm; use one of {', '.join(spec.input_modes)}",
                    field=f"InputDataConfig.{spec.name}.TrainingInputMode",
                )
            content_type = config.get("ContentType")
            result[spec.name] = self.validate_content_type(spec.name, None if content_type is None else str(content_type))
        return result


# ---------------------------------------------------------------------------------
# XGBoost: content types and metrics
# ---------------------------------------------------------------------------------

_CSV, _LIBSVM, _PARQUET = "text/csv", "text/libsvm", "application/x-parquet"
_CONTENT_TYPE_ALIASES = {
    "text/csv": _CSV,
    "text/libsvm": _LIBSVM,
    "libsvm": _LIBSVM,
    "text/x-libsvm": _LIBSVM,
    "application/x-parquet": _PARQUET,
}


def validate_content_type(channel: str, content_type: str | None) -> str:
    """The canonical form of a channel's ContentType for the XGBoost algorithm.

    No ContentType means libsvm, as in SageMaker. Media-type parameters are allowed
    where they change nothing (``text/csv; label_size=1``, ``charset=utf-8``).

    >>> validate_content_type("train", "text/x-libsvm")
    'text/libsvm'
    >>> validate_content_type("train", "text/csv; label_size=1")
    'text/csv'
    """
    field = f"InputDataConfig.{channel}.ContentType"
    if content_type is None or not content_type.strip():
        return _LIBSVM
    media, *params = (part.strip() for part in content_type.split(";"))
    canonical = _CONTENT_TYPE_ALIASES.get(media.lower())
    if canonical is None:
        raise ValidationError(
            f"{field} {content_type!r} is not supported by the XGBoost algorithm; use one of "
            f"{', '.join(sorted(_CONTENT_TYPE_ALIASES))}",
            field=field,
        )
    for param in filter(None, params):
        key, _, value = param.partition("=")
        key, value = key.strip().lower(), value.strip().strip('"')
        if key == "label_size" and canonical == _CSV and value == "1":
            continue
        if key == "charset" and value.lower() in ("utf-8", "utf8", "us-ascii"):
            continue
        raise ValidationError(
            f"{field} {content_type!r}: parameter {param!r} is not supported "
            "(the label is the single first column; text is UTF-8)",
            field=field,
        )
    return canonical


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


def _xgboost_metrics() -> tuple[AlgorithmMetric, ...]:
    metrics = []
    for data in ("validation", "train"):
        for names, direction in ((XGBOOST_MAXIMIZE_METRICS, "Maximize"), (XGBOOST_MINIMIZE_METRICS, "Minimize")):
            for metric in names:
                regex = rf".*\[[0-9]+\].*(?:\t|#011){data}-{re.escape(metric)}:{_VALUE}"
                metrics.append(AlgorithmMetric(f"{data}:{metric}", regex, direction))  # type: ignore[arg-type]
    return tuple(metrics)


# ---------------------------------------------------------------------------------
# XGBoost: hyperparameters, declared as data and checked by one validator
# ---------------------------------------------------------------------------------

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
    return tuple(m.name for m in _xgboost_metrics())


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


XGBOOST = BuiltinAlgorithm(
    name="xgboost",
    module="groundfog.training.algorithms.xgboost_algorithm",
    channels=(
        AlgorithmChannel("train", required=True, content_types=(_CSV, _LIBSVM, _PARQUET)),
        AlgorithmChannel("validation", required=False, content_types=(_CSV, _LIBSVM, _PARQUET)),
    ),
    content_types=(_CSV, _LIBSVM, _PARQUET),
    default_content_type=_LIBSVM,
    metric_definitions=_xgboost_metrics(),
    validate_hyperparameters=validate_xgboost_hyperparameters,
    validate_content_type=validate_content_type,
    model_file="xgboost-model",
)

BUILTIN_ALGORITHMS: dict[str, BuiltinAlgorithm] = {"xgboost": XGBOOST}
