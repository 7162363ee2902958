"""Job steps from the training SDK's objects: a ``PipelineSession`` turns ``fit()`` /
``run()`` into step arguments, and code goes to content-addressed places so that the
same code gives the same arguments (cache hits) and changed code gives new ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sdk_helpers import CODE_URI, PREPROCESS, TRAIN, Matches, make_platform, write_script

import groundfog as gf
from groundfog.pipelines.sdk import (
    ParameterString,
    PipelineSession,
    ProcessingStep,
    StepArguments,
    TrainingStep,
    TuningStep,
)


@pytest.fixture
def platform(tmp_path: Path):
    p = make_platform(tmp_path / "home")
    yield p
    p.close()


def _outputs() -> list:
    return [gf.ProcessingOutput(source="/opt/ml/processing/train", output_name="train"),
            gf.ProcessingOutput(source="/opt/ml/processing/test", destination="s3://data/split/test", output_name="test")]  # fmt: skip


def test_fit_under_a_pipeline_session_returns_step_arguments_and_starts_no_job(platform, tmp_path):
    script = write_script(tmp_path, "train.py", TRAIN)
    session = PipelineSession(platform=platform)
    estimator = gf.SKLearn(entry_point=script, hyperparameters={"c": 0.5}, sagemaker_session=session)

    step_args = estimator.fit({"train": "s3://data/train/"})

    assert isinstance(step_args, StepArguments) and step_args.step_type == "Training"
    assert platform.training.list_training_jobs()["TrainingJobSummaries"] == []
    by_session = TrainingStep("Train", step_args=step_args)
    positional = TrainingStep("Train", step_args)
    direct = TrainingStep("Train", estimator=gf.SKLearn(entry_point=script, hyperparameters={"c": 0.5}, platform=platform),
                          inputs={"train": "s3://data/train/"})  # fmt: skip
    assert by_session.arguments == positional.arguments == direct.arguments
    assert "TrainingJobName" not in direct.arguments and direct.arguments["OutputDataConfig"] == {}
    assert step_args.request["HyperParameters"]["c"] == "0.5"


def test_run_under_a_pipeline_session_returns_processing_step_arguments(platform, tmp_path):
    script = write_script(tmp_path, "preprocess.py", PREPROCESS)
    session = PipelineSession(platform=platform)
    inputs = [gf.ProcessingInput(source="s3://data/raw/", destination="/opt/ml/processing/input")]

    step_args = gf.SKLearnProcessor(sagemaker_session=session).run(code=script, inputs=inputs, outputs=_outputs(),
                                                                  arguments=["--test-size", 0.3])  # fmt: skip
    direct = ProcessingStep("Prep", processor=gf.SKLearnProcessor(platform=platform), code=script, inputs=inputs,
                            outputs=_outputs(), job_arguments=["--test-size", 0.3])  # fmt: skip

    assert platform.processing.list_processing_jobs()["ProcessingJobSummaries"] == []
    assert ProcessingStep("Prep", step_args=step_args).arguments == direct.arguments
    outputs = direct.arguments["ProcessingOutputConfig"]["Outputs"]
    assert outputs[0]["S3Output"] == {"LocalPath": "/opt/ml/processing/train", "S3UploadMode": "EndOfJob"}
    assert outputs[1]["S3Output"]["S3Uri"] == "s3://data/split/test"
    assert direct.arguments["AppSpecification"]["ContainerArguments"] == ["--test-size", "0.3"]
    plain = gf.Processor(entrypoint=["python3", "-c", "print(1)"], sagemaker_session=session).run()
    assert ProcessingStep("Plain", step_args=plain).arguments["AppSpecification"]["ContainerEntrypoint"][0] == "python3"


def test_tuner_fit_under_a_pipeline_session_returns_tuning_step_arguments(platform, tmp_path):
    estimator = gf.SKLearn(entry_point=write_script(tmp_path, "train.py", TRAIN), sagemaker_session=PipelineSession(platform))
    tuner = gf.HyperparameterTuner(estimator, objective_metric_name="acc", hyperparameter_ranges={"c": gf.ContinuousParameter(0.1, 1)},
                                   metric_definitions=[{"Name": "acc", "Regex": "train_accuracy=([0-9.]+)"}], max_jobs=2)  # fmt: skip

    step = TuningStep("Tune", step_args=tuner.fit({"train": "s3://data/train/"}))

    assert step.arguments["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxNumberOfTrainingJobs"] == 2
    assert platform.tuning.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"] == []


def test_step_arguments_must_match_the_step_and_come_alone(platform, tmp_path):
    session = PipelineSession(platform=platform)
    training_args = gf.SKLearn(entry_point=write_script(tmp_path, "train.py", TRAIN), sagemaker_session=session).fit()

    with pytest.raises(TypeError, match="processing job call"):
        ProcessingStep("Prep", step_args=training_args)
    with pytest.raises(ValueError, match="not both"):
        TrainingStep("Train", step_args=training_args, inputs={"train": "s3://data/train/"})
    with pytest.raises(ValueError, match="needs estimator"):
        TrainingStep("Train")
    with pytest.raises(ValueError, match="ScriptProcessor"):
        ProcessingStep("Prep", processor=gf.Processor(entrypoint=["true"]), code="x.py")


def test_parameters_and_properties_pass_through_the_training_sdk_untouched(platform, tmp_path):
    data = ParameterString("Data", default_value="s3://data/train/")
    instance = ParameterString("Instance", default_value="ml.m5.large")
    estimator = gf.SKLearn(entry_point=write_script(tmp_path, "train.py", TRAIN), instance_type=instance,
                           environment={"DATA": data}, platform=platform)  # fmt: skip

    arguments = TrainingStep("Train", estimator=estimator, inputs=data).arguments  # a bare value is the "training" channel

    assert arguments["ResourceConfig"]["InstanceType"] == {"Get": "Parameters.Instance"}
    assert arguments["Environment"] == {"DATA": {"Get": "Parameters.Data"}}
    channel = arguments["InputDataConfig"][0]
    assert channel["ChannelName"] == "training" and channel["DataSource"]["S3DataSource"]["S3Uri"] == {"Get": "Parameters.Data"}
    processing = ProcessingStep("Prep", processor=gf.SKLearnProcessor(platform=platform),
                                code=write_script(tmp_path, "preprocess.py", PREPROCESS),
                                outputs=[gf.ProcessingOutput(source="/opt/ml/processing/out", destination=data)],
                                job_arguments=["--data", data])  # fmt: skip
    assert processing.arguments["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] == {"Get": "Parameters.Data"}
    assert processing.arguments["AppSpecification"]["ContainerArguments"] == ["--data", {"Get": "Parameters.Data"}]


# -- content-addressed code -----------------------------------------------------------------------


def _training_arguments(platform, source_dir: Path) -> dict:
    estimator = gf.SKLearn(entry_point="train.py", source_dir=str(source_dir), platform=platform)
    return TrainingStep("Train", estimator=estimator, inputs="s3://data/train/").arguments


def test_the_same_code_gives_the_same_arguments_and_changed_code_new_ones(platform, tmp_path):
    write_script(tmp_path / "a", "train.py", TRAIN)
    write_script(tmp_path / "a" / "lib", "util.py", "X = 1\n")
    write_script(tmp_path / "b", "train.py", TRAIN)
    write_script(tmp_path / "b" / "lib", "util.py", "X = 1\n")

    first = _training_arguments(platform, tmp_path / "a")
    assert _training_arguments(platform, tmp_path / "a") == first  # packed again, same place
    assert _training_arguments(platform, tmp_path / "b") == first  # same files elsewhere, same place
    submit = json.loads(first["HyperParameters"]["sagemaker_submit_directory"])
    assert submit == Matches(CODE_URI + "sourcedir.tar.gz")

    write_script(tmp_path / "b" / "lib", "util.py", "X = 2\n")
    changed = _training_arguments(platform, tmp_path / "b")
    assert changed["HyperParameters"]["sagemaker_submit_directory"] != first["HyperParameters"]["sagemaker_submit_directory"]


def test_a_processing_script_goes_to_a_place_named_by_its_content(platform, tmp_path):
    def code_uri(text: str, directory: str) -> str:
        step = ProcessingStep("Prep", processor=gf.SKLearnProcessor(platform=platform),
                              code=write_script(tmp_path / directory, "preprocess.py", text))  # fmt: skip
        return step.arguments["ProcessingInputs"][-1]["S3Input"]["S3Uri"]

    first = code_uri(PREPROCESS, "one")
    assert first == Matches(CODE_URI + "preprocess.py")
    assert code_uri(PREPROCESS, "two") == first
    assert code_uri(PREPROCESS + "print('changed')\n", "two") != first


def test_local_processing_inputs_are_uploaded_by_content(platform, tmp_path):
    data = tmp_path / "local-data"
    data.mkdir()
    (data / "rows.csv").write_text("x,y\n1,0\n")
    step = ProcessingStep("Prep", processor=gf.Processor(entrypoint=["true"], platform=platform),
                          inputs=[gf.ProcessingInput(source=str(data), destination="/opt/ml/processing/input")])  # fmt: skip

    uri = step.arguments["ProcessingInputs"][0]["S3Input"]["S3Uri"]

    assert uri == Matches(r"s3://sagemaker-local-000000000000/pipelines/input/[0-9a-f]{64}/")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    assert platform.storage.get_object_bytes(bucket, key + "rows.csv") == b"x,y\n1,0\n"
