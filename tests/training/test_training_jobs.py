"""Training jobs: SageMaker script mode run unchanged, the built-in XGBoost algorithm,
statuses, failures, stops, limits and several hosts."""

from __future__ import annotations

import json
import time

import joblib
import pytest
from training_helpers import SCRIPTS, model_files, script_job

from groundfog.core.errors import ResourceInUse, ResourceNotFound, ValidationError
from groundfog.training import isolation


def test_sklearn_script_trains_unchanged_and_produces_model_tar(tp, tmp_path, breast_cancer_csv):
    script_job(
        tp, "rf-1", "sklearn_train.py",
        hyperparameters={"n-estimators": "25", "max-depth": "4"},
        channels={"train": "s3://data/train/", "validation": "s3://data/validation/"},
        metric_definitions=[{"Name": "validation:accuracy", "Regex": r"validation-accuracy: ([0-9.]+)"}],
    )  # fmt: skip
    job = tp.training.wait_for_training_job("rf-1", timeout=120)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert [t["Status"] for t in job["SecondaryStatusTransitions"]] == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    uri = job["ModelArtifacts"]["S3ModelArtifacts"]
    assert uri == "s3://models/out/rf-1/output/model.tar.gz"
    model = joblib.load(model_files(tp, uri, tmp_path / "model") / "model.joblib")
    assert model.n_estimators == 25 and model.max_depth == 4
    accuracy = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}["validation:accuracy"]
    assert accuracy > 0.9
    assert job["OutputDataUri"] == "s3://models/out/rf-1/output/output.tar.gz"
    assert "n_estimators=25" in tp.training.get_training_job_logs("rf-1")["Text"]
    assert tp.training.get_training_job_metrics("rf-1")["validation:accuracy"] == [accuracy]


def test_script_sees_the_training_toolkit_environment(tp, tmp_path):
    script_job(tp, "env-1", "env_dump.py", framework="pytorch", hyperparameters={"epochs": "3", "lr": "0.01", "name": '"abc"'})
    job = tp.training.wait_for_training_job("env-1", timeout=60)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    seen = json.loads((model_files(tp, job["ModelArtifacts"]["S3ModelArtifacts"], tmp_path / "m") / "env.json").read_text())
    env = seen["env"]
    for name in ("SM_MODEL_DIR", "SM_CHANNELS", "SM_CHANNEL_TRAIN", "SM_OUTPUT_DATA_DIR", "SM_OUTPUT_DIR", "SM_INPUT_DIR",
                 "SM_INPUT_CONFIG_DIR", "SM_INPUT_DATA_CONFIG", "SM_RESOURCE_CONFIG", "SM_TRAINING_ENV", "SM_USER_ARGS",
                 "SM_MODULE_DIR", "SM_USER_ENTRY_POINT", "SM_HPS", "SM_HP_EPOCHS", "SM_HOSTS", "SM_CURRENT_HOST",
                 "SM_NUM_CPUS", "SM_NUM_GPUS", "SM_LOG_LEVEL"):  # fmt: skip
        assert name in env, name
    assert json.loads(env["SM_HPS"]) == {"epochs": 3, "lr": 0.01, "name": "abc"}
    assert seen["argv"] == ["--epochs", "3", "--lr", "0.01", "--name", "abc"]
    assert json.loads(env["SM_CHANNELS"]) == ["train"] and seen["train_files"] == ["train.csv"]
    assert env["SM_USER_ENTRY_POINT"] == "env_dump.py" and env["SM_CURRENT_HOST"] == "algo-1"
    assert json.loads(env["SM_HOSTS"]) == ["algo-1"]
    assert set(seen["config"]) >= {"hyperparameters.json", "resourceconfig.json", "inputdataconfig.json"}
    assert seen["config"]["hyperparameters.json"]["epochs"] == "3"
    assert seen["config"]["resourceconfig.json"]["current_host"] == "algo-1"
    assert json.loads(env["SM_TRAINING_ENV"])["job_name"] == "env-1"
    if isolation.mount_available():
        assert env["SM_MODEL_DIR"] == "/opt/ml/model"  # SageMaker's own paths, privately mounted


def test_pytorch_script_trains_and_saves_model(tp, tmp_path):
    script_job(tp, "torch-1", "torch_spot.py", framework="pytorch", hyperparameters={"epochs": "3", "epoch-seconds": "0"})
    job = tp.training.wait_for_training_job("torch-1", timeout=120)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    import torch

    state = torch.load(model_files(tp, job["ModelArtifacts"]["S3ModelArtifacts"], tmp_path / "m") / "model.pt")
    assert state["weight"].shape == (1, 8)


def test_builtin_xgboost_trains_from_csv_channel(tp, tmp_path, breast_cancer_csv):
    import pandas as pd
    import xgboost

    from io import BytesIO

    train = pd.read_csv(BytesIO(breast_cancer_csv[0]))
    valid = pd.read_csv(BytesIO(breast_cancer_csv[1]))
    # SageMaker's layout: no header, the label first.
    for frame, key in ((train, "xgb/train/train.csv"), (valid, "xgb/validation/validation.csv")):
        columns = ["label"] + [c for c in frame.columns if c != "label"]
        tp.storage.put_object("data", key, frame[columns].to_csv(header=False, index=False).encode())
    tp.training.create_training_job(
        training_job_name="xgb-1",
        algorithm_specification={"TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", "TrainingInputMode": "File"},
        hyper_parameters={"num_round": "30", "objective": "binary:logistic", "eval_metric": "auc", "max_depth": "3"},
        input_data_config=[
            {"ChannelName": c, "ContentType": "text/csv", "DataSource": {"S3DataSource": {"S3Uri": f"s3://data/xgb/{c}/"}}}
            for c in ("train", "validation")
        ],
        output_data_config={"S3OutputPath": "s3://models/xgb"},
        resource_config={"InstanceType": "ml.c5.xlarge", "InstanceCount": 1},
    )  # fmt: skip
    job = tp.training.wait_for_training_job("xgb-1", timeout=120)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    finals = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert finals["validation:auc"] > 0.95
    assert len(tp.training.get_training_job_metrics("xgb-1", "validation:auc")["validation:auc"]) == 30
    booster = xgboost.Booster()
    booster.load_model(str(model_files(tp, job["ModelArtifacts"]["S3ModelArtifacts"], tmp_path / "m") / "xgboost-model"))
    assert booster.num_boosted_rounds() == 30


def test_crashing_script_fails_with_its_exception_message(tp):
    script_job(tp, "crash-1", "crash.py")
    job = tp.training.wait_for_training_job("crash-1", timeout=60)
    assert job["TrainingJobStatus"] == "Failed" and job["SecondaryStatus"] == "Failed"
    assert "ValueError: the label column 'target' is missing from train.csv" in job["FailureReason"]
    assert "ModelArtifacts" not in job or job["ModelArtifacts"]["S3ModelArtifacts"] is None


def test_stop_ends_the_processes_and_gives_stopped(tp):
    script_job(tp, "sleepy-1", "sleepy.py")
    deadline = time.time() + 30
    while "tick 1" not in tp.training.get_training_job_logs("sleepy-1")["Text"]:
        assert time.time() < deadline, "the script never started"
        time.sleep(0.1)
    host = tp.jobs.lookup("training-host", "sleepy-1-algo-1-1")
    tp.training.stop_training_job("sleepy-1")
    job = tp.training.wait_for_training_job("sleepy-1", timeout=30)
    assert job["TrainingJobStatus"] == "Stopped" and job["SecondaryStatus"] == "Stopped"
    assert tp.jobs.describe(host.id).status == "Stopped"
    from groundfog.core.executors import process_alive

    assert not process_alive(host.pid, host.process_start)
    tp.training.stop_training_job("sleepy-1")  # stopping an ended job changes nothing
    assert tp.training.describe_training_job("sleepy-1")["TrainingJobStatus"] == "Stopped"


def test_max_runtime_stops_the_job_with_max_runtime_exceeded(tp):
    script_job(tp, "slow-1", "sleepy.py", stopping_condition={"MaxRuntimeInSeconds": 2})
    job = tp.training.wait_for_training_job("slow-1", timeout=60)
    assert job["TrainingJobStatus"] == "Stopped"
    assert job["SecondaryStatus"] == "MaxRuntimeExceeded"
    assert job["ModelArtifacts"]["S3ModelArtifacts"].endswith("slow-1/output/model.tar.gz")


def test_two_instances_run_torch_distributed_over_gloo(tp, tmp_path):
    script_job(tp, "ddp-1", "torch_ddp.py", framework="pytorch", resource_config={"InstanceType": "ml.m5.xlarge", "InstanceCount": 2})
    job = tp.training.wait_for_training_job("ddp-1", timeout=120)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    log = tp.training.get_training_job_logs("ddp-1")["Text"]
    assert "[algo-1] host=algo-1 rank=0 world=2 allreduce=3.0" in log
    assert "[algo-2] host=algo-2 rank=1 world=2 allreduce=3.0" in log
    assert (model_files(tp, job["ModelArtifacts"]["S3ModelArtifacts"], tmp_path / "m") / "sum.txt").read_text() == "3.0"
    assert job["LocalResources"]["scaled_down"] is True and "2 hosts" in job["LocalResources"]["note"]


def test_fastfile_channel_reads_objects_in_place(tp):
    script_job(tp, "fast-1", "sklearn_train.py", input_mode="FastFile")
    job = tp.training.wait_for_training_job("fast-1", timeout=120)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["InputDataConfig"][0]["InputMode"] == "FastFile"
    assert "linked in place" in tp.training.get_training_job_logs("fast-1")["Text"]


def test_requirements_txt_is_installed_into_a_cached_environment(tp):
    requirements = ("requirements.txt", b"joblib\n")
    script_job(tp, "req-1", "sklearn_train.py", extra_files=(requirements,))
    job = tp.training.wait_for_training_job("req-1", timeout=180)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    envs = [p for p in (tp.config.home / "envs").iterdir() if p.is_dir()]
    assert len(envs) == 1 and (envs[0] / ".groundfog-ready").exists()


# -- bad input is refused before any process starts, with the field named -------------


def _refused(tp, field: str, **overrides):
    kwargs = dict(
        training_job_name="bad-1",
        algorithm_specification={"TrainingImage": "sklearn"},
        hyper_parameters={"sagemaker_program": "sklearn_train.py", "sagemaker_submit_directory": "s3://code/ok/sourcedir.tar.gz"},
        input_data_config=[{"ChannelName": "train", "DataSource": {"S3DataSource": {"S3Uri": "s3://data/train/"}}}],
        output_data_config={"S3OutputPath": "s3://models/out"},
        resource_config={"InstanceType": "ml.m5.large", "InstanceCount": 1},
    )
    kwargs.update(overrides)
    from training_helpers import source_tarball

    tp.storage.put_object("code", "ok/sourcedir.tar.gz", source_tarball(SCRIPTS / "sklearn_train.py"))
    with pytest.raises(ValidationError) as caught:
        tp.training.create_training_job(**kwargs)
    assert caught.value.field is not None and caught.value.field.startswith(field), caught.value.field
    assert tp.training.list_training_jobs()["TrainingJobSummaries"] == []
    assert tp.jobs.list() == []
    return caught.value


def test_missing_entry_point_is_refused(tp):
    error = _refused(tp, "entry_point", hyper_parameters={"sagemaker_submit_directory": "s3://code/ok/sourcedir.tar.gz"})
    assert "entry point" in error.message


def test_entry_point_not_in_source_is_refused(tp):
    _refused(tp, "entry_point", hyper_parameters={"sagemaker_program": "nope.py", "sagemaker_submit_directory": "s3://code/ok/sourcedir.tar.gz"})


def test_unknown_framework_is_refused(tp):
    error = _refused(tp, "AlgorithmSpecification.TrainingImage", algorithm_specification={"TrainingImage": "tensorflow"})
    assert "sklearn" in error.message


def test_unknown_instance_type_is_refused_listing_the_family(tp):
    error = _refused(tp, "ResourceConfig.InstanceType", resource_config={"InstanceType": "ml.m5.3xlarge"})
    assert "ml.m5.xlarge" in error.message


def test_channel_with_no_objects_is_refused(tp):
    error = _refused(tp, "InputDataConfig[0].DataSource.S3DataSource.S3Uri",
                     input_data_config=[{"ChannelName": "train", "DataSource": {"S3DataSource": {"S3Uri": "s3://data/empty/"}}}])
    assert "no objects" in error.message


def test_metric_regex_that_does_not_compile_is_refused(tp):
    error = _refused(tp, "AlgorithmSpecification.MetricDefinitions[0].Regex",
                     algorithm_specification={"TrainingImage": "sklearn", "MetricDefinitions": [{"Name": "loss", "Regex": "loss=([0-9.]+"}]})
    assert "does not compile" in error.message


def test_max_wait_shorter_than_max_runtime_is_refused(tp):
    _refused(tp, "StoppingCondition.MaxWaitTimeInSeconds", enable_managed_spot_training=True,
             stopping_condition={"MaxRuntimeInSeconds": 100, "MaxWaitTimeInSeconds": 50})


def test_builtin_xgboost_hyperparameter_out_of_range_is_refused(tp):
    _refused(tp, "HyperParameters.eta", algorithm_specification={"TrainingImage": "xgboost"},
             hyper_parameters={"num_round": "10", "eta": "7"})


def test_duplicate_job_name_is_refused_and_unknown_job_not_found(tp):
    script_job(tp, "dup-1", "crash.py")
    with pytest.raises(ResourceInUse):
        script_job(tp, "dup-1", "crash.py")
    with pytest.raises(ResourceNotFound):
        tp.training.describe_training_job("nope")
    tp.training.wait_for_training_job("dup-1", timeout=60)


def test_job_state_changes_are_eventbridge_events(tp, tmp_path):
    sink = tmp_path / "events.jsonl"
    topic = tp.topics.create_topic(name="jobs")
    tp.topics.subscribe(topic_arn=topic.topic_arn, protocol="file", endpoint=str(sink), attributes={"RawMessageDelivery": "true"})
    tp.events.put_rule(name="jobs", event_pattern={"source": ["aws.sagemaker"], "detail-type": ["SageMaker Training Job State Change"],
                                                   "detail": {"TrainingJobStatus": ["Failed"]}})
    tp.events.put_targets(rule="jobs", targets=[{"Id": "sink", "Arn": topic.topic_arn}])
    script_job(tp, "evt-1", "crash.py")
    assert tp.training.wait_for_training_job("evt-1", timeout=60)["TrainingJobStatus"] == "Failed"
    tp.events.drain(timeout=10)
    events = [json.loads(line) for line in sink.read_text().splitlines()]
    assert len(events) == 1  # the InProgress one did not match the rule
    assert events[0]["detail"]["TrainingJobName"] == "evt-1" and "ValueError" in events[0]["detail"]["FailureReason"]


def test_the_instance_memory_limits_the_script(tp):
    greedy = ("greedy.py", b"block = bytearray(6 * 1024**3)\nprint('allocated')\n")
    script_job(tp, "mem-1", "crash.py", extra_files=(greedy,), resource_config={"InstanceType": "ml.t3.medium", "InstanceCount": 1},
               hyperparameters={"sagemaker_program": "greedy.py"})
    job = tp.training.wait_for_training_job("mem-1", timeout=60)
    assert job["TrainingJobStatus"] == "Failed"
    assert "MemoryError" in job["FailureReason"]
    assert job["LocalResources"]["memory_mb_per_host"] == 4096


def test_training_runs_on_every_state_and_object_backend(tmp_path, state_url, objects_backend, breast_cancer_csv):
    from training_helpers import make_platform

    with make_platform(tmp_path / "home", state_url=state_url, **objects_backend) as p:
        p.storage.put_object("data", "train/train.csv", breast_cancer_csv[0])
        script_job(p, "any-1", "sklearn_train.py", hyperparameters={"n-estimators": "5"}, input_mode="FastFile")
        job = p.training.wait_for_training_job("any-1", timeout=120)
        assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
        model = joblib.load(model_files(p, job["ModelArtifacts"]["S3ModelArtifacts"], tmp_path / "m") / "model.joblib")
        assert model.n_estimators == 5


def test_log_offsets_past_the_end_read_nothing(tp):
    script_job(tp, "logs-1", "crash.py")
    tp.training.wait_for_training_job("logs-1", timeout=60)
    page = tp.training.get_training_job_logs("logs-1", start=2**70)
    assert page["Text"] == "" and page["Done"] is True


@pytest.mark.parametrize("rate", [float("inf"), float("nan"), -1, 1e9])
def test_spot_rates_that_are_not_finite_or_sensible_are_refused(tp, rate):
    with pytest.raises(ValidationError) as caught:
        script_job(tp, "rate-1", "crash.py", enable_managed_spot_training=True, spot_interruptions={"RatePerHour": rate})
    assert caught.value.field == "SpotInterruptions.RatePerHour"
