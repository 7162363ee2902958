"""``groundfog pipelines ...`` on the embedded platform: pipelines upserted from JSON and
Python files, executions started, waited for, watched, listed, stopped, retried and
called back, with exit codes that say how the execution ended and one-line errors."""

from __future__ import annotations

import json
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

import groundfog as gf
from groundfog.cli.common import close_platform
from groundfog.cli.main import app
from groundfog.pipelines.cli_view import render_execution

HANDLERS = '''\
import json
from pathlib import Path


def score(event, context):
    return {"accuracy": float(event["accuracy"])}


def echo(event, context):
    return {"out": json.dumps(event, sort_keys=True)}


def flaky(event, context):
    if not Path(event["ready_file"]).exists():
        raise RuntimeError("not ready yet")
    return {}
'''


def quality(fn: dict[str, str]) -> dict[str, Any]:
    """Score, then Check accuracy >= Threshold: Publish if so, else the TooLow Fail step."""
    return {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "Threshold", "Type": "Float", "DefaultValue": 0.8},
                       {"Name": "InputUri", "Type": "String", "DefaultValue": "s3://data/in.csv"}],
        "Steps": [
            {"Name": "Score", "Type": "Lambda", "FunctionArn": fn["score"], "Arguments": {"accuracy": 0.9},
             "OutputParameters": [{"OutputName": "accuracy", "OutputType": "Float"}]},
            {"Name": "Check", "Type": "Condition", "Arguments": {
                "Conditions": [{"Type": "GreaterThanOrEqualTo", "LeftValue": {"Get": "Steps.Score.OutputParameters['accuracy']"},
                                "RightValue": {"Get": "Parameters.Threshold"}}],
                "IfSteps": [{"Name": "Publish", "Type": "Lambda", "FunctionArn": fn["echo"], "Arguments": {"uri": {"Get": "Parameters.InputUri"}},
                             "OutputParameters": [{"OutputName": "out"}]}],
                "ElseSteps": [{"Name": "TooLow", "Type": "Fail", "Arguments": {"ErrorMessage": {"Std:Join": {
                    "On": " ", "Values": ["accuracy is below", {"Get": "Parameters.Threshold"}]}}}}]}},
        ],
    }  # fmt: skip


def approval(fn: dict[str, str]) -> dict[str, Any]:
    """A Callback step that waits for a person, then a step that uses what they sent."""
    return {"Version": "2020-12-01", "Parameters": [], "Steps": [
        {"Name": "Approve", "Type": "Callback", "Arguments": {"model": "m-1"},
         "OutputParameters": [{"OutputName": "approver", "OutputType": "String"}]},
        {"Name": "Record", "Type": "Lambda", "FunctionArn": fn["echo"],
         "Arguments": {"approver": {"Get": "Steps.Approve.OutputParameters['approver']"}},
         "OutputParameters": [{"OutputName": "out"}]},
    ]}  # fmt: skip


def flaky(fn: dict[str, str], ready_file: Path) -> dict[str, Any]:
    return {"Version": "2020-12-01", "Parameters": [], "Steps": [
        {"Name": "Prepare", "Type": "Lambda", "FunctionArn": fn["score"], "Arguments": {"accuracy": 1}},
        {"Name": "Flaky", "Type": "Lambda", "FunctionArn": fn["flaky"], "Arguments": {"ready_file": str(ready_file)},
         "DependsOn": ["Prepare"]},
    ]}  # fmt: skip


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("GROUNDFOG_HOME", str(home))
    monkeypatch.setenv("COLUMNS", "200")  # rich lays tables out for a wide terminal, not 80 columns
    monkeypatch.delenv("GROUNDFOG_URL", raising=False)
    monkeypatch.delenv("GROUNDFOG_STATE_URL", raising=False)
    return home


@pytest.fixture
def fn(home: Path, tmp_path: Path) -> dict[str, str]:
    """The handlers of ``HANDLERS`` as functions ``cli-<name>``: {name: function ARN}."""
    code = tmp_path / "handlers"
    code.mkdir()
    (code / "cli_pipeline_handlers.py").write_text(HANDLERS)
    with gf.Platform(home=home) as p:
        return {name: p.events.create_function(name=f"cli-{name}", handler=f"cli_pipeline_handlers:{name}",
                                               code_path=str(code)).function_arn
                for name in ("score", "echo", "flaky")}  # fmt: skip


@pytest.fixture
def run(home: Path):
    cli = CliRunner()

    def invoke(*args: str):
        try:
            return cli.invoke(app, list(args))
        finally:
            close_platform()

    return invoke


@pytest.fixture
def upserted(run, fn, tmp_path: Path):
    """``name`` upserted from a JSON file holding ``document``."""

    def upsert(name: str, document: dict[str, Any]) -> None:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(document))
        result = run("pipelines", "upsert", str(path))
        assert result.exit_code == 0, result.output

    return upsert


def _execution_id(text: str) -> str:
    arn = next(line for line in text.splitlines() if "/execution/" in line).strip()
    return arn.rsplit("/execution/", 1)[-1]


def _steps(run, execution: str) -> dict[str, dict[str, Any]]:
    result = run("pipelines", "list-steps", execution, "--json")
    assert result.exit_code == 0, result.output
    return {s["StepName"]: s for s in json.loads(result.stdout)["PipelineExecutionSteps"]}


def _one_line_error(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


# -- upsert ----------------------------------------------------------------------------------


def test_upsert_json_names_the_pipeline_after_the_file_and_a_changed_definition_is_a_new_version(run, fn, tmp_path):
    path = tmp_path / "quality.json"
    path.write_text(json.dumps(quality(fn)))
    first = run("pipelines", "upsert", str(path), "--description", "scores and checks")
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == "arn:groundfog:pipelines:local:000000000000:pipeline/quality (version 1)"

    changed = quality(fn)
    changed["Parameters"][0]["DefaultValue"] = 0.5
    path.write_text(json.dumps(changed))
    second = run("pipelines", "upsert", str(path), "--json")
    assert json.loads(second.stdout) == {"PipelineArn": "arn:groundfog:pipelines:local:000000000000:pipeline/quality",
                                         "PipelineVersionId": 2}  # fmt: skip
    versions = json.loads(run("pipelines", "versions", "quality", "--json").stdout)["PipelineVersionSummaries"]
    assert [v["PipelineVersionId"] for v in versions] == [2, 1]
    described = json.loads(run("pipelines", "describe", "quality", "--json").stdout)
    assert described["PipelineDescription"] == "scores and checks"
    assert json.loads(described["PipelineDefinition"]) == changed
    listed = json.loads(run("pipelines", "list", "--json").stdout)["PipelineSummaries"]
    assert [p["PipelineName"] for p in listed] == ["quality"]


def test_upsert_json_takes_the_name_from_the_name_option(run, fn, tmp_path):
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(quality(fn)))
    result = run("pipelines", "upsert", str(path), "--name", "nightly-quality")
    assert result.exit_code == 0, result.output
    assert "pipeline/nightly-quality (version 1)" in result.stdout


def test_upsert_py_runs_the_file_with_its_directory_importable_and_takes_its_pipeline(run, fn, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "quality_document.py").write_text(f"DOCUMENT = {json.dumps(quality(fn))!r}\n")
    (project / "pipeline.py").write_text(textwrap.dedent('''\
        from quality_document import DOCUMENT  # a module beside the file

        class Pipeline:
            def __init__(self, name):
                self.name = name

            def definition(self):
                return DOCUMENT

        pipeline = Pipeline("from-python")
        if __name__ == "__main__":
            raise SystemExit("the file is loaded, not run as a script")
        '''))
    path_before = list(sys.path)

    result = run("pipelines", "upsert", str(project / "pipeline.py"), "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["PipelineArn"].endswith(":pipeline/from-python")
    assert sys.path == path_before
    described = json.loads(run("pipelines", "describe", "from-python", "--json").stdout)
    assert json.loads(described["PipelineDefinition"]) == quality(fn)


def test_upsert_py_uses_get_pipeline_and_name_chooses_among_several(run, fn, tmp_path):
    document = json.dumps(quality(fn))
    path = tmp_path / "pipelines.py"
    path.write_text(textwrap.dedent(f'''\
        class Pipeline:
            def __init__(self, name):
                self.name = name

            def definition(self):
                return {document!r}

        train = Pipeline("train-only")

        def get_pipeline():
            return Pipeline("full")
        '''))
    several = run("pipelines", "upsert", str(path))
    assert several.exit_code == 2
    assert "several pipelines (train-only, full); choose one with --name" in _one_line_error(several)

    chosen = run("pipelines", "upsert", str(path), "--name", "full")
    assert chosen.exit_code == 0, chosen.output
    assert "pipeline/full (version 1)" in chosen.stdout
    unknown = run("pipelines", "upsert", str(path), "--name", "nope")
    assert "no pipeline named 'nope'; it defines train-only, full" in _one_line_error(unknown)


def test_upsert_py_that_defines_no_pipeline_or_raises_is_a_one_line_error(run, tmp_path):
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    result = run("pipelines", "upsert", str(empty))
    assert result.exit_code == 2
    assert f"{empty} defines no pipeline" in _one_line_error(result)

    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('no data today')\n")
    result = run("pipelines", "upsert", str(broken))
    assert result.exit_code == 2
    assert _one_line_error(result) == f"error: {broken} failed: RuntimeError: no data today"


# -- start, wait, watch ----------------------------------------------------------------------


def test_start_wait_prints_the_arn_and_exits_zero_when_the_execution_succeeds(run, upserted, fn):
    upserted("quality", quality(fn))

    result = run("pipelines", "start", "quality", "--wait")

    assert result.exit_code == 0, result.output
    arn, status = result.stdout.strip().splitlines()
    assert arn.startswith("arn:groundfog:pipelines:local:000000000000:pipeline/quality/execution/")
    assert status == "Succeeded"
    steps = _steps(run, arn)
    assert {name: s["StepStatus"] for name, s in steps.items()} == {"Score": "Succeeded", "Check": "Succeeded",
                                                                    "Publish": "Succeeded"}  # fmt: skip


def test_start_wait_exits_non_zero_with_the_failure_reason_when_the_execution_fails(run, upserted, fn):
    upserted("quality", quality(fn))

    result = run("pipelines", "start", "quality", "--parameter", "Threshold=0.95", "--display-name", "strict", "--wait")

    assert result.exit_code == 1
    assert result.stdout.strip().splitlines()[-1] == "Failed"
    assert _one_line_error(result).endswith(" failed: accuracy is below 0.95")
    described = json.loads(run("pipelines", "describe-execution", _execution_id(result.stdout), "--json").stdout)
    assert described["PipelineExecutionDisplayName"] == "strict"
    assert {"Name": "Threshold", "Value": "0.95"} in described["PipelineParameters"]


def test_start_wait_json_prints_only_the_final_description(run, upserted, fn):
    upserted("quality", quality(fn))
    result = run("pipelines", "start", "quality", "--wait", "--json")
    assert result.exit_code == 0, result.output
    described = json.loads(result.stdout)
    assert described["PipelineExecutionStatus"] == "Succeeded"


def test_list_steps_shows_status_attempts_and_the_function_of_each_step(run, upserted, fn):
    upserted("quality", quality(fn))
    execution = _execution_id(run("pipelines", "start", "quality", "-p", "Threshold=0.95", "--wait").stdout)

    result = run("pipelines", "list-steps", execution)

    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.split()[:1] in (["Score"], ["Check"], ["TooLow"])}
    assert list(lines) == ["Score", "Check", "TooLow"]  # in the order they started
    assert "Lambda" in lines["Score"] and "Succeeded" in lines["Score"] and "function/cli-score" in lines["Score"]
    assert "Condition" in lines["Check"] and "Succeeded" in lines["Check"]
    assert "Failed" in lines["TooLow"] and "accuracy is below 0.95" in lines["TooLow"]
    assert "Publish" not in result.stdout  # the branch not taken never started


def test_list_executions_lineage_and_definition_of_an_execution(run, upserted, fn):
    upserted("quality", quality(fn))
    first = _execution_id(run("pipelines", "start", "quality", "--wait").stdout)
    second = _execution_id(run("pipelines", "start", "quality", "-p", "Threshold=0.99", "--wait").stdout)

    listed = run("pipelines", "list-executions", "quality")
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.index(second) < listed.stdout.index(first)  # newest first
    assert "accuracy is below 0.99" in listed.stdout

    lineage = json.loads(run("pipelines", "lineage", first, "--json").stdout)["LineageEntries"]
    assert {"Direction": "Read", "Kind": "Parameter", "Uri": "s3://data/in.csv"}.items() <= lineage[0].items()
    assert "s3://data/in.csv" in run("pipelines", "lineage", first).stdout

    definition = run("pipelines", "definition", first)
    assert definition.exit_code == 0, definition.output
    assert json.loads(definition.stdout) == quality(fn)


def test_watch_of_a_finished_execution_draws_its_dag_and_exits_with_how_it_ended(run, upserted, fn):
    upserted("quality", quality(fn))
    passed = _execution_id(run("pipelines", "start", "quality", "--wait").stdout)
    failed = _execution_id(run("pipelines", "start", "quality", "-p", "Threshold=0.95", "--wait").stdout)

    ok = run("pipelines", "watch", passed)
    assert ok.exit_code == 0, ok.output
    assert f"quality · execution {passed} · Succeeded" in ok.stdout
    rows = [line.split() for line in ok.stdout.splitlines() if line.split()[1:2] in (["Score"], ["Check"], ["Publish"], ["TooLow"])]
    assert [(r[0], r[1]) for r in rows] == [("✓", "Score"), ("✓", "Check"), ("✓", "Publish"), ("–", "TooLow")]
    assert "not taken" in ok.stdout and "if Check is false" in ok.stdout

    bad = run("pipelines", "watch", failed)
    assert bad.exit_code == 1
    assert f"execution {failed} · Failed" in bad.stdout
    assert "✗" in bad.stdout and "Failure reason: accuracy is below 0.95" in bad.stdout
    assert _one_line_error(bad).endswith("failed: accuracy is below 0.95")
    as_json = run("pipelines", "watch", failed, "--json")
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["PipelineExecutionStatus"] == "Failed"


def test_start_watch_follows_the_execution_to_its_end(run, upserted, fn):
    upserted("quality", quality(fn))
    result = run("pipelines", "start", "quality", "--watch")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("arn:groundfog:pipelines:")
    assert "· Succeeded" in result.stdout and "Publish" in result.stdout


# -- stop, retry, callbacks ------------------------------------------------------------------


def test_retry_runs_the_failed_step_again_and_keeps_what_succeeded(run, upserted, fn, tmp_path):
    ready = tmp_path / "ready"
    upserted("flaky", flaky(fn, ready))
    failed = run("pipelines", "start", "flaky", "--wait")
    assert failed.exit_code == 1
    assert "not ready yet" in _one_line_error(failed)
    execution = _execution_id(failed.stdout)
    prepared = _steps(run, execution)["Prepare"]

    ready.touch()
    retried = run("pipelines", "retry", execution, "--wait")

    assert retried.exit_code == 0, retried.output
    assert retried.stdout.strip().splitlines()[-1] == "Succeeded"
    steps = _steps(run, execution)
    assert steps["Flaky"]["StepStatus"] == "Succeeded"
    assert steps["Prepare"] == prepared  # not run again


def test_retry_of_a_succeeded_execution_is_refused(run, upserted, fn):
    upserted("quality", quality(fn))
    execution = _execution_id(run("pipelines", "start", "quality", "--wait").stdout)
    result = run("pipelines", "retry", execution)
    assert result.exit_code == 2
    assert "only Failed or Stopped executions can be retried" in _one_line_error(result)


def test_stop_ends_an_execution_that_waits_for_a_callback(run, upserted, fn):
    upserted("approval", approval(fn))
    execution = _execution_id(run("pipelines", "start", "approval").stdout)

    stopped = run("pipelines", "stop", execution, "--wait")

    assert stopped.exit_code == 0, stopped.output
    assert stopped.stdout.strip().endswith(f"/execution/{execution} Stopped")
    assert json.loads(run("pipelines", "describe-execution", execution, "--json").stdout)["PipelineExecutionStatus"] == "Stopped"
    watched = run("pipelines", "watch", execution)
    assert watched.exit_code == 1 and "stopped" in _one_line_error(watched)


def test_callback_success_from_the_cli_lets_the_execution_go_on(run, upserted, fn, home):
    upserted("approval", approval(fn))
    execution = _execution_id(run("pipelines", "start", "approval").stdout)
    token = _callback_token(home, execution)
    assert f"callback token {token}" in run("pipelines", "list-steps", execution).stdout

    sent = run("pipelines", "callback-success", token, "--output", "approver=ana")

    assert sent.exit_code == 0, sent.output
    assert sent.stdout.strip().endswith(f"/execution/{execution}")
    watched = run("pipelines", "watch", execution)
    assert watched.exit_code == 0, watched.output
    record = _steps(run, execution)["Record"]
    assert record["Metadata"]["Lambda"]["OutputParameters"] == [{"Name": "out", "Value": '{"approver": "ana"}'}]
    again = run("pipelines", "callback-success", token)
    assert again.exit_code == 2 and "already Succeeded" in _one_line_error(again)


def test_callback_failure_from_the_cli_fails_the_execution_with_the_reason(run, upserted, fn, home):
    upserted("approval", approval(fn))
    execution = _execution_id(run("pipelines", "start", "approval").stdout)
    token = _callback_token(home, execution)

    assert run("pipelines", "callback-failure", token, "--reason", "rejected by ana").exit_code == 0

    watched = run("pipelines", "watch", execution)
    assert watched.exit_code == 1
    assert "Step Approve failed: rejected by ana" in _one_line_error(watched)


def _callback_token(home: Path, execution: str) -> str:
    """The token of the execution's waiting Callback step, once the engine has started it
    (an embedded platform drives the execution while it looks)."""
    with gf.Platform(home=home) as p:
        p.pipelines.describe_pipeline_execution(pipeline_execution_arn=execution)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            steps = p.pipelines.list_pipeline_execution_steps(pipeline_execution_arn=execution)["PipelineExecutionSteps"]
            token = next((s["Metadata"].get("Callback", {}).get("CallbackToken") for s in steps
                          if s["StepName"] == "Approve" and s["StepStatus"] == "Executing"), None)  # fmt: skip
            if token:
                return token
            time.sleep(0.05)
    raise AssertionError("the Callback step never started")


def test_delete_removes_the_pipeline(run, upserted, fn):
    upserted("quality", quality(fn))
    deleted = run("pipelines", "delete", "quality")
    assert deleted.exit_code == 0, deleted.output
    assert deleted.stdout.strip() == "Deleted arn:groundfog:pipelines:local:000000000000:pipeline/quality"
    assert json.loads(run("pipelines", "list", "--json").stdout)["PipelineSummaries"] == []


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("upsert", "{tmp}/missing.json"), 2, "cannot read {tmp}/missing.json: No such file or directory"),
        (("upsert", "{tmp}/missing.py"), 2, "cannot read {tmp}/missing.py"),
        (("upsert", "{tmp}/bad.json"), 2, "{tmp}/bad.json is not valid JSON: Expecting value at line 2 column 1"),
        (("upsert", "{tmp}/no_steps.json", "--name", "empty"), 2, "{tmp}/no_steps.json: PipelineDefinition.Steps must be a non-empty list"),
        (("start", "nope"), 3, "Pipeline nope does not exist"),
        (("describe", "nope"), 3, "Pipeline nope does not exist"),
        (("describe-execution", "0a1b2c3d4e5f"), 3, "Pipeline execution 0a1b2c3d4e5f does not exist"),
        (("watch", "0a1b2c3d4e5f"), 3, "Pipeline execution 0a1b2c3d4e5f does not exist"),
        (("list-steps", "0a1b2c3d4e5f"), 3, "Pipeline execution 0a1b2c3d4e5f does not exist"),
        (("callback-success", "no-such-token"), 3, "no callback step has that token"),
        (("start", "quality", "--parameter", "Threshold"), 2, "--parameter expects NAME=VALUE, got 'Threshold'"),
        (("start", "quality", "--parameter", "Threshold=high"), 2, "parameter 'Threshold' is a Float; 'high' is not one"),
        (("start", "quality", "--parameter", "Colour=red"), 2, "the pipeline has no parameter 'Colour'"),
    ],
)  # fmt: skip
def test_bad_input_is_a_one_line_error_with_a_non_zero_exit(run, upserted, fn, tmp_path, args, code, message):
    upserted("quality", quality(fn))
    (tmp_path / "bad.json").write_text('{"Steps": [\n')
    (tmp_path / "no_steps.json").write_text('{"Steps": []}')
    result = run("pipelines", *(a.format(tmp=tmp_path) for a in args))
    assert result.exit_code == code, result.output
    assert message.format(tmp=tmp_path) in _one_line_error(result)


# -- the watch view, without a terminal ------------------------------------------------------


def _text(renderable: Any) -> str:
    console = Console(width=160, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_the_watch_view_draws_steps_by_level_with_running_pending_and_cached_steps():
    document = {"Steps": [
        {"Name": "Train", "Type": "Fail", "DependsOn": ["Prepare"]},
        {"Name": "Prepare", "Type": "Fail"},
        {"Name": "Report", "Type": "Fail", "DependsOn": ["Train", "Prepare"]},
        {"Name": "Lookup", "Type": "Fail"},
    ]}  # fmt: skip
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    steps = [
        {"StepName": "Prepare", "StepType": "Processing", "StepStatus": "Succeeded", "AttemptCount": 1,
         "StartTime": start, "EndTime": start + timedelta(seconds=3),
         "CacheHitResult": {"SourcePipelineExecutionArn": "arn:groundfog:pipelines:local:000000000000:pipeline/p/execution/abc"}},
        {"StepName": "Lookup", "StepType": "Lambda", "StepStatus": "Failed", "AttemptCount": 2, "StartTime": start,
         "EndTime": start + timedelta(seconds=1), "FailureReason": "attempt 2 failed:\nno such key"},
        {"StepName": "Train", "StepType": "Training", "StepStatus": "Executing", "AttemptCount": 1,
         "StartTime": start + timedelta(seconds=3),
         "Metadata": {"TrainingJob": {"Arn": "arn:groundfog:training:local:000000000000:training-job/p-train-1"}}},
    ]  # fmt: skip
    execution = {"PipelineExecutionArn": "arn:groundfog:pipelines:local:000000000000:pipeline/p/execution/e1",
                 "PipelineExecutionStatus": "Executing", "CreationTime": start}  # fmt: skip

    text = _text(render_execution(document, steps, execution, now=start + timedelta(seconds=75), spinners=False))

    lines = [line.split() for line in text.splitlines()]
    order = [words[1] for words in lines if len(words) > 1 and words[1] in ("Prepare", "Lookup", "Train", "Report")]
    assert order == ["Prepare", "Lookup", "Train", "Report"]  # level 0 in document order, then 1, then 2
    assert "p · execution e1 · Executing · 1m15s" in text
    prepare, lookup, train, report = (next(line for line in text.splitlines() if f" {name} " in f" {line} ")
                                      for name in ("Prepare", "Lookup", "Train", "Report"))  # fmt: skip
    assert prepare.lstrip().startswith("✓") and "Succeeded (cached)" in prepare and "cached from abc" in prepare
    assert lookup.lstrip().startswith("✗") and "2" in lookup.split() and "attempt 2 failed: no such key" in lookup
    assert train.lstrip().startswith("▶") and "1m12s" in train and "p-train-1" in train and "after Prepare" in train
    assert report.lstrip().startswith("·") and "Pending" in report and "after Prepare, Train" in report


def test_the_watch_view_greys_the_branch_not_taken_and_what_follows_it():
    document = {"Steps": [
        {"Name": "Check", "Type": "Condition", "Arguments": {"Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 2}],
         "IfSteps": [{"Name": "Deploy", "Type": "Fail"}], "ElseSteps": [{"Name": "Stop", "Type": "Fail"}]}},
        {"Name": "Announce", "Type": "Fail", "DependsOn": ["Deploy"]},
    ]}  # fmt: skip
    steps = [{"StepName": "Check", "StepType": "Condition", "StepStatus": "Succeeded",
              "Metadata": {"Condition": {"Outcome": "False"}}}]  # fmt: skip
    execution = {"PipelineExecutionArn": "arn:groundfog:pipelines:local:000000000000:pipeline/p/execution/e2",
                 "PipelineExecutionStatus": "Executing"}  # fmt: skip

    text = _text(render_execution(document, steps, execution, spinners=False))

    line = {name: next(row for row in text.splitlines() if f" {name} " in f" {row} ") for name in ("Check", "Deploy", "Stop", "Announce")}
    assert "outcome false" in line["Check"]
    assert "not taken" in line["Deploy"] and "if Check is true" in line["Deploy"]
    assert "not taken" in line["Announce"]
    assert "Pending" in line["Stop"] and "if Check is false" in line["Stop"]
