"""Console pages for pipelines: real executions read back as the HTML a person sees: the
pipelines with their executions, and an execution's DAG as an SVG (a box per step by
level, coloured by status, edges between them, branch edges labelled) with its steps,
job links and lineage, every user-chosen string escaped."""

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
from training_helpers import make_platform, source_tarball  # noqa: E402

from groundfog.api import create_app  # noqa: E402

HOSTILE = "<b>bold</b> & <script>alert(1)</script>"
HANDLERS = '''\
import json


def score(event, context):
    return {"accuracy": float(event["accuracy"])}


def echo(event, context):
    return {"out": json.dumps(event, sort_keys=True)}
'''
TRAIN_SCRIPT = b'import os\nopen(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write("m")\n'


def train_and_check(fn: dict[str, str]) -> dict[str, Any]:
    """Train (cached), Score the model, Check accuracy >= 0.8: Publish it, or fail with Message."""
    return {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "Accuracy", "Type": "Float", "DefaultValue": 0.9},
                       {"Name": "Message", "Type": "String", "DefaultValue": "too low"}],
        "Steps": [
            {"Name": "Train", "Type": "Training", "CacheConfig": {"Enabled": True, "ExpireAfter": "PT1H"}, "Arguments": {
                "AlgorithmSpecification": {"TrainingImage": "sklearn", "TrainingInputMode": "File"},
                "HyperParameters": {"sagemaker_program": "train.py", "sagemaker_submit_directory": "s3://code/pl/sourcedir.tar.gz"},
                "OutputDataConfig": {"S3OutputPath": "s3://models/pl"},
                "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
                "StoppingCondition": {"MaxRuntimeInSeconds": 120}}},
            {"Name": "Score", "Type": "Lambda", "FunctionArn": fn["score"],
             "Arguments": {"model": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}, "accuracy": {"Get": "Parameters.Accuracy"}},
             "OutputParameters": [{"OutputName": "accuracy", "OutputType": "Float"}]},
            {"Name": "Check", "Type": "Condition", "Arguments": {
                "Conditions": [{"Type": "GreaterThanOrEqualTo", "LeftValue": {"Get": "Steps.Score.OutputParameters['accuracy']"},
                                "RightValue": 0.8}],
                "IfSteps": [{"Name": "Publish", "Type": "Lambda", "FunctionArn": fn["echo"], "Arguments": {"ok": True},
                             "OutputParameters": [{"OutputName": "out"}]}],
                "ElseSteps": [{"Name": "TooLow", "Type": "Fail", "Arguments": {"ErrorMessage": {"Get": "Parameters.Message"}}}]}},
        ],
    }  # fmt: skip


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A platform with a succeeded execution, a failed one (its Train step a cache hit,
    its failure message hostile HTML) and one waiting for a callback."""
    root = tmp_path_factory.mktemp("pipeline-pages")
    (root / "handlers").mkdir()
    (root / "handlers" / "console_pipeline_handlers.py").write_text(HANDLERS)
    p = make_platform(root / "home")
    p.storage.put_object("code", "pl/sourcedir.tar.gz", source_tarball(("train.py", TRAIN_SCRIPT)))
    fn = {name: p.events.create_function(name=f"console-{name}", handler=f"console_pipeline_handlers:{name}",
                                         code_path=str(root / "handlers")).function_arn for name in ("score", "echo")}  # fmt: skip
    p.pipelines.upsert_pipeline(pipeline_name="train-check", pipeline_definition=train_and_check(fn),
                                pipeline_description="trains, scores, checks")  # fmt: skip
    p.pipelines.upsert_pipeline(pipeline_name="approval", pipeline_definition={"Steps": [
        {"Name": "Approve", "Type": "Callback", "Arguments": {}, "OutputParameters": [{"OutputName": "by"}]}]})  # fmt: skip
    p.executions = {}  # the test's own note of which execution is which
    for label, parameters in (("good", {}), ("bad", {"Accuracy": "0.1", "Message": HOSTILE})):
        arn = p.pipelines.start_pipeline_execution(pipeline_name="train-check", pipeline_parameters=parameters)["PipelineExecutionArn"]
        p.pipelines.wait_for_pipeline_execution(pipeline_execution_arn=arn, timeout=120)
        p.executions[label] = arn
    p.executions["waiting"] = p.pipelines.start_pipeline_execution(pipeline_name="approval")["PipelineExecutionArn"]
    _wait_for_step(p, p.executions["waiting"], "Approve")
    yield p
    p.pipelines.stop_pipeline_execution(pipeline_execution_arn=p.executions["waiting"])
    p.close()


def _wait_for_step(p: Any, arn: str, name: str) -> None:
    deadline = time.monotonic() + 30
    while not any(s["StepName"] == name for s in _steps(p, arn)):
        assert time.monotonic() < deadline, f"step {name} never started"
        time.sleep(0.05)


def _steps(p: Any, arn: str) -> list[dict[str, Any]]:
    return p.pipelines.list_pipeline_execution_steps(pipeline_execution_arn=arn, sort_order="Ascending")["PipelineExecutionSteps"]


@pytest.fixture(scope="module")
def http(platform: Any) -> Iterator[TestClient]:
    with TestClient(create_app(platform)) as client:
        yield client


def _id(arn: str) -> str:
    return arn.rsplit("/execution/", 1)[-1]


def _boxes(page: str) -> dict[str, str]:
    """Each step box of the DAG: its step name and its state class."""
    return {html.unescape(name): state for state, name in re.findall(r'<g class="step s-([\w]+)" data-step="([^"]+)"', page)}


def _box_positions(page: str) -> dict[str, tuple[float, float]]:
    found = re.findall(r'data-step="([^"]+)"><title>[^<]*</title><rect x="([\d.]+)" y="([\d.]+)"', page)
    return {name: (float(x), float(y)) for name, x, y in found}


def test_pipelines_page_lists_pipelines_and_links_their_executions(http, platform):
    page = http.get("/console/pipelines")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "<b>train-check</b>" in text and "trains, scores, checks" in text and "<b>approval</b>" in text
    for arn in platform.executions.values():
        assert f'<a href="/console/pipelines/executions/{_id(arn)}">{_id(arn)}</a>' in text
    links = re.findall(r'href="/console/pipelines/executions/(\w+)"', text)
    assert links[0] == _id(platform.executions["waiting"])  # newest first
    assert '<span class="status s-Succeeded">Succeeded</span>' in text and '<span class="status s-Failed">Failed</span>' in text
    assert '<meta http-equiv="refresh"' in text  # an execution is still running


def test_execution_page_draws_the_dag_by_level_coloured_by_status(http, platform):
    text = http.get(f"/console/pipelines/executions/{_id(platform.executions['good'])}").text
    svg = re.search(r'<svg[^>]*aria-label="pipeline DAG".*?</svg>', text, re.S).group(0)
    assert _boxes(svg) == {"Train": "Succeeded", "Score": "Succeeded", "Check": "Succeeded", "Publish": "Succeeded",
                           "TooLow": "NotTaken"}  # fmt: skip
    x = {name: pos[0] for name, pos in _box_positions(svg).items()}
    assert x["Train"] < x["Score"] < x["Check"] < x["Publish"] == x["TooLow"]  # one column per level
    assert svg.count('class="edge"') == 4  # Train→Score→Check→{Publish, TooLow}
    assert re.search(r'<text class="edge-label"[^>]*>true</text>', svg) and re.search(r'<text class="edge-label"[^>]*>false</text>', svg)
    assert 'fill="#dcf2e3"' in svg and 'stroke-dasharray="5 3"' in svg  # green boxes; the branch not taken dashed


def test_execution_page_links_the_training_job_and_lists_steps_and_lineage(http, platform):
    arn = platform.executions["good"]
    text = http.get(f"/console/pipelines/executions/{_id(arn)}").text
    job = next(s for s in _steps(platform, arn) if s["StepName"] == "Train")["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1]
    assert f'<a href="/console/training/{job}">{job}</a>' in text
    assert platform.training.describe_training_job(job)["TrainingJobStatus"] == "Completed"
    rows = re.findall(r"<tr><td><b>(\w+)</b></td><td>(\w+)</td><td><span class=\"status s-(\w+)\">", text)
    assert rows == [("Train", "Training", "Succeeded"), ("Score", "Lambda", "Succeeded"), ("Check", "Condition", "Succeeded"),
                    ("Publish", "Lambda", "Succeeded")]  # fmt: skip
    model = platform.training.describe_training_job(job)["ModelArtifacts"]["S3ModelArtifacts"]
    assert f"<td>Train</td><td>Produced</td><td>Model</td><td><code>{model}</code></td>" in text
    assert "<code>Accuracy=0.9</code>" in text and '<meta http-equiv="refresh"' not in text


def test_a_failed_execution_shows_the_escaped_reason_the_cache_hit_and_the_failed_box(http, platform):
    good, bad = _id(platform.executions["good"]), _id(platform.executions["bad"])
    text = http.get(f"/console/pipelines/executions/{bad}").text
    assert "<script>alert(1)</script>" not in text and "<b>bold</b>" not in text
    assert html.escape(HOSTILE) in text
    assert '<p class="failure">' in text
    assert _boxes(text)["TooLow"] == "Failed" and _boxes(text)["Publish"] == "NotTaken"
    assert f'cached from <a href="/console/pipelines/executions/{good}">{good}</a>' in text
    assert "Succeeded (cached)" in text  # the Train box
    assert "<script>" not in http.get("/console/pipelines").text


def test_a_running_execution_reloads_itself_and_shows_the_callback_token(http, platform):
    arn = platform.executions["waiting"]
    text = http.get(f"/console/pipelines/executions/{_id(arn)}").text
    token = _steps(platform, arn)[0]["Metadata"]["Callback"]["CallbackToken"]
    assert '<meta http-equiv="refresh"' in text
    assert _boxes(text) == {"Approve": "Executing"}
    assert f"<code>{token}</code>" in text


def test_unknown_execution_answers_404_with_a_readable_page(http):
    page = http.get("/console/pipelines/executions/0a1b2c3d4e5f")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Not found" in page.text and "0a1b2c3d4e5f" in page.text
    page = http.get("/console/pipelines/executions/%3Cscript%3Ex")
    assert page.status_code == 404 and "<script>x" not in page.text


def test_home_page_and_navigation_link_to_pipelines(http, platform):
    assert 'href="/console/pipelines"' in http.get("/").text
    assert 'href="/console/pipelines"' in http.get(f"/console/pipelines/executions/{_id(platform.executions['good'])}").text
