"""SageMaker's built-in algorithms, as data: which program runs, which channels and
content types it takes, which metrics its log publishes, and how its hyperparameters
are checked before a job starts.

The training service looks an algorithm up here when a job names one
(``AlgorithmSpecification.TrainingImage`` / ``AlgorithmName``), validates the
request with it, and runs ``python -m <module>`` inside the job's ``/opt/ml``-style
directory. Importing this package is cheap on purpose (no xgboost, no pandas): the
API and the CLI validate requests with it.

Modules: this registry (the dataclasses, content types and the algorithms themselves),
``xgboost_metrics`` (what the XGBoost log publishes), ``xgboost_hyperparameters`` (its
hyperparameter table and validator) and the program, ``xgboost_algorithm`` (with
``xgboost_data`` and ``xgboost_checkpoints``).

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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from groundfog.core.errors import ValidationError
from groundfog.training.algorithms.xgboost_hyperparameters import validate_xgboost_hyperparameters
from groundfog.training.algorithms.xgboost_metrics import (
    XGBOOST_MAXIMIZE_METRICS,
    XGBOOST_MINIMIZE_METRICS,
    metric_definitions,
)

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
# XGBoost: content types (its metrics and hyperparameters have their own modules)
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


XGBOOST = BuiltinAlgorithm(
    name="xgboost",
    module="groundfog.training.algorithms.xgboost_algorithm",
    channels=(
        AlgorithmChannel("train", required=True, content_types=(_CSV, _LIBSVM, _PARQUET)),
        AlgorithmChannel("validation", required=False, content_types=(_CSV, _LIBSVM, _PARQUET)),
    ),
    content_types=(_CSV, _LIBSVM, _PARQUET),
    default_content_type=_LIBSVM,
    metric_definitions=tuple(AlgorithmMetric(name, regex, direction)  # type: ignore[arg-type]
                             for name, regex, direction in metric_definitions()),
    validate_hyperparameters=validate_xgboost_hyperparameters,
    validate_content_type=validate_content_type,
    model_file="xgboost-model",
)

BUILTIN_ALGORITHMS: dict[str, BuiltinAlgorithm] = {"xgboost": XGBOOST}
