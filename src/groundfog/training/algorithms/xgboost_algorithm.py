"""SageMaker's built-in XGBoost algorithm ("algorithm mode"), as the program a
training job runs:

    python -m groundfog.training.algorithms.xgboost_algorithm

It reads what SageMaker's XGBoost container reads, from a ``/opt/ml``-style tree
named by the SageMaker environment variables: ``hyperparameters.json``,
``inputdataconfig.json``, ``resourceconfig.json`` and ``checkpointconfig.json`` in
``SM_INPUT_CONFIG_DIR``; the ``train`` (and optional ``validation``) channel
directories as CSV (no header, label first), libsvm or Parquet. It prints one line
per boosting round, ``[3]<TAB>train-auc:0.99612<TAB>validation-auc:0.98710``, which
the algorithm's metric definitions parse; writes the booster to
``$SM_MODEL_DIR/xgboost-model``; saves ``xgboost-checkpoint.<round>`` every round
when checkpointing is configured and resumes from the latest one. On failure it
writes the reason to ``$SM_OUTPUT_DIR/failure``, prints it as its last stderr line
(``DataError: ... train.csv line 7, column 3: 'abc' is not a number``) and exits 1.

This module is the program: the environment, training and its metrics, the entry
point. Reading the channels is ``xgboost_data``; checkpoints are ``xgboost_checkpoints``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from groundfog.core.errors import ValidationError
from groundfog.training.algorithms import (
    BUILTIN_ALGORITHMS,
    XGBOOST_MAXIMIZE_METRICS,
    validate_xgboost_hyperparameters,
)
from groundfog.training.algorithms.xgboost_checkpoints import (
    CHECKPOINT_PREFIX,
    _resume,
    _SaveCheckpoints,
    _write_atomically,
)
from groundfog.training.algorithms.xgboost_data import (
    DataError,
    Dataset,
    _dmatrix,
    _first_line,
    check_labels,
    load_channel,
)

__all__ = [
    "CHECKPOINT_PREFIX", "MODEL_FILE", "DataError", "Dataset", "Environment", "check_labels", "load_channel", "main",
    "train",
]  # fmt: skip

MODEL_FILE = "xgboost-model"

# Hyperparameters the algorithm itself consumes; the rest go to xgboost as params.
_ALGORITHM_ONLY = {"num_round", "csv_weights", "early_stopping_rounds", "eval_metric", "save_model_on_termination",
                   "_tuning_objective_metric"}  # fmt: skip
# Documented by SageMaker for older xgboost versions; xgboost 3 no longer has them.
_OBSOLETE = {"sketch_eps", "single_precision_histogram", "deterministic_histogram", "lambda_bias"}


# ---------------------------------------------------------------------------------
# The SageMaker environment
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Environment:
    """What the job's ``/opt/ml``-style directory and ``SM_*`` variables say."""

    model_dir: Path
    output_dir: Path
    hyperparameters: dict[str, object]  # as written: string values
    input_data_config: dict[str, dict[str, Any]]
    channel_dirs: dict[str, Path]
    hosts: list[str]
    current_host: str
    num_cpus: int
    checkpoint_dir: Path | None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Environment:
        """Read the config files as SageMaker's container does, falling back to the
        ``SM_*`` variables when a file is absent."""
        input_dir = Path(environ.get("SM_INPUT_DIR", "/opt/ml/input"))
        config_dir = Path(environ.get("SM_INPUT_CONFIG_DIR", input_dir / "config"))
        hyperparameters = _read_json(config_dir / "hyperparameters.json")
        if hyperparameters is None:
            hyperparameters = json.loads(environ.get("SM_HPS") or "{}")
        data_config = _read_json(config_dir / "inputdataconfig.json")
        if data_config is None:
            data_config = {name: {} for name in json.loads(environ.get("SM_CHANNELS") or "[]")}
        resources = _read_json(config_dir / "resourceconfig.json") or {}
        current_host = str(resources.get("current_host") or environ.get("SM_CURRENT_HOST") or "algo-1")
        hosts = [str(h) for h in (resources.get("hosts") or json.loads(environ.get("SM_HOSTS") or "[]") or [current_host])]
        checkpoint = _read_json(config_dir / "checkpointconfig.json") or {}
        channel_dirs = {
            name: Path(environ.get(f"SM_CHANNEL_{name.upper()}") or input_dir / "data" / name) for name in data_config
        }
        return cls(
            model_dir=Path(environ.get("SM_MODEL_DIR", "/opt/ml/model")),
            output_dir=Path(environ.get("SM_OUTPUT_DIR", "/opt/ml/output")),
            hyperparameters=dict(hyperparameters),
            input_data_config={name: dict(value or {}) for name, value in data_config.items()},
            channel_dirs=channel_dirs,
            hosts=hosts,
            current_host=current_host,
            num_cpus=int(environ.get("SM_NUM_CPUS") or os.cpu_count() or 1),
            checkpoint_dir=Path(checkpoint["LocalPath"]) if checkpoint.get("LocalPath") else None,
        )


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise DataError(f"{path} is not valid JSON: {exc}") from None


# ---------------------------------------------------------------------------------
# Metrics the container computes itself (xgboost computes the rest)
# ---------------------------------------------------------------------------------

_BINARY_OBJECTIVES = ("binary:", "reg:logistic")


def _container_metric(names: list[str], objective: str) -> Callable[[np.ndarray, xgb.DMatrix], list[tuple[str, float]]]:
    """One ``custom_metric`` for xgboost.train computing ``names`` (accuracy, f1, mse, ...)."""
    binary = objective.startswith(_BINARY_OBJECTIVES)

    def classes(predt: np.ndarray) -> np.ndarray:
        if predt.ndim == 2:
            return predt.argmax(axis=1)
        if objective == "multi:softmax":
            return predt
        return (predt > (0.0 if objective == "binary:logitraw" else 0.5)).astype(np.float32)

    def evaluate(predt: np.ndarray, dmatrix: xgb.DMatrix) -> list[tuple[str, float]]:
        labels = dmatrix.get_label()
        return [(name, float(_METRICS[name](labels, predt, classes, binary))) for name in names]

    return evaluate


def _per_class(labels: np.ndarray, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per class present in labels or predictions: true positives, predicted, actual, present-in-labels."""
    kinds = np.union1d(labels, predicted)
    tp = np.array([np.sum((predicted == k) & (labels == k)) for k in kinds], dtype=float)
    pred = np.array([np.sum(predicted == k) for k in kinds], dtype=float)
    true = np.array([np.sum(labels == k) for k in kinds], dtype=float)
    return tp, pred, true, true > 0


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros_like(a), where=b > 0)


def _prf(kind: str, average: str) -> Callable[..., float]:
    def metric(labels: np.ndarray, predt: np.ndarray, classes: Callable, binary: bool) -> float:
        predicted = classes(predt)
        mode = average if average != "auto" else ("binary" if binary else "macro")
        if mode == "binary":
            tp = float(np.sum((predicted == 1) & (labels == 1)))
            precision, recall = tp / max(np.sum(predicted == 1), 1), tp / max(np.sum(labels == 1), 1)
        elif mode == "micro":  # single-label: micro precision = micro recall = accuracy
            precision = recall = float(np.mean(predicted == labels))
        else:
            tp, pred, true, _ = _per_class(labels, predicted)
            p, r = _ratio(tp, pred), _ratio(tp, true)
            if kind == "f1":
                return float(np.mean(_ratio(2 * p * r, p + r)))
            return float(np.mean(p if kind == "precision" else r))
        if kind == "precision":
            return precision
        if kind == "recall":
            return recall
        return 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    return metric


def _balanced_accuracy(labels: np.ndarray, predt: np.ndarray, classes: Callable, binary: bool) -> float:
    tp, _, true, present = _per_class(labels, classes(predt))
    return float(np.mean(tp[present] / true[present]))


def _regression_values(predt: np.ndarray) -> np.ndarray:
    return predt if predt.ndim == 1 else predt[:, 0]


_METRICS: dict[str, Callable[..., float]] = {
    "accuracy": lambda y, p, classes, binary: float(np.mean(classes(p) == y)),
    "balanced_accuracy": _balanced_accuracy,
    "f1": _prf("f1", "auto"),
    "f1_binary": _prf("f1", "binary"),
    "f1_macro": _prf("f1", "macro"),
    "precision": _prf("precision", "auto"),
    "precision_macro": _prf("precision", "macro"),
    "precision_micro": _prf("precision", "micro"),
    "recall": _prf("recall", "auto"),
    "recall_macro": _prf("recall", "macro"),
    "recall_micro": _prf("recall", "micro"),
    "mse": lambda y, p, classes, binary: float(np.mean((_regression_values(p) - y) ** 2)),
    "r2": lambda y, p, classes, binary: float(
        1 - np.sum((_regression_values(p) - y) ** 2) / max(float(np.sum((y - y.mean()) ** 2)), 1e-12)
    ),
}


# ---------------------------------------------------------------------------------
# Callbacks: round lines, stop on SIGTERM (checkpoints: xgboost_checkpoints)
# ---------------------------------------------------------------------------------


class _PrintRounds(xgb.callback.TrainingCallback):
    """``[<round>]\\ttrain-<metric>:<value>\\tvalidation-<metric>:<value>``, flushed,
    with rounds counted from the start of the job (not of this resumed run)."""

    def __init__(self, first_round: int) -> None:
        self.first_round = first_round

    def after_iteration(self, model: Any, epoch: int, evals_log: dict) -> bool:
        parts = [f"[{self.first_round + epoch}]"]
        for data, metrics in evals_log.items():
            for metric, history in metrics.items():
                score = history[-1][0] if isinstance(history[-1], tuple) else history[-1]
                parts.append(f"{data}-{metric}:{score:.5f}")
        print("\t".join(parts), flush=True)
        return False


class _StopOnSignal(xgb.callback.TrainingCallback):
    """Ends training after the current round once SIGTERM arrived (StopTrainingJob, a
    spot interruption): the checkpoints stay consistent and the model can be saved."""

    def __init__(self) -> None:
        self.received: int | None = None

    def handle(self, signum: int, frame: Any) -> None:
        self.received = signum

    def after_iteration(self, model: Any, epoch: int, evals_log: dict) -> bool:
        return self.received is not None


# ---------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------


def train(env: Environment) -> int:
    """Run the algorithm in ``env``; returns the exit status (0, or 143 when stopped by SIGTERM)."""
    hps = validate_xgboost_hyperparameters(env.hyperparameters)
    content_types = BUILTIN_ALGORITHMS["xgboost"].validate_input_data_config(env.input_data_config)
    if len(env.hosts) > 1:
        raise ValidationError(
            f"groundfog's XGBoost algorithm trains on one instance; this job has {len(env.hosts)} "
            f"({', '.join(env.hosts)}). Use InstanceCount=1.",
            field="ResourceConfig.InstanceCount",
        )
    nthread = int(hps.get("nthread", env.num_cpus))  # type: ignore[call-overload]
    evals = _evaluation_sets(env, hps, content_types, nthread)
    params, custom_metric = _xgboost_params(hps, nthread)
    num_round = int(hps["num_round"])  # type: ignore[call-overload]
    start_model, first_round = _resume(env.checkpoint_dir, num_round)

    stop = _StopOnSignal()
    signal.signal(signal.SIGTERM, stop.handle)
    callbacks: list[xgb.callback.TrainingCallback] = [_PrintRounds(first_round)]
    if env.checkpoint_dir is not None:
        callbacks.append(_SaveCheckpoints(env.checkpoint_dir, first_round))
    callbacks.append(stop)
    early_stopping = _early_stopping(hps, has_validation=len(evals) > 1)
    if early_stopping is not None:
        callbacks.append(early_stopping)

    booster = xgb.train(
        params,
        evals[0][0],
        num_boost_round=max(num_round - first_round, 0),
        evals=evals,
        custom_metric=custom_metric,
        xgb_model=start_model,
        callbacks=callbacks,
        verbose_eval=False,
    )
    if early_stopping is not None and booster.num_boosted_rounds() < num_round and stop.received is None:
        print(f"Stopped early at round {booster.num_boosted_rounds() - 1}: the best round was "
              f"{booster.best_iteration} (validation score {booster.best_score})", flush=True)  # fmt: skip
    if stop.received is not None:
        if hps.get("save_model_on_termination") == "true":
            _save_model(booster, env.model_dir)
        print(f"Training stopped by signal {stop.received} after round {booster.num_boosted_rounds() - 1}", flush=True)
        return 128 + stop.received
    _save_model(booster, env.model_dir)
    return 0


def _evaluation_sets(
    env: Environment, hps: dict[str, object], content_types: dict[str, str], nthread: int
) -> list[tuple[xgb.DMatrix, str]]:
    """``[(dtrain, "train"), (dvalid, "validation")]`` (validation when the job has it)."""
    csv_weights = hps.get("csv_weights") == 1
    objective = str(hps.get("objective", "reg:squarederror"))
    num_class = hps.get("num_class")
    loaded: dict[str, Dataset] = {}
    for channel in ("train", "validation"):
        if channel in content_types:
            data = load_channel(channel, env.channel_dirs[channel], content_types[channel], csv_weights=csv_weights)
            check_labels(channel, data.labels, objective, num_class)  # type: ignore[arg-type]
            loaded[channel] = data
    train_data, valid_data = loaded["train"], loaded.get("validation")
    if valid_data is not None and valid_data.num_columns != train_data.num_columns:
        # libsvm files need not mention the last feature, so sparse widths may differ.
        if not (hasattr(train_data.features, "indptr") and hasattr(valid_data.features, "indptr")):
            raise DataError(f"the validation channel has {valid_data.num_columns} feature columns; "
                            f"the train channel has {train_data.num_columns}")  # fmt: skip
    width = max(data.num_columns for data in loaded.values())
    evals = []
    for channel, data in loaded.items():
        dmatrix = _dmatrix(data, width, nthread)
        print(f"{channel.capitalize()} matrix has {dmatrix.num_row()} rows and {dmatrix.num_col()} columns", flush=True)
        evals.append((dmatrix, channel))
    return evals


def _xgboost_params(hps: dict[str, object], nthread: int) -> tuple[dict[str, Any], Callable | None]:
    params: dict[str, Any] = {"nthread": nthread}
    for name, value in hps.items():
        if name in _ALGORITHM_ONLY:
            continue
        if name in _OBSOLETE:
            print(f"Note: hyperparameter {name} has no effect in XGBoost {xgb.__version__}; ignoring it", flush=True)
            continue
        if name == "objective" and value == "reg:linear":
            value = "reg:squarederror"  # the same loss, under its current name
        elif name == "monotone_constraints":
            value = "(" + ",".join(str(v) for v in value) + ")"  # type: ignore[union-attr]
        elif name == "interaction_constraints":
            value = json.dumps(value)
        elif name == "updater":
            value = ",".join(value)  # type: ignore[arg-type]
        params[name] = value
    metrics = _eval_metrics(hps)
    builtin = [m for m in metrics if m not in _METRICS]
    computed = [m for m in metrics if m in _METRICS]
    if builtin:
        params["eval_metric"] = builtin
    elif computed:
        params["disable_default_eval_metric"] = 1  # only the metrics asked for
    objective = str(params.get("objective", "reg:squarederror"))
    return params, (_container_metric(computed, objective) if computed else None)


def _eval_metrics(hps: dict[str, object]) -> list[str]:
    """eval_metric, plus the tuning job's objective metric when it is not among them
    (as SageMaker's container does, so the tuner always finds its metric in the log)."""
    metrics = list(hps.get("eval_metric", []))  # type: ignore[call-overload]
    tuning = str(hps.get("_tuning_objective_metric") or "").partition(":")[2]
    if tuning and tuning not in metrics:
        metrics.append(tuning)
    return metrics


def _early_stopping(hps: dict[str, object], *, has_validation: bool) -> xgb.callback.EarlyStopping | None:
    rounds = hps.get("early_stopping_rounds")
    if rounds is None:
        return None
    if not has_validation:
        print("Note: early_stopping_rounds needs a validation channel; training all num_round rounds", flush=True)
        return None
    # Stop on the tuning job's objective metric when there is one, else on the last
    # eval_metric (xgboost's rule; container-computed metrics are evaluated last).
    metrics = _eval_metrics(hps)
    ordered = [m for m in metrics if m not in _METRICS] + [m for m in metrics if m in _METRICS]
    tuning = str(hps.get("_tuning_objective_metric") or "")
    metric = tuning.partition(":")[2] if tuning.startswith("validation:") else (ordered[-1] if ordered else None)
    maximize = None if metric is None else metric.partition("@")[0] in XGBOOST_MAXIMIZE_METRICS
    return xgb.callback.EarlyStopping(
        rounds=int(rounds), metric_name=metric, data_name="validation", maximize=maximize  # type: ignore[call-overload]
    )


def _save_model(booster: xgb.Booster, model_dir: Path) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    _write_atomically(model_dir / MODEL_FILE, bytes(booster.save_raw("ubj")))
    print(f"Saved the model to {model_dir / MODEL_FILE} ({booster.num_boosted_rounds()} rounds)", flush=True)


# ---------------------------------------------------------------------------------
# Entry point: one line of reason on failure
# ---------------------------------------------------------------------------------

# Errors a user causes (hyperparameters, data, labels xgboost refuses): a one-line
# reason is the whole story. Anything else is a bug here and keeps its traceback.
_USER_ERRORS = (ValidationError, DataError, xgb.core.XGBoostError)


def main() -> int:
    """Run the algorithm in the environment of this process; the exit status."""
    output_dir = Path(os.environ.get("SM_OUTPUT_DIR", "/opt/ml/output"))
    try:
        return train(Environment.from_environ(os.environ))
    except _USER_ERRORS as exc:
        return _fail(exc, output_dir, show_traceback=False)
    except Exception as exc:  # noqa: BLE001 - the job must end with a reason, whatever went wrong
        return _fail(exc, output_dir, show_traceback=True)


def _fail(exc: BaseException, output_dir: Path, *, show_traceback: bool) -> int:
    message = _xgboost_reason(str(exc)) if isinstance(exc, xgb.core.XGBoostError) else _first_line(exc)
    reason = f"{type(exc).__name__}: {message}"
    printed = "".join(traceback.format_exception(exc)) if show_traceback else ""
    # The reason is the last line either way; a traceback already ends with it unless
    # the message spans several lines.
    if not printed.endswith(reason + "\n"):
        printed += reason + "\n"
    print(printed, end="", file=sys.stderr, flush=True)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / "failure").write_text(reason + "\n")
    except OSError as write_error:  # the reason is on stderr already; say why the file is missing
        print(f"(could not write {output_dir / 'failure'}: {write_error})", file=sys.stderr, flush=True)
    return 1


def _xgboost_reason(text: str) -> str:
    """xgboost's error without its timestamp, source location and C++ stack trace:
    ``[07:33:59] /workspace/src/objective/regression_obj.cu:114: Check failed:
    is_valid: base_score must be in (0,1)...`` → ``base_score must be in (0,1)...``."""
    line = text.strip().splitlines()[0] if text.strip() else "XGBoost failed"
    line = re.sub(r"^\[[0-9:]+\]\s+\S+:\d+:\s*", "", line)
    checked = re.match(r"^Check failed:\s*[^:]+:\s*(.+)$", line)
    return checked.group(1) if checked else line


if __name__ == "__main__":
    sys.exit(main())
