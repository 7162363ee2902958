"""SageMaker's ``HyperParameterTuningJobConfig`` and ``WarmStartConfig``, checked and typed.

The dicts come exactly as CreateHyperParameterTuningJob takes them (PascalCase keys);
:func:`parse_tuning_job_config` gives back a frozen :class:`TuningJobConfig` whose fields are
the snake_case of SageMaker's names (``resource_limits.max_number_of_training_jobs``) and
whose ``model_dump(by_alias=True)`` is the API shape again. Every broken rule is a
:class:`~groundfog.core.errors.ValidationError` whose ``field`` is the path as SageMaker
spells it, e.g. ``HyperParameterTuningJobConfig.ParameterRanges.ContinuousParameterRanges[0].MinValue``.

Two passes: pydantic checks shapes, types and unknown keys (its error locations become the
field path); then :func:`_check_rules` applies the rules that relate fields to each other
(min/max, scaling, strategy-specific rules), where the path of each value is known.

Choices where SageMaker leaves room:
- Grid accepts categorical ranges only, as SageMaker does: a config that runs here also runs
  there. The grid (product of the categorical values) is capped at ``MAX_GRID_SIZE``.
- ``MaxNumberOfTrainingJobs`` is required except for Grid, where it defaults to the grid
  size and, when given, must equal it.
- ``HyperParameterTuningJobObjective`` and ``ParameterRanges`` are optional in the API only
  because a job with several ``TrainingJobDefinitions`` carries them there; groundfog runs a
  single training definition, so both are required here, with at least one range.
"""

from __future__ import annotations

import math
import types
import typing
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic import ValidationError as PydanticError
from pydantic.alias_generators import to_pascal

from groundfog.core.errors import ValidationError

ROOT = "HyperParameterTuningJobConfig"
WARM_START_ROOT = "WarmStartConfig"

Strategy = Literal["Bayesian", "Random", "Grid", "Hyperband"]
ScalingType = Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"]
ObjectiveType = Literal["Maximize", "Minimize"]
EarlyStoppingType = Literal["Off", "Auto"]
WarmStartType = Literal["IdenticalDataAndAlgorithm", "TransferLearning"]

# SageMaker's limits (API reference: ParameterRanges, CategoricalParameterRange,
# HyperbandStrategyConfig, ResourceLimits, WarmStartConfig).
MAX_RANGES = 30  # across integer, continuous and categorical ranges together
MAX_CATEGORICAL_VALUES = 30
MAX_HYPERBAND_RESOURCE = 20_000
MAX_PARENT_JOBS = 5
# Not SageMaker's: the grid is materialised in memory by Optuna's GridSampler, so it is bounded.
MAX_GRID_SIZE = 10_000
# Static hyperparameters Hyperband reads MaxResource from when it is not given (SageMaker's list).
EPOCH_HYPERPARAMETERS = ("epochs", "numepochs", "n-epochs", "n_epochs", "num_epochs")
TUNING_JOB_NAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$"


def _api_number(value: object) -> float:
    """A number as the API gives it: a string (``"0.01"``) or, generously, a JSON number."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"must be a number given as a string, got {value!r}")
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except ValueError:
        raise ValueError(f"must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"must be a finite number, got {value!r}")
    return number


def _api_integer(value: object) -> int:
    """An integer as the API gives it: ``"5"``, ``5``, or a float with no fractional part."""
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    number = _api_number(value)  # "5.0" and "1e3" are integers too
    if not number.is_integer():
        raise ValueError(f"must be an integer, got {value!r}")
    return int(number)


ApiNumber = Annotated[float, BeforeValidator(_api_number)]
ApiInteger = Annotated[int, BeforeValidator(_api_integer)]
PositiveInt = Annotated[int, Field(strict=True, ge=1)]
Name = Annotated[str, Field(min_length=1, max_length=256)]


_M = TypeVar("_M", bound=BaseModel)


class _ApiModel(BaseModel):
    # PascalCase aliases are the API's keys; snake_case names are groundfog's.
    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="forbid", frozen=True)


class HyperbandStrategyConfig(_ApiModel):
    """Resources (epochs) for Hyperband; after parsing both are set (MinResource defaults to 1)."""

    min_resource: PositiveInt | None = None
    max_resource: Annotated[int, Field(strict=True, ge=1, le=MAX_HYPERBAND_RESOURCE)] | None = None


class StrategyConfig(_ApiModel):
    hyperband_strategy_config: HyperbandStrategyConfig | None = None


class HyperParameterTuningJobObjective(_ApiModel):
    type: ObjectiveType
    metric_name: Annotated[str, Field(min_length=1, max_length=255)]


class ResourceLimits(_ApiModel):
    """After parsing ``max_number_of_training_jobs`` is always set (the grid size for Grid)."""

    max_number_of_training_jobs: PositiveInt | None = None
    max_parallel_training_jobs: PositiveInt
    max_runtime_in_seconds: Annotated[int, Field(strict=True, ge=120, le=15_768_000)] | None = None


class IntegerParameterRange(_ApiModel):
    name: Name
    min_value: ApiInteger
    max_value: ApiInteger
    scaling_type: ScalingType = "Auto"


class ContinuousParameterRange(_ApiModel):
    name: Name
    min_value: ApiNumber
    max_value: ApiNumber
    scaling_type: ScalingType = "Auto"


class CategoricalParameterRange(_ApiModel):
    name: Name
    values: Annotated[
        list[Annotated[str, Field(max_length=256)]], Field(min_length=1, max_length=MAX_CATEGORICAL_VALUES)
    ]


class ParameterRanges(_ApiModel):
    integer_parameter_ranges: list[IntegerParameterRange] = Field(default_factory=list)
    continuous_parameter_ranges: list[ContinuousParameterRange] = Field(default_factory=list)
    categorical_parameter_ranges: list[CategoricalParameterRange] = Field(default_factory=list)

    def names(self) -> list[str]:
        """Every tuned hyperparameter's name: integer, then continuous, then categorical ranges."""
        return [
            r.name
            for r in (*self.integer_parameter_ranges, *self.continuous_parameter_ranges,
                      *self.categorical_parameter_ranges)
        ]

    def grid_size(self) -> int:
        """Combinations of the categorical values (what a Grid tuning job runs).

        >>> ParameterRanges(CategoricalParameterRanges=[{"Name": "a", "Values": ["1", "2"]},
        ...                                             {"Name": "b", "Values": ["x", "y", "z"]}]).grid_size()
        6
        """
        return math.prod(len(r.values) for r in self.categorical_parameter_ranges)


class BestObjectiveNotImproving(_ApiModel):
    max_number_of_training_jobs_not_improving: Annotated[int, Field(strict=True, ge=3)]


class ConvergenceDetected(_ApiModel):
    complete_on_convergence: Literal["Disabled", "Enabled"]


class TuningJobCompletionCriteria(_ApiModel):
    target_objective_metric_value: ApiNumber | None = None
    best_objective_not_improving: BestObjectiveNotImproving | None = None
    convergence_detected: ConvergenceDetected | None = None


class TuningJobConfig(_ApiModel):
    """A checked ``HyperParameterTuningJobConfig``; build it with :func:`parse_tuning_job_config`."""

    strategy: Strategy
    strategy_config: StrategyConfig | None = None
    hyper_parameter_tuning_job_objective: HyperParameterTuningJobObjective
    resource_limits: ResourceLimits
    parameter_ranges: ParameterRanges
    training_job_early_stopping_type: EarlyStoppingType = "Off"
    random_seed: Annotated[int, Field(strict=True, ge=0)] | None = None
    tuning_job_completion_criteria: TuningJobCompletionCriteria | None = None

    @property
    def objective(self) -> HyperParameterTuningJobObjective:
        return self.hyper_parameter_tuning_job_objective

    @property
    def hyperband(self) -> HyperbandStrategyConfig | None:
        """The resolved Hyperband resources (both set) when the strategy is Hyperband."""
        return self.strategy_config.hyperband_strategy_config if self.strategy_config else None


class ParentHyperParameterTuningJob(_ApiModel):
    hyper_parameter_tuning_job_name: Annotated[
        str, Field(min_length=1, max_length=32, pattern=TUNING_JOB_NAME_PATTERN)
    ]


class WarmStartConfig(_ApiModel):
    parent_hyper_parameter_tuning_jobs: Annotated[
        list[ParentHyperParameterTuningJob], Field(min_length=1, max_length=MAX_PARENT_JOBS)
    ]
    warm_start_type: WarmStartType

    def parent_names(self) -> list[str]:
        return [p.hyper_parameter_tuning_job_name for p in self.parent_hyper_parameter_tuning_jobs]


def parse_tuning_job_config(
    config: dict[str, Any], *, static_hyperparameters: dict[str, str] | None = None
) -> TuningJobConfig:
    """Check a ``HyperParameterTuningJobConfig`` and return it typed, defaults resolved.

    ``static_hyperparameters`` (the training definition's ``StaticHyperParameters``) is where
    Hyperband finds ``MaxResource`` when the config leaves it out (``epochs`` and its variants).

    >>> cfg = parse_tuning_job_config({
    ...     "Strategy": "Bayesian",
    ...     "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "validation:rmse"},
    ...     "ResourceLimits": {"MaxNumberOfTrainingJobs": 20, "MaxParallelTrainingJobs": 2},
    ...     "ParameterRanges": {"ContinuousParameterRanges": [
    ...         {"Name": "eta", "MinValue": "0.01", "MaxValue": "0.5", "ScalingType": "Logarithmic"}]},
    ... })
    >>> cfg.parameter_ranges.continuous_parameter_ranges[0].max_value
    0.5
    >>> parse_tuning_job_config({**cfg.model_dump(by_alias=True), "Strategy": "Grid"})
    Traceback (most recent call last):
    ...
    groundfog.core.errors.ValidationError: HyperParameterTuningJobConfig.ParameterRanges.ContinuousParameterRanges: \
the Grid strategy searches categorical ranges only; give 'eta' as a CategoricalParameterRange listing its values
    """
    if not isinstance(config, dict):
        raise ValidationError(f"{ROOT} must be an object, got {type(config).__name__}", field=ROOT)
    ranges = config.get("ParameterRanges")
    if isinstance(ranges, dict) and "AutoParameters" in ranges:
        field = f"{ROOT}.ParameterRanges.AutoParameters"
        raise ValidationError(
            f"{field}: Autotune is not supported; give IntegerParameterRanges, ContinuousParameterRanges "
            "or CategoricalParameterRanges",
            field=field,
        )
    parsed = _validate(TuningJobConfig, config, ROOT)
    return _check_rules(parsed, static_hyperparameters or {})


def validate_warm_start_config(config: dict[str, Any]) -> WarmStartConfig:
    """Check a ``WarmStartConfig``: 1 to 5 distinct parent tuning jobs and a warm start type.

    >>> validate_warm_start_config({"ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "hpo-1"}],
    ...                             "WarmStartType": "TransferLearning"}).parent_names()
    ['hpo-1']
    """
    if not isinstance(config, dict):
        raise ValidationError(
            f"{WARM_START_ROOT} must be an object, got {type(config).__name__}", field=WARM_START_ROOT
        )
    parsed = _validate(WarmStartConfig, config, WARM_START_ROOT)
    seen: set[str] = set()
    for i, name in enumerate(parsed.parent_names()):
        if name in seen:
            field = f"{WARM_START_ROOT}.ParentHyperParameterTuningJobs[{i}].HyperParameterTuningJobName"
            raise ValidationError(f"{field}: parent tuning job {name!r} is listed twice", field=field)
        seen.add(name)
    return parsed


# --- shape and types (pydantic) -------------------------------------------------------------


def _validate(model: type[_M], data: dict[str, Any], root: str) -> _M:
    try:
        return model.model_validate(data)
    except PydanticError as exc:
        raise _from_pydantic(exc, model, root) from None


def _path(root: str, loc: tuple[int | str, ...]) -> str:
    path = root
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _from_pydantic(exc: PydanticError, model: type[BaseModel], root: str) -> ValidationError:
    """The first problem pydantic found, as a groundfog error naming the API path."""
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    field = _path(root, loc)
    kind = err["type"]
    if kind == "missing":
        message = f"{field} is required"
    elif kind == "extra_forbidden":
        known = _known_keys(model, loc[:-1])
        message = f"{field} is not a known key; expected one of {', '.join(known)}"
    else:
        detail = err["msg"].removeprefix("Value error, ")
        shown = err.get("input")
        message = f"{field}: {detail}" if "got" in detail else f"{field}: {detail}, got {shown!r}"
    count = exc.error_count()
    if count > 1:
        message += f" (and {count - 1} more problem{'s' if count > 2 else ''})"
    return ValidationError(message, field=field)


def _known_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The API keys allowed at ``loc`` (walks the models along the path)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None or isinstance(part, int):
            continue
        info = next((f for f in current.model_fields.values() if f.alias == part), None)
        current = _inner_model(info.annotation) if info else None
    if current is None:
        return []
    return [str(f.alias) for f in current.model_fields.values()]


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None


# --- SageMaker's rules across fields --------------------------------------------------------


def _check_rules(cfg: TuningJobConfig, static: dict[str, str]) -> TuningJobConfig:
    _check_ranges(cfg.parameter_ranges)
    limits = cfg.resource_limits
    if cfg.strategy == "Grid":
        limits = _check_grid(cfg)
    elif limits.max_number_of_training_jobs is None:
        field = f"{ROOT}.ResourceLimits.MaxNumberOfTrainingJobs"
        raise ValidationError(f"{field} is required for the {cfg.strategy} strategy", field=field)
    strategy_config = cfg.strategy_config
    if cfg.strategy == "Hyperband":
        strategy_config = StrategyConfig(HyperbandStrategyConfig=_check_hyperband(cfg, static))
    elif strategy_config is not None:
        field = f"{ROOT}.StrategyConfig"
        raise ValidationError(
            f"{field} configures Hyperband only; the {cfg.strategy} strategy takes none", field=field
        )
    return cfg.model_copy(update={"resource_limits": limits, "strategy_config": strategy_config})


def _check_ranges(ranges: ParameterRanges) -> None:
    base = f"{ROOT}.ParameterRanges"
    if not ranges.names():
        raise ValidationError(f"{base} must hold at least one range to tune", field=base)
    if len(ranges.names()) > MAX_RANGES:
        raise ValidationError(
            f"{base} holds {len(ranges.names())} ranges; at most {MAX_RANGES} hyperparameters can be tuned",
            field=base,
        )
    for kind, items in (("IntegerParameterRanges", ranges.integer_parameter_ranges),
                        ("ContinuousParameterRanges", ranges.continuous_parameter_ranges)):
        for i, rng in enumerate(items):
            _check_numeric_range(rng, f"{base}.{kind}[{i}]", integer=kind == "IntegerParameterRanges")
    for i, cat in enumerate(ranges.categorical_parameter_ranges):
        repeated = sorted({v for v in cat.values if cat.values.count(v) > 1})
        if repeated:
            field = f"{base}.CategoricalParameterRanges[{i}].Values"
            raise ValidationError(
                f"{field} of {cat.name!r} lists {', '.join(map(repr, repeated))} more than once; values must be distinct",
                field=field,
            )
    seen: dict[str, str] = {}
    for kind, items in (("IntegerParameterRanges", ranges.integer_parameter_ranges),
                        ("ContinuousParameterRanges", ranges.continuous_parameter_ranges),
                        ("CategoricalParameterRanges", ranges.categorical_parameter_ranges)):
        for i, rng in enumerate(items):
            where = f"{base}.{kind}[{i}]"
            if rng.name in seen:
                field = f"{where}.Name"
                raise ValidationError(
                    f"{field}: hyperparameter {rng.name!r} is already tuned by {seen[rng.name]}; "
                    "each hyperparameter can have one range only",
                    field=field,
                )
            seen[rng.name] = where


def _check_numeric_range(rng: IntegerParameterRange | ContinuousParameterRange, where: str, *, integer: bool) -> None:
    lo, hi = rng.min_value, rng.max_value
    if lo > hi:
        field = f"{where}.MinValue"
        raise ValidationError(
            f"{field}: MinValue {lo:g} is greater than MaxValue {hi:g} for hyperparameter {rng.name!r}; "
            "MinValue must not exceed MaxValue",
            field=field,
        )
    field = f"{where}.ScalingType"
    if rng.scaling_type == "Logarithmic" and lo <= 0:
        raise ValidationError(
            f"{field}: Logarithmic scaling needs MinValue > 0, got MinValue {lo:g} for hyperparameter {rng.name!r}",
            field=field,
        )
    if rng.scaling_type == "ReverseLogarithmic":
        if integer:
            raise ValidationError(
                f"{field}: ReverseLogarithmic scaling is for continuous ranges only, not integer {rng.name!r}",
                field=field,
            )
        if not 0 <= lo < hi < 1:
            raise ValidationError(
                f"{field}: ReverseLogarithmic scaling needs 0 <= MinValue < MaxValue < 1, got "
                f"MinValue {lo:g} and MaxValue {hi:g} for hyperparameter {rng.name!r}",
                field=field,
            )


def _check_grid(cfg: TuningJobConfig) -> ResourceLimits:
    ranges = cfg.parameter_ranges
    for kind, items in (("IntegerParameterRanges", ranges.integer_parameter_ranges),
                        ("ContinuousParameterRanges", ranges.continuous_parameter_ranges)):
        if items:
            field = f"{ROOT}.ParameterRanges.{kind}"
            raise ValidationError(
                f"{field}: the Grid strategy searches categorical ranges only; give {items[0].name!r} as a "
                "CategoricalParameterRange listing its values",
                field=field,
            )
    size = ranges.grid_size()
    if size > MAX_GRID_SIZE:
        field = f"{ROOT}.ParameterRanges.CategoricalParameterRanges"
        raise ValidationError(
            f"{field}: the grid has {size} combinations; at most {MAX_GRID_SIZE} are allowed", field=field
        )
    limits = cfg.resource_limits
    given = limits.max_number_of_training_jobs
    if given is not None and given != size:
        field = f"{ROOT}.ResourceLimits.MaxNumberOfTrainingJobs"
        raise ValidationError(
            f"{field} is {given} but the grid has {size} combinations; with the Grid strategy leave it out "
            f"or set it to {size}",
            field=field,
        )
    return limits.model_copy(update={"max_number_of_training_jobs": size})


def _check_hyperband(cfg: TuningJobConfig, static: dict[str, str]) -> HyperbandStrategyConfig:
    if cfg.training_job_early_stopping_type != "Off":
        field = f"{ROOT}.TrainingJobEarlyStoppingType"
        raise ValidationError(
            f"{field} must be Off with the Hyperband strategy (Hyperband stops jobs early itself), "
            f"got {cfg.training_job_early_stopping_type!r}",
            field=field,
        )
    given = cfg.hyperband or HyperbandStrategyConfig()
    base = f"{ROOT}.StrategyConfig.HyperbandStrategyConfig"
    max_resource = given.max_resource if given.max_resource is not None else _epochs_from(static)
    if max_resource is None:
        field = f"{base}.MaxResource"
        raise ValidationError(
            f"{field} is required with the Hyperband strategy unless a static hyperparameter "
            f"({', '.join(EPOCH_HYPERPARAMETERS)}) gives it as an integer from 1 to {MAX_HYPERBAND_RESOURCE}",
            field=field,
        )
    min_resource = given.min_resource if given.min_resource is not None else 1
    if min_resource > max_resource:
        field = f"{base}.MinResource"
        raise ValidationError(
            f"{field} {min_resource} is greater than MaxResource {max_resource}; MinResource must not exceed it",
            field=field,
        )
    return HyperbandStrategyConfig(MinResource=min_resource, MaxResource=max_resource)


def _epochs_from(static: dict[str, str]) -> int | None:
    for key in EPOCH_HYPERPARAMETERS:
        if key in static:
            try:
                value = _api_integer(static[key])
            except ValueError:
                return None
            return value if 1 <= value <= MAX_HYPERBAND_RESOURCE else None
    return None
