"""Console pages for training, processing and tuning jobs: real jobs, read back as the
HTML a person sees: tables, a training curve per metric, a leaderboard, escaped text."""

from __future__ import annotations

import html
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parents[1] / "training"))
from training_helpers import SCRIPTS, make_platform, script_job, source_tarball  # noqa: E402

from groundfog.api import create_app  # noqa: E402
from groundfog.console.charts import MAX_POINTS, line_chart  # noqa: E402

CURVE_METRICS = [{"Name": "validation:loss", "Regex": r"validation-loss=([0-9.e+-]+)"}, {"Name": "epoch", "Regex": r"epoch=([0-9]+)"}]
HOSTILE = "<b>bold</b> & <script>alert(1)</script>"


@pytest.fixture(scope="module")
def jobs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A platform with a finished curve job, a failed job, a processing job and a tuning job."""
    p = make_platform(tmp_path_factory.mktemp("console") / "home")
    p.storage.put_object("data", "train/train.csv", b"a,b\n1,2\n")
    script_job(p, "curve-1", "curve.py", hyperparameters={"learning-rate": "0.1", "epochs": "7"}, metric_definitions=CURVE_METRICS)
    p.storage.put_object("code", "bad/sourcedir.tar.gz", source_tarball(("bad.py", f"raise ValueError({HOSTILE!r})\n".encode())))
    p.training.create_training_job(
        training_job_name="bad-1",
        algorithm_specification={"TrainingImage": "sklearn", "TrainingInputMode": "File"},
        hyper_parameters={"sagemaker_program": "bad.py", "sagemaker_submit_directory": "s3://code/bad/sourcedir.tar.gz"},
        input_data_config=[{"ChannelName": "train", "DataSource": {"S3DataSource": {"S3Uri": "s3://data/train/"}}}],
        output_data_config={"S3OutputPath": "s3://models/out"},
        resource_config={"InstanceType": "ml.m5.large", "InstanceCount": 1},
    )  # fmt: skip
    p.storage.put_object("code", "prep-1/script.py", b'print("prepared", flush=True)\n')
    p.processing.create_processing_job(
        processing_job_name="prep-1",
        app_specification={"ImageUri": "sklearn", "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/script.py"]},
        processing_resources={"ClusterConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1}},
        processing_inputs=[{"InputName": "code", "S3Input": {"S3Uri": "s3://code/prep-1/script.py", "LocalPath": "/opt/ml/processing/input/code"}}],
        processing_output_config={"Outputs": []},
    )  # fmt: skip
    p.storage.put_object("code", "tune/curve.tar.gz", source_tarball(SCRIPTS / "curve.py"))
    p.tuning.create_hyper_parameter_tuning_job(
        hyper_parameter_tuning_job_name="curve-hpo",
        hyper_parameter_tuning_job_config={
            "Strategy": "Random", "RandomSeed": 4,
            "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "validation:loss"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 3, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": {"ContinuousParameterRanges": [{"Name": "learning-rate", "MinValue": "0.01", "MaxValue": "0.9"}]},
        },
        training_job_definition={
            "StaticHyperParameters": {"sagemaker_program": "curve.py", "sagemaker_submit_directory": "s3://code/tune/curve.tar.gz", "epochs": "3"},
            "AlgorithmSpecification": {"TrainingImage": "sklearn", "TrainingInputMode": "File", "MetricDefinitions": CURVE_METRICS[:1]},
            "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {"S3Uri": "s3://data/train/"}}}],
            "OutputDataConfig": {"S3OutputPath": "s3://models/tuning"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
            "StoppingCondition": {"MaxRuntimeInSeconds": 300},
        },
    )  # fmt: skip
    assert p.training.wait_for_training_job("curve-1", timeout=120)["TrainingJobStatus"] == "Completed"
    assert p.training.wait_for_training_job("bad-1", timeout=120)["TrainingJobStatus"] == "Failed"
    assert p.processing.wait_for_processing_job("prep-1", timeout=120)["ProcessingJobStatus"] == "Completed"
    assert p.tuning.wait_for_hyper_parameter_tuning_job("curve-hpo", timeout=300)["HyperParameterTuningJobStatus"] == "Completed"
    yield p
    p.close()


@pytest.fixture(scope="module")
def http(jobs: Any) -> Iterator[TestClient]:
    with TestClient(create_app(jobs)) as client:
        yield client


def _polylines(page: str) -> dict[str, int]:
    """Each polyline's title (its metric) and how many points it has."""
    found = re.findall(r'<polyline[^>]*points="([^"]*)"[^>]*><title>([^<]*)</title>', page)
    return {html.unescape(title): len(points.split()) for points, title in found}


def test_list_page_shows_training_processing_and_tuning_jobs_with_links(http, jobs):
    page = http.get("/console/training")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert '<a href="/console/training/curve-1">curve-1</a>' in text
    assert '<a href="/console/training/bad-1">bad-1</a>' in text
    assert "ml.m5.large &times; 1" in text and "ml.m5.xlarge &times; 1" in text
    assert "validation:loss = " in text and "prep-1" in text
    assert '<a href="/console/tuning/curve-hpo">curve-hpo</a>' in text
    trials = jobs.tuning.list_training_jobs_for_hyper_parameter_tuning_job("curve-hpo")["TrainingJobSummaries"]
    for trial in trials:
        assert f'href="/console/training/{trial["TrainingJobName"]}"' in text


def test_training_job_page_draws_a_polyline_per_metric_with_a_point_per_value(http, jobs):
    page = http.get("/console/training/curve-1")
    assert page.status_code == 200
    assert "<svg" in page.text
    series = jobs.training.get_training_job_metrics("curve-1")
    assert len(series["validation:loss"]) == 7
    assert _polylines(page.text) == {metric: len(values) for metric, values in series.items()}
    assert 'class="y-max">64<' in page.text  # the first loss, 10 -> 8 after one step: 8**2


def test_training_job_page_shows_timeline_resources_cost_artifact_and_log_tail(http, jobs):
    job = jobs.training.describe_training_job("curve-1")
    text = http.get("/console/training/curve-1").text
    statuses = re.findall(r'<tr><td><span class="status s-(\w+)">', text)
    assert statuses == [t["Status"] for t in job["SecondaryStatusTransitions"]]
    assert html.escape(job["LocalResources"]["note"]) in text
    assert "cost</dt>" in text and "/hour" in text
    assert job["ModelArtifacts"]["S3ModelArtifacts"] in text
    log = re.search(r'<pre class="log">(.*?)</pre>', text, re.S).group(1)
    assert "epoch=6 validation-loss=" in log and "Training job completed" in log


def test_failure_reason_and_log_are_escaped_and_a_job_without_metrics_says_so(http):
    for url in ("/console/training/bad-1", "/console/training"):
        text = http.get(url).text
        assert "<script>alert(1)</script>" not in text and "<b>bold</b>" not in text
        assert html.escape(HOSTILE) in text
    text = http.get("/console/training/bad-1").text
    assert '<p class="failure">' in text and "ValueError" in text
    assert "no metric definitions" in text and "<polyline" not in text


def test_unknown_names_answer_404_with_a_readable_page(http):
    for url in ("/console/training/no-such-job", "/console/tuning/no-such-job"):
        page = http.get(url)
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")
        assert "Not found" in page.text and "no-such-job" in page.text
    page = http.get("/console/training/%3Cscript%3Ex")
    assert page.status_code == 404 and "<script>x" not in page.text


def test_tuning_page_shows_the_leaderboard_and_the_objective_of_every_trial(http, jobs):
    page = http.get("/console/tuning/curve-hpo")
    assert page.status_code == 200
    best = jobs.tuning.describe_hyper_parameter_tuning_job("curve-hpo")["BestTrainingJob"]
    trials = jobs.tuning.list_training_jobs_for_hyper_parameter_tuning_job("curve-hpo")["TrainingJobSummaries"]
    rows = re.findall(r'<tr(?: class="best")?><td class="num">([^<]*)</td><td><a href="/console/training/([^"]+)"', page.text)
    assert [name for _, name in rows] == [t["TrainingJobName"] for t in trials]
    assert rows[0] == ("1", best["TrainingJobName"])
    assert f'<tr class="best"><td class="num">1</td><td><a href="/console/training/{best["TrainingJobName"]}"' in page.text
    assert "learning-rate=" in page.text and "<th>validation:loss</th>" in page.text
    scatter = re.search(r'<svg[^>]*aria-label="objective by trial".*?</svg>', page.text, re.S).group(0)
    assert scatter.count("<circle") == len(trials)
    assert scatter.count('class="best"') == 1 and best["TrainingJobName"] in scatter


def test_running_job_page_reloads_itself_and_shows_the_log_so_far(http, jobs):
    script_job(jobs, "sleepy-1", "sleepy.py")
    try:
        deadline = time.time() + 30
        while "tick 1" not in jobs.training.get_training_job_logs("sleepy-1")["Text"]:
            assert time.time() < deadline, "the script never started"
            time.sleep(0.1)
        text = http.get("/console/training/sleepy-1").text
        assert '<meta http-equiv="refresh"' in text
        assert "tick 1" in text and "still writing" in text and ">running<" in text
        assert '<meta http-equiv="refresh"' not in http.get("/console/training/curve-1").text
    finally:
        jobs.training.stop_training_job("sleepy-1")
        jobs.training.wait_for_training_job("sleepy-1", timeout=60)


def test_home_page_links_to_the_jobs_and_counts_them(http, jobs):
    text = http.get("/").text
    assert 'href="/console/training"' in text
    n_training = len(jobs.training.list_training_jobs()["TrainingJobSummaries"])
    assert f"<b>{n_training}</b>training jobs" in text
    assert "<b>1</b>processing jobs" in text and "<b>1</b>tuning jobs" in text


def test_a_single_value_is_drawn_as_a_dot_and_long_series_are_thinned():
    single = line_chart({"accuracy": [0.9]})
    assert _polylines(single) == {"accuracy": 1} and "<circle" in single
    long = line_chart({"loss": [1.0 / (i + 1) for i in range(3 * MAX_POINTS)]})
    assert _polylines(long)["loss"] <= MAX_POINTS + 1
    assert "evenly spaced" in long
    flat = line_chart({"loss": [2.0, 2.0, float("nan"), 2.0]})
    assert _polylines(flat) == {"loss": 3}  # a value that is not a number is left out
