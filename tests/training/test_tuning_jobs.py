"""Tuning jobs: trials as training jobs, bounded parallelism, the best job, early
stopping with Hyperband, warm start, bad input, stop."""

from __future__ import annotations

import pytest
from training_helpers import SCRIPTS, source_tarball

from groundfog.core.errors import ValidationError

RF_METRIC = [{"Name": "validation:accuracy", "Regex": r"validation-accuracy: ([0-9.]+)"}]
CURVE_METRIC = [{"Name": "validation:loss", "Regex": r"validation-loss=([0-9.e+-]+)"}]


def _definition(tp, script: str, metrics, static=None, channels=("train", "validation")):
    tp.storage.put_object("code", f"tune/{script}.tar.gz", source_tarball(SCRIPTS / script))
    return {
        "StaticHyperParameters": {"sagemaker_program": script, "sagemaker_submit_directory": f"s3://code/tune/{script}.tar.gz", **(static or {})},
        "AlgorithmSpecification": {"TrainingImage": "sklearn", "TrainingInputMode": "File", "MetricDefinitions": metrics},
        "InputDataConfig": [{"ChannelName": c, "DataSource": {"S3DataSource": {"S3Uri": f"s3://data/{c}/"}}} for c in channels],
        "OutputDataConfig": {"S3OutputPath": "s3://models/tuning"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }  # fmt: skip


def _overlap(jobs) -> int:
    events = []
    for job in jobs:
        events += [(job["TrainingStartTime"], 1), (job["TrainingEndTime"], -1)]
    peak = current = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):
        current += delta
        peak = max(peak, current)
    return peak


def test_tuning_finds_at_least_the_default_objective_within_parallel_limits(tp):
    definition = _definition(tp, "sklearn_train.py", RF_METRIC)
    # The default hyperparameters, trained once as a plain job.
    tp.training.create_training_job(
        training_job_name="rf-default", hyper_parameters=definition["StaticHyperParameters"],
        input_data_config=definition["InputDataConfig"], output_data_config=definition["OutputDataConfig"],
        resource_config=definition["ResourceConfig"], algorithm_specification=definition["AlgorithmSpecification"],
    )  # fmt: skip
    tp.tuning.create_hyper_parameter_tuning_job(
        hyper_parameter_tuning_job_name="rf-hpo",
        hyper_parameter_tuning_job_config={
            "Strategy": "Bayesian", "RandomSeed": 3,
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:accuracy"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 6, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": {
                "IntegerParameterRanges": [{"Name": "n-estimators", "MinValue": "20", "MaxValue": "120"},
                                           {"Name": "max-depth", "MinValue": "3", "MaxValue": "12"}],
            },
        },
        training_job_definition=definition,
    )  # fmt: skip
    default = tp.training.wait_for_training_job("rf-default", timeout=120)
    tuned = tp.tuning.wait_for_hyper_parameter_tuning_job("rf-hpo", timeout=300)
    assert tuned["HyperParameterTuningJobStatus"] == "Completed", tuned.get("FailureReason")
    assert tuned["TrainingJobStatusCounters"]["Completed"] == 6
    default_accuracy = default["FinalMetricDataList"][0]["Value"]
    best = tuned["BestTrainingJob"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] >= default_accuracy
    assert set(best["TunedHyperParameters"]) == {"n-estimators", "max-depth"}
    listed = tp.tuning.list_training_jobs_for_hyper_parameter_tuning_job("rf-hpo")["TrainingJobSummaries"]
    values = [s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for s in listed]
    assert values == sorted(values, reverse=True) and listed[0]["TrainingJobName"] == best["TrainingJobName"]
    jobs = tp.training.training_jobs_of_tuning_job("rf-hpo")
    assert len(jobs) == 6 and _overlap(jobs) <= 2
    assert all(j["TrainingJobName"].startswith("rf-hpo-0") for j in jobs)
    assert jobs[0]["TuningJobArn"].endswith("hyper-parameter-tuning-job/rf-hpo")


def test_hyperband_stops_weak_trials_early(tp):
    definition = _definition(tp, "curve.py", CURVE_METRIC, static={"epochs": "9"}, channels=("train",))
    tp.tuning.create_hyper_parameter_tuning_job(
        hyper_parameter_tuning_job_name="curve-hb",
        hyper_parameter_tuning_job_config={
            "Strategy": "Hyperband", "RandomSeed": 1,
            "StrategyConfig": {"HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 9}},
            "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "validation:loss"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 10, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": {"ContinuousParameterRanges": [
                {"Name": "learning-rate", "MinValue": "0.0001", "MaxValue": "0.9", "ScalingType": "Logarithmic"}]},
        },
        training_job_definition=definition,
    )  # fmt: skip
    tuned = tp.tuning.wait_for_hyper_parameter_tuning_job("curve-hb", timeout=300)
    assert tuned["HyperParameterTuningJobStatus"] == "Completed", tuned.get("FailureReason")
    listed = tp.tuning.list_training_jobs_for_hyper_parameter_tuning_job("curve-hb")["TrainingJobSummaries"]
    early = [s for s in listed if s["EarlyStopped"]]
    assert early, "Hyperband stopped no trial early"
    assert all(s["TrainingJobStatus"] == "Stopped" for s in early)
    best = tuned["BestTrainingJob"]
    assert not best["EarlyStopped"] and float(best["TunedHyperParameters"]["learning-rate"]) > 0.05


def test_warm_start_seeds_the_study_with_the_parent_trials(tp):
    definition = _definition(tp, "curve.py", CURVE_METRIC, static={"epochs": "3"}, channels=("train",))
    config = {
        "Strategy": "Random", "RandomSeed": 5,
        "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "validation:loss"},
        "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 2},
        "ParameterRanges": {"ContinuousParameterRanges": [{"Name": "learning-rate", "MinValue": "0.01", "MaxValue": "0.9"}]},
    }  # fmt: skip
    tp.tuning.create_hyper_parameter_tuning_job(hyper_parameter_tuning_job_name="parent", hyper_parameter_tuning_job_config=config, training_job_definition=definition)
    assert tp.tuning.wait_for_hyper_parameter_tuning_job("parent", timeout=120)["HyperParameterTuningJobStatus"] == "Completed"
    tp.tuning.create_hyper_parameter_tuning_job(
        hyper_parameter_tuning_job_name="child", hyper_parameter_tuning_job_config=config, training_job_definition=definition,
        warm_start_config={"ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "parent"}], "WarmStartType": "IdenticalDataAndAlgorithm"},
    )  # fmt: skip
    child = tp.tuning.wait_for_hyper_parameter_tuning_job("child", timeout=120)
    assert child["HyperParameterTuningJobStatus"] == "Completed"
    assert child["WarmStartConfig"]["WarmStartType"] == "IdenticalDataAndAlgorithm"
    import optuna

    study = optuna.load_study(study_name="child", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tp.tuning.job_dir("child") / "study.journal"))))
    assert len(study.trials) == 4  # two from the parent, two of its own


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ParameterRanges": {"IntegerParameterRanges": [{"Name": "max-depth", "MinValue": "9", "MaxValue": "2"}]}},
         "HyperParameterTuningJobConfig.ParameterRanges.IntegerParameterRanges[0]"),
        ({"HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:f1"}},
         "HyperParameterTuningJobConfig.HyperParameterTuningJobObjective.MetricName"),
    ],
)
def test_bad_tuning_requests_are_refused_before_any_job_starts(tp, change, field):
    config = {
        "Strategy": "Random",
        "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:accuracy"},
        "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
        "ParameterRanges": {"IntegerParameterRanges": [{"Name": "max-depth", "MinValue": "2", "MaxValue": "9"}]},
        **change,
    }
    with pytest.raises(ValidationError) as caught:
        tp.tuning.create_hyper_parameter_tuning_job(
            hyper_parameter_tuning_job_name="bad", hyper_parameter_tuning_job_config=config,
            training_job_definition=_definition(tp, "sklearn_train.py", RF_METRIC),
        )
    assert caught.value.field.startswith(field), caught.value.field
    assert tp.tuning.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"] == []
    assert tp.training.list_training_jobs()["TrainingJobSummaries"] == []


def test_stopping_a_tuning_job_stops_its_trials(tp):
    definition = _definition(tp, "sleepy.py", [{"Name": "tick", "Regex": r"tick (\d+)"}], channels=("train",))
    tp.tuning.create_hyper_parameter_tuning_job(
        hyper_parameter_tuning_job_name="sleepy-hpo",
        hyper_parameter_tuning_job_config={
            "Strategy": "Random",
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "tick"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": {"CategoricalParameterRanges": [{"Name": "mode", "Values": ["a", "b"]}]},
        },
        training_job_definition=definition,
    )  # fmt: skip
    import time

    deadline = time.time() + 30
    while len(tp.training.list_training_jobs(status_equals="InProgress")["TrainingJobSummaries"]) < 2:
        assert time.time() < deadline
        time.sleep(0.1)
    tp.tuning.stop_hyper_parameter_tuning_job("sleepy-hpo")
    job = tp.tuning.wait_for_hyper_parameter_tuning_job("sleepy-hpo", timeout=60)
    assert job["HyperParameterTuningJobStatus"] == "Stopped"
    assert {j["TrainingJobStatus"] for j in tp.training.training_jobs_of_tuning_job("sleepy-hpo")} == {"Stopped"}


def test_max_runtime_of_the_tuning_job_stops_its_trials(tmp_path, breast_cancer_csv):
    import time

    from training_helpers import make_platform

    from groundfog.core.clock import ManualClock

    from datetime import datetime, timezone

    clock = ManualClock(datetime.now(timezone.utc))
    with make_platform(tmp_path / "home", clock=clock) as p:
        p.storage.put_object("data", "train/train.csv", breast_cancer_csv[0])
        definition = _definition(p, "sleepy.py", [{"Name": "tick", "Regex": r"tick (\d+)"}], channels=("train",))
        p.tuning.create_hyper_parameter_tuning_job(
            hyper_parameter_tuning_job_name="timed",
            hyper_parameter_tuning_job_config={
                "Strategy": "Random",
                "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "tick"},
                "ResourceLimits": {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 1, "MaxRuntimeInSeconds": 120},
                "ParameterRanges": {"CategoricalParameterRanges": [{"Name": "mode", "Values": ["a", "b"]}]},
            },
            training_job_definition=definition,
        )  # fmt: skip
        deadline = time.time() + 30
        while not p.training.list_training_jobs(status_equals="InProgress")["TrainingJobSummaries"]:
            assert time.time() < deadline
            time.sleep(0.1)
        clock.advance(121)
        job = p.tuning.wait_for_hyper_parameter_tuning_job("timed", timeout=60)
        assert job["HyperParameterTuningJobStatus"] in ("Completed", "Failed")
        assert job["TrainingJobStatusCounters"]["Stopped"] == 1
        assert len(p.training.training_jobs_of_tuning_job("timed")) == 1  # no trial after the limit
        assert job["ConsumedResources"]["RuntimeInSeconds"] >= 121


def test_auto_early_stopping_stops_trials_below_the_median(tp):
    # Epochs slow enough that a verdict reaches a trial while it still runs.
    definition = _definition(tp, "curve.py", CURVE_METRIC, static={"epochs": "9", "epoch-seconds": "0.2"}, channels=("train",))
    tp.tuning.create_hyper_parameter_tuning_job(
        hyper_parameter_tuning_job_name="curve-auto",
        hyper_parameter_tuning_job_config={
            "Strategy": "Random", "RandomSeed": 11, "TrainingJobEarlyStoppingType": "Auto",
            "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "validation:loss"},
            # One at a time: each trial is judged against the finished ones, the same way every run.
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 8, "MaxParallelTrainingJobs": 1},
            "ParameterRanges": {"ContinuousParameterRanges": [
                {"Name": "learning-rate", "MinValue": "0.0001", "MaxValue": "0.9", "ScalingType": "Logarithmic"}]},
        },
        training_job_definition=definition,
    )  # fmt: skip
    tuned = tp.tuning.wait_for_hyper_parameter_tuning_job("curve-auto", timeout=300)
    assert tuned["HyperParameterTuningJobStatus"] == "Completed", tuned.get("FailureReason")
    listed = tp.tuning.list_training_jobs_for_hyper_parameter_tuning_job("curve-auto")["TrainingJobSummaries"]
    early = [s for s in listed if s["EarlyStopped"]]
    assert early and all(s["TrainingJobStatus"] == "Stopped" for s in early)
    assert not tuned["BestTrainingJob"]["EarlyStopped"]
