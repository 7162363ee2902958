"""HyperParameterTuningJobConfig and WarmStartConfig are checked by SageMaker's rules, and
every refusal names the field as the API spells it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from groundfog.core.errors import ValidationError
from groundfog.training.tuning_config import (
    MAX_GRID_SIZE,
    TuningJobConfig,
    parse_tuning_job_config,
    validate_warm_start_config,
)

RANGES = "HyperParameterTuningJobConfig.ParameterRanges"


def config(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "Strategy": "Bayesian",
        "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:accuracy"},
        "ResourceLimits": {"MaxNumberOfTrainingJobs": 20, "MaxParallelTrainingJobs": 2},
        "ParameterRanges": {
            "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "10"}],
            "ContinuousParameterRanges": [
                {"Name": "eta", "MinValue": "0.001", "MaxValue": "0.5", "ScalingType": "Logarithmic"}
            ],
            "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}],
        },
    }
    base.update(copy.deepcopy(overrides))
    return base


def refused(cfg: dict[str, Any], **kwargs: Any) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        parse_tuning_job_config(cfg, **kwargs)
    return info.value


def grid(*value_lists: list[str], **overrides: Any) -> dict[str, Any]:
    cats = [{"Name": f"p{i}", "Values": values} for i, values in enumerate(value_lists)]
    cfg = config(Strategy="Grid", ParameterRanges={"CategoricalParameterRanges": cats}, **overrides)
    return cfg


# --- a valid config --------------------------------------------------------------------------


def test_valid_config_becomes_typed_fields_with_numbers_parsed_and_defaults_filled() -> None:
    cfg = parse_tuning_job_config(config())

    assert isinstance(cfg, TuningJobConfig)
    assert cfg.strategy == "Bayesian"
    assert cfg.objective.type == "Maximize" and cfg.objective.metric_name == "validation:accuracy"
    assert cfg.resource_limits.max_number_of_training_jobs == 20
    assert cfg.resource_limits.max_parallel_training_jobs == 2
    depth = cfg.parameter_ranges.integer_parameter_ranges[0]
    assert (depth.min_value, depth.max_value, depth.scaling_type) == (2, 10, "Auto")
    eta = cfg.parameter_ranges.continuous_parameter_ranges[0]
    assert (eta.min_value, eta.max_value, eta.scaling_type) == (0.001, 0.5, "Logarithmic")
    assert cfg.parameter_ranges.categorical_parameter_ranges[0].values == ["gbtree", "dart"]
    assert cfg.training_job_early_stopping_type == "Off"
    assert cfg.random_seed is None and cfg.strategy_config is None
    assert cfg.parameter_ranges.names() == ["max_depth", "eta", "booster"]


def test_config_dumps_back_to_the_api_shape_and_parses_again_unchanged() -> None:
    cfg = parse_tuning_job_config(config(RandomSeed=7, TrainingJobEarlyStoppingType="Auto"))

    api = cfg.model_dump(by_alias=True, exclude_none=True)

    assert api["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 20, "MaxParallelTrainingJobs": 2}
    assert parse_tuning_job_config(api) == cfg


def test_bounds_may_be_json_numbers_as_well_as_strings() -> None:
    cfg = parse_tuning_job_config(
        config(ParameterRanges={
            "IntegerParameterRanges": [{"Name": "n", "MinValue": 1, "MaxValue": 5.0}],
            "ContinuousParameterRanges": [{"Name": "x", "MinValue": -1, "MaxValue": 2.5}],
        })
    )

    assert cfg.parameter_ranges.integer_parameter_ranges[0].max_value == 5
    assert cfg.parameter_ranges.continuous_parameter_ranges[0].min_value == -1.0


def test_random_seed_and_completion_criteria_are_kept() -> None:
    cfg = parse_tuning_job_config(
        config(RandomSeed=42, TuningJobCompletionCriteria={
            "TargetObjectiveMetricValue": 0.95,
            "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 5},
            "ConvergenceDetected": {"CompleteOnConvergence": "Enabled"},
        })
    )

    assert cfg.random_seed == 42
    criteria = cfg.tuning_job_completion_criteria
    assert criteria is not None and criteria.target_objective_metric_value == 0.95
    assert criteria.best_objective_not_improving is not None
    assert criteria.best_objective_not_improving.max_number_of_training_jobs_not_improving == 5


# --- ranges ----------------------------------------------------------------------------------


def test_continuous_min_above_max_is_refused_naming_the_field_and_both_values() -> None:
    err = refused(config(ParameterRanges={
        "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.5", "MaxValue": "0.1"}]
    }))

    assert err.field == f"{RANGES}.ContinuousParameterRanges[0].MinValue"
    assert "0.5" in err.message and "0.1" in err.message and "eta" in err.message


def test_integer_min_above_max_is_refused_naming_the_field() -> None:
    err = refused(config(ParameterRanges={
        "IntegerParameterRanges": [{"Name": "a", "MinValue": "1", "MaxValue": "2"},
                                   {"Name": "b", "MinValue": "9", "MaxValue": "3"}]
    }))

    assert err.field == f"{RANGES}.IntegerParameterRanges[1].MinValue"
    assert "9" in err.message and "3" in err.message


def test_equal_bounds_are_accepted() -> None:
    cfg = parse_tuning_job_config(config(ParameterRanges={
        "ContinuousParameterRanges": [{"Name": "x", "MinValue": "1", "MaxValue": "1"}]
    }))

    assert cfg.parameter_ranges.continuous_parameter_ranges[0].min_value == 1.0


@pytest.mark.parametrize("kind", ["IntegerParameterRanges", "ContinuousParameterRanges"])
def test_logarithmic_scaling_with_min_zero_is_refused(kind: str) -> None:
    err = refused(config(ParameterRanges={
        kind: [{"Name": "lr", "MinValue": "0", "MaxValue": "10", "ScalingType": "Logarithmic"}]
    }))

    assert err.field == f"{RANGES}.{kind}[0].ScalingType"
    assert "MinValue > 0" in err.message


@pytest.mark.parametrize("low, high", [("0.5", "1"), ("-0.1", "0.5"), ("0.5", "0.5"), ("0.9", "1.5")])
def test_reverse_logarithmic_needs_a_continuous_range_inside_zero_to_one(low: str, high: str) -> None:
    err = refused(config(ParameterRanges={
        "ContinuousParameterRanges": [{"Name": "m", "MinValue": low, "MaxValue": high,
                                       "ScalingType": "ReverseLogarithmic"}]
    }))

    assert err.field == f"{RANGES}.ContinuousParameterRanges[0].ScalingType"
    assert "0 <= MinValue < MaxValue < 1" in err.message


def test_reverse_logarithmic_is_refused_for_integer_ranges() -> None:
    err = refused(config(ParameterRanges={
        "IntegerParameterRanges": [{"Name": "n", "MinValue": "0", "MaxValue": "0",
                                    "ScalingType": "ReverseLogarithmic"}]
    }))

    assert err.field == f"{RANGES}.IntegerParameterRanges[0].ScalingType"
    assert "continuous" in err.message


def test_reverse_logarithmic_inside_zero_to_one_is_accepted() -> None:
    cfg = parse_tuning_job_config(config(ParameterRanges={
        "ContinuousParameterRanges": [{"Name": "momentum", "MinValue": "0", "MaxValue": "0.999",
                                       "ScalingType": "ReverseLogarithmic"}]
    }))

    assert cfg.parameter_ranges.continuous_parameter_ranges[0].scaling_type == "ReverseLogarithmic"


@pytest.mark.parametrize("value", ["abc", "nan", "inf", True, None, [1]])
def test_a_bound_that_is_not_a_finite_number_is_refused(value: object) -> None:
    err = refused(config(ParameterRanges={
        "ContinuousParameterRanges": [{"Name": "x", "MinValue": value, "MaxValue": "1"}]
    }))

    assert err.field == f"{RANGES}.ContinuousParameterRanges[0].MinValue"


def test_integer_range_refuses_a_fractional_bound() -> None:
    err = refused(config(ParameterRanges={
        "IntegerParameterRanges": [{"Name": "n", "MinValue": "1", "MaxValue": "2.5"}]
    }))

    assert err.field == f"{RANGES}.IntegerParameterRanges[0].MaxValue"
    assert "integer" in err.message and "2.5" in err.message


def test_the_same_hyperparameter_in_two_ranges_is_refused() -> None:
    err = refused(config(ParameterRanges={
        "IntegerParameterRanges": [{"Name": "depth", "MinValue": "1", "MaxValue": "5"}],
        "CategoricalParameterRanges": [{"Name": "depth", "Values": ["3", "4"]}],
    }))

    assert err.field == f"{RANGES}.CategoricalParameterRanges[0].Name"
    assert "depth" in err.message and "IntegerParameterRanges[0]" in err.message


def test_repeated_categorical_values_are_refused() -> None:
    err = refused(config(ParameterRanges={
        "CategoricalParameterRanges": [{"Name": "opt", "Values": ["adam", "sgd", "adam"]}]
    }))

    assert err.field == f"{RANGES}.CategoricalParameterRanges[0].Values"
    assert "'adam'" in err.message


def test_categorical_values_must_be_strings() -> None:
    err = refused(config(ParameterRanges={"CategoricalParameterRanges": [{"Name": "k", "Values": ["1", 2]}]}))

    assert err.field == f"{RANGES}.CategoricalParameterRanges[0].Values[1]"


def test_empty_categorical_values_are_refused() -> None:
    err = refused(config(ParameterRanges={"CategoricalParameterRanges": [{"Name": "k", "Values": []}]}))

    assert err.field == f"{RANGES}.CategoricalParameterRanges[0].Values"


def test_at_least_one_range_is_required() -> None:
    err = refused(config(ParameterRanges={}))

    assert err.field == RANGES


def test_more_than_thirty_tuned_hyperparameters_are_refused() -> None:
    ints = [{"Name": f"i{k}", "MinValue": "1", "MaxValue": "2"} for k in range(20)]
    floats = [{"Name": f"f{k}", "MinValue": "0", "MaxValue": "1"} for k in range(11)]

    err = refused(config(ParameterRanges={"IntegerParameterRanges": ints, "ContinuousParameterRanges": floats}))

    assert err.field == RANGES and "31" in err.message


def test_autotune_parameters_are_refused_clearly() -> None:
    err = refused(config(ParameterRanges={"AutoParameters": [{"Name": "eta", "ValueHint": "0.1"}]}))

    assert err.field == f"{RANGES}.AutoParameters" and "Autotune" in err.message


# --- shape: unknown keys, missing members, types ---------------------------------------------


@pytest.mark.parametrize(
    "cfg, field",
    [
        (config(Strategie="Random"), "HyperParameterTuningJobConfig.Strategie"),
        (config(ResourceLimits={"MaxNumberOfTrainingJobs": 5, "MaxParallelTrainingJobs": 1, "MaxJobs": 3}),
         "HyperParameterTuningJobConfig.ResourceLimits.MaxJobs"),
        (config(ParameterRanges={"ContinuousParameterRanges": [
            {"Name": "x", "MinValue": "0", "MaxValue": "1", "Scaling": "Linear"}]}),
         f"{RANGES}.ContinuousParameterRanges[0].Scaling"),
    ],
)
def test_unknown_keys_are_refused_with_their_path_and_the_known_ones(cfg: dict[str, Any], field: str) -> None:
    err = refused(cfg)

    assert err.field == field
    assert "not a known key" in err.message


def test_the_known_keys_are_listed_for_an_unknown_key() -> None:
    err = refused(config(ResourceLimits={"MaxParallelTrainingJobs": 1, "MaxJobs": 3}))

    assert "MaxNumberOfTrainingJobs" in err.message and "MaxRuntimeInSeconds" in err.message


def test_a_missing_required_member_is_named() -> None:
    cfg = config()
    del cfg["HyperParameterTuningJobObjective"]["MetricName"]

    err = refused(cfg)

    assert err.field == "HyperParameterTuningJobConfig.HyperParameterTuningJobObjective.MetricName"
    assert "required" in err.message


@pytest.mark.parametrize(
    "cfg, field",
    [
        (config(Strategy="bayesian"), "HyperParameterTuningJobConfig.Strategy"),
        (config(HyperParameterTuningJobObjective={"Type": "Max", "MetricName": "m"}),
         "HyperParameterTuningJobConfig.HyperParameterTuningJobObjective.Type"),
        (config(TrainingJobEarlyStoppingType="OFF"), "HyperParameterTuningJobConfig.TrainingJobEarlyStoppingType"),
        (config(ParameterRanges={"IntegerParameterRanges": [
            {"Name": "n", "MinValue": "1", "MaxValue": "2", "ScalingType": "Log"}]}),
         f"{RANGES}.IntegerParameterRanges[0].ScalingType"),
        (config(RandomSeed=-1), "HyperParameterTuningJobConfig.RandomSeed"),
    ],
)
def test_values_outside_the_api_enumerations_are_refused(cfg: dict[str, Any], field: str) -> None:
    err = refused(cfg)

    assert err.field == field


@pytest.mark.parametrize("value", [0, True, "3", 2.0])
def test_max_parallel_training_jobs_must_be_a_positive_integer(value: object) -> None:
    err = refused(config(ResourceLimits={"MaxNumberOfTrainingJobs": 5, "MaxParallelTrainingJobs": value}))

    assert err.field == "HyperParameterTuningJobConfig.ResourceLimits.MaxParallelTrainingJobs"


@pytest.mark.parametrize("seconds", [119, 15_768_001])
def test_max_runtime_must_lie_within_sagemaker_bounds(seconds: int) -> None:
    err = refused(config(ResourceLimits={"MaxNumberOfTrainingJobs": 5, "MaxParallelTrainingJobs": 1,
                                         "MaxRuntimeInSeconds": seconds}))

    assert err.field == "HyperParameterTuningJobConfig.ResourceLimits.MaxRuntimeInSeconds"


def test_a_config_that_is_not_an_object_is_refused() -> None:
    err = refused(["Bayesian"])  # type: ignore[arg-type]

    assert err.field == "HyperParameterTuningJobConfig"


# --- strategies ------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["Bayesian", "Random"])
def test_max_number_of_training_jobs_is_required_outside_grid(strategy: str) -> None:
    err = refused(config(Strategy=strategy, ResourceLimits={"MaxParallelTrainingJobs": 1}))

    assert err.field == "HyperParameterTuningJobConfig.ResourceLimits.MaxNumberOfTrainingJobs"


def test_grid_runs_as_many_jobs_as_combinations_when_max_jobs_is_left_out() -> None:
    cfg = parse_tuning_job_config(grid(["a", "b"], ["1", "2", "3"], ResourceLimits={"MaxParallelTrainingJobs": 2}))

    assert cfg.resource_limits.max_number_of_training_jobs == 6
    assert cfg.parameter_ranges.grid_size() == 6


def test_grid_accepts_max_jobs_equal_to_the_grid_size() -> None:
    cfg = parse_tuning_job_config(grid(["a", "b"], ResourceLimits={"MaxNumberOfTrainingJobs": 2,
                                                                  "MaxParallelTrainingJobs": 1}))

    assert cfg.resource_limits.max_number_of_training_jobs == 2


def test_grid_refuses_max_jobs_other_than_the_grid_size() -> None:
    err = refused(grid(["a", "b"], ["x", "y"]))  # MaxNumberOfTrainingJobs 20, grid 4

    assert err.field == "HyperParameterTuningJobConfig.ResourceLimits.MaxNumberOfTrainingJobs"
    assert "20" in err.message and "4" in err.message


@pytest.mark.parametrize("kind", ["IntegerParameterRanges", "ContinuousParameterRanges"])
def test_grid_searches_categorical_ranges_only_as_sagemaker_does(kind: str) -> None:
    err = refused(config(Strategy="Grid", ParameterRanges={
        "CategoricalParameterRanges": [{"Name": "c", "Values": ["a"]}],
        kind: [{"Name": "n", "MinValue": "1", "MaxValue": "3"}],
    }, ResourceLimits={"MaxParallelTrainingJobs": 1}))

    assert err.field == f"{RANGES}.{kind}"
    assert "categorical" in err.message


def test_a_grid_too_large_to_enumerate_is_refused() -> None:
    values = [str(v) for v in range(30)]
    err = refused(grid(values, values, values, ResourceLimits={"MaxParallelTrainingJobs": 1}))

    assert err.field == f"{RANGES}.CategoricalParameterRanges"
    assert str(30 ** 3) in err.message and str(MAX_GRID_SIZE) in err.message


def hyperband(**overrides: Any) -> dict[str, Any]:
    return config(Strategy="Hyperband", **overrides)


def test_hyperband_keeps_its_resources_and_defaults_min_resource_to_one() -> None:
    cfg = parse_tuning_job_config(hyperband(StrategyConfig={"HyperbandStrategyConfig": {"MaxResource": 27}}))

    assert cfg.hyperband is not None
    assert (cfg.hyperband.min_resource, cfg.hyperband.max_resource) == (1, 27)


def test_hyperband_requires_training_job_early_stopping_off() -> None:
    err = refused(hyperband(StrategyConfig={"HyperbandStrategyConfig": {"MaxResource": 9}},
                            TrainingJobEarlyStoppingType="Auto"))

    assert err.field == "HyperParameterTuningJobConfig.TrainingJobEarlyStoppingType"
    assert "Off" in err.message


@pytest.mark.parametrize("key", ["epochs", "num_epochs", "n-epochs"])
def test_hyperband_reads_max_resource_from_static_epochs(key: str) -> None:
    cfg = parse_tuning_job_config(hyperband(), static_hyperparameters={key: "30", "other": "x"})

    assert cfg.hyperband is not None and cfg.hyperband.max_resource == 30


@pytest.mark.parametrize("static", [{}, {"epochs": "many"}, {"epochs": "0"}])
def test_hyperband_without_a_max_resource_anywhere_is_refused(static: dict[str, str]) -> None:
    err = refused(hyperband(), static_hyperparameters=static)

    assert err.field == "HyperParameterTuningJobConfig.StrategyConfig.HyperbandStrategyConfig.MaxResource"


def test_hyperband_min_resource_above_max_resource_is_refused() -> None:
    err = refused(hyperband(StrategyConfig={"HyperbandStrategyConfig": {"MinResource": 10, "MaxResource": 5}}))

    assert err.field == "HyperParameterTuningJobConfig.StrategyConfig.HyperbandStrategyConfig.MinResource"
    assert "10" in err.message and "5" in err.message


def test_hyperband_max_resource_is_at_most_twenty_thousand() -> None:
    err = refused(hyperband(StrategyConfig={"HyperbandStrategyConfig": {"MaxResource": 20_001}}))

    assert err.field == "HyperParameterTuningJobConfig.StrategyConfig.HyperbandStrategyConfig.MaxResource"


def test_strategy_config_is_refused_for_strategies_other_than_hyperband() -> None:
    err = refused(config(StrategyConfig={"HyperbandStrategyConfig": {"MaxResource": 9}}))

    assert err.field == "HyperParameterTuningJobConfig.StrategyConfig"


def test_early_stopping_auto_is_accepted_outside_hyperband() -> None:
    cfg = parse_tuning_job_config(config(Strategy="Random", TrainingJobEarlyStoppingType="Auto"))

    assert cfg.training_job_early_stopping_type == "Auto"


# --- warm start ------------------------------------------------------------------------------


def warm(*names: str, kind: str = "TransferLearning") -> dict[str, Any]:
    return {"ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": n} for n in names],
            "WarmStartType": kind}


def test_warm_start_config_lists_its_parents() -> None:
    cfg = validate_warm_start_config(warm("hpo-a", "hpo-b", kind="IdenticalDataAndAlgorithm"))

    assert cfg.parent_names() == ["hpo-a", "hpo-b"]
    assert cfg.warm_start_type == "IdenticalDataAndAlgorithm"


@pytest.mark.parametrize(
    "cfg, field",
    [
        (warm(), "WarmStartConfig.ParentHyperParameterTuningJobs"),
        (warm(*[f"p{i}" for i in range(6)]), "WarmStartConfig.ParentHyperParameterTuningJobs"),
        (warm("bad_name"), "WarmStartConfig.ParentHyperParameterTuningJobs[0].HyperParameterTuningJobName"),
        (warm("a" * 33), "WarmStartConfig.ParentHyperParameterTuningJobs[0].HyperParameterTuningJobName"),
        (warm("same", "same"), "WarmStartConfig.ParentHyperParameterTuningJobs[1].HyperParameterTuningJobName"),
        (warm("p", kind="Transfer"), "WarmStartConfig.WarmStartType"),
        ({**warm("p"), "Extra": 1}, "WarmStartConfig.Extra"),
    ],
)
def test_bad_warm_start_configs_are_refused_naming_the_field(cfg: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_warm_start_config(cfg)

    assert info.value.field == field
