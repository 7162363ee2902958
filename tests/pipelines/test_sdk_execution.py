"""The SDK's calls on the pipelines service: upsert, start with parameters, wait (which
raises when an execution fails or is stopped), list steps, stop, retry, describe, delete.
The pipelines here run no jobs, so they end in moments."""

from __future__ import annotations

from pathlib import Path

import pytest
import sdk_helpers
from sdk_helpers import make_platform

from groundfog.core.errors import GroundfogError
from groundfog.pipelines.sdk import (
    CallbackOutput,
    CallbackStep,
    ConditionEquals,
    ConditionStep,
    ExecutionVariables,
    FailStep,
    FunctionOutput,
    FunctionStep,
    Join,
    ParallelismConfiguration,
    ParameterBoolean,
    ParameterFloat,
    ParameterInteger,
    ParameterString,
    Pipeline,
    PipelineExecutionFailed,
)


@pytest.fixture
def platform(tmp_path: Path):
    p = make_platform(tmp_path / "home")
    yield p
    p.close()


def gated_pipeline(platform, handler=sdk_helpers.accuracy_gate, inputs=None) -> Pipeline:
    accuracy = ParameterFloat("Accuracy", default_value=0.5)
    threshold = ParameterFloat("Threshold", default_value=0.8)
    gate = FunctionStep("Gate", function=handler, inputs=inputs or {"accuracy": accuracy, "threshold": threshold},
                        outputs=[FunctionOutput("passed", "Boolean"), FunctionOutput("margin", "Float")])  # fmt: skip
    reject = FailStep("Reject", error_message=Join(on=" ", values=["accuracy", accuracy, "is below", threshold]))
    check = ConditionStep("Check", conditions=[ConditionEquals(gate.properties.Outputs["passed"], True)],
                          else_steps=[reject])  # fmt: skip
    return Pipeline("gated", parameters=[accuracy, threshold], steps=[gate, check], platform=platform)


def test_an_execution_started_with_parameters_succeeds_and_lists_its_steps(platform):
    pipeline = gated_pipeline(platform)
    created = pipeline.upsert(description="accuracy gate", parallelism_config=ParallelismConfiguration(2))

    execution = pipeline.start(parameters={"Accuracy": 0.93}, execution_display_name="nightly")
    described = execution.wait(timeout=60)

    assert created["PipelineArn"] == pipeline.describe()["PipelineArn"]
    assert described["PipelineExecutionStatus"] == "Succeeded"
    assert described["PipelineExecutionDisplayName"] == "nightly"
    steps = {s["StepName"]: s for s in execution.list_steps()}
    assert set(steps) == {"Gate", "Check"} and all(s["StepStatus"] == "Succeeded" for s in steps.values())
    listed = pipeline.list_executions()["PipelineExecutionSummaries"]
    assert [e["PipelineExecutionArn"] for e in listed] == [execution.arn]


def test_parameter_values_of_every_type_go_as_text(platform):
    values = [ParameterInteger("N", 1), ParameterBoolean("Flag", False), ParameterString("Who", "me"), ParameterFloat("F", 0.5)]
    pipeline = Pipeline("typed", parameters=values, platform=platform, steps=[FailStep(
        "Stop", error_message=Join(on=",", values=[*values, ExecutionVariables.PIPELINE_NAME]))])  # fmt: skip
    pipeline.upsert()

    execution = pipeline.start(parameters={"N": 3, "Flag": True, "Who": "you", "F": 2})

    with pytest.raises(PipelineExecutionFailed, match="3,true,you,2.0,typed"):
        execution.wait(timeout=60)


def test_wait_raises_with_the_failure_reason_when_the_execution_fails(platform):
    pipeline = gated_pipeline(platform)
    pipeline.upsert()

    with pytest.raises(PipelineExecutionFailed) as failed:
        pipeline.start(parameters={"Accuracy": 0.6}).wait(timeout=60)

    assert isinstance(failed.value, GroundfogError)
    assert "ended Failed" in str(failed.value) and "accuracy 0.6 is below 0.8" in str(failed.value)
    assert failed.value.details["status"] == "Failed"


def test_a_failed_execution_is_retried_after_the_cause_is_fixed(platform, tmp_path):
    flag = tmp_path / "flag"
    pipeline = gated_pipeline(platform, handler=sdk_helpers.fails_until_flag_exists, inputs={"flag": str(flag)})
    pipeline.upsert()
    execution = pipeline.start()
    with pytest.raises(PipelineExecutionFailed, match="flag .* is missing"):
        execution.wait(timeout=60)

    flag.touch()
    execution.retry()

    assert execution.wait(timeout=60)["PipelineExecutionStatus"] == "Succeeded"


def test_wait_times_out_on_a_waiting_callback_and_a_stopped_execution_raises(platform):
    pipeline = Pipeline("approval", platform=platform,
                        steps=[CallbackStep("Approve", inputs={"model": "churn"}, outputs=[CallbackOutput("ok", "Boolean")])])  # fmt: skip
    pipeline.upsert()
    execution = pipeline.start()

    with pytest.raises(TimeoutError, match="still Executing"):
        execution.wait(timeout=0.5)
    execution.stop()
    with pytest.raises(PipelineExecutionFailed, match="ended Stopped") as stopped:
        execution.wait(timeout=60)
    assert stopped.value.details["status"] == "Stopped"
    assert execution.describe()["PipelineExecutionStatus"] == "Stopped"


def test_create_refuses_an_existing_pipeline_update_replaces_it_and_delete_removes_it(platform):
    pipeline = gated_pipeline(platform)
    pipeline.create()
    with pytest.raises(GroundfogError, match="already exists"):
        pipeline.create()

    pipeline.update(description="v2")
    assert pipeline.describe()["PipelineDescription"] == "v2"
    pipeline.delete()
    with pytest.raises(GroundfogError):
        pipeline.describe()
