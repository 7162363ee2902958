"""Executions: steps run when their inputs are ready, conditions pick branches, failures,
retries, stops, callbacks and parallelism behave as in SageMaker Pipelines."""

from __future__ import annotations

import json
import threading
import time

import pytest
from pipeline_helpers import definition, get, lam, run, steps_of

from groundfog.core.errors import ValidationError


def test_properties_flow_between_steps_and_conditions_pick_a_branch(platform, fns):
    condition = {"Name": "Big", "Type": "Condition", "Arguments": {
        "Conditions": [{"Type": "GreaterThanOrEqualTo", "LeftValue": get("Steps.Twice.OutputParameters['y']"),
                        "RightValue": 10}],
        "IfSteps": [lam("Again", fns["double"], {"x": get("Steps.Twice.OutputParameters['y']")}, {"y": "Integer"})],
        "ElseSteps": [{"Name": "TooSmall", "Type": "Fail", "Arguments": {"ErrorMessage": {"Std:Join": {
            "On": " ", "Values": ["got", get("Steps.Twice.OutputParameters['y']")]}}}}]}}
    document = definition(lam("Twice", fns["double"], {"x": get("Parameters.X")}, {"y": "Integer"}), condition,
                          parameters=[{"Name": "X", "Type": "Integer", "DefaultValue": 5}])
    _, described, steps = run(platform, "branches", document)
    assert described["PipelineExecutionStatus"] == "Succeeded"
    assert set(steps) == {"Twice", "Big", "Again"}
    assert steps["Again"]["Metadata"]["Lambda"]["OutputParameters"] == [{"Name": "y", "Value": "20"}]
    assert steps["Big"]["Metadata"]["Condition"]["Outcome"] == "True"

    _, described, steps = run(platform, "branches", document, {"X": 2})
    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"] == "got 4"
    assert steps["TooSmall"]["StepStatus"] == "Failed" and "Again" not in steps


def test_execution_variables_and_joins_resolve(platform, fns):
    document = definition(lam("E", fns["echo"], {
        "id": get("Execution.PipelineExecutionId"), "name": get("Execution.PipelineName"),
        "uri": {"Std:Join": {"On": "/", "Values": ["s3://b", get("Execution.PipelineExecutionId"), "out"]}},
        "flag": get("Parameters.F")}, {"out": "String"}),
        parameters=[{"Name": "F", "Type": "Boolean", "DefaultValue": False}])
    arn, described, steps = run(platform, "vars", document, {"F": "true"})
    execution_id = arn.rsplit("/", 1)[1]
    echoed = json.loads(steps["E"]["Metadata"]["Lambda"]["OutputParameters"][0]["Value"])
    assert echoed == {"id": execution_id, "name": "vars", "uri": f"s3://b/{execution_id}/out", "flag": True}


def test_a_failing_step_fails_the_execution_and_stops_what_follows(platform, fns, tmp_path):
    document = definition(
        lam("Boom", fns["flaky"], {"counter": str(tmp_path / "c"), "fail_times": 9}),
        lam("After", fns["noop"], DependsOn=["Boom"]),
    )
    _, described, steps = run(platform, "fails", document)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert "Step Boom failed" in described["FailureReason"] and "flaky failure 1" in described["FailureReason"]
    assert list(steps) == ["Boom"]


def test_a_step_that_fails_twice_succeeds_under_a_retry_policy_of_three_attempts(platform, fns, tmp_path):
    policy = [{"ExceptionType": ["Step.SERVICE_FAULT"], "IntervalSeconds": 1, "BackoffRate": 1.0, "MaxAttempts": 3}]
    document = definition(lam("Flaky", fns["flaky"], {"counter": str(tmp_path / "c"), "fail_times": 2},
                              {"calls": "Integer"}, RetryPolicies=policy))
    _, described, steps = run(platform, "retries", document)
    assert described["PipelineExecutionStatus"] == "Succeeded"
    assert steps["Flaky"]["AttemptCount"] == 3
    assert (tmp_path / "c").read_text() == "3"

    (tmp_path / "c").unlink()
    document["Steps"][0]["Arguments"]["fail_times"] = 3
    _, described, steps = run(platform, "retries", document)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert steps["Flaky"]["AttemptCount"] == 3 and "flaky failure 3" in described["FailureReason"]


def test_retry_reruns_only_the_failed_step_and_its_descendants(platform, fns, tmp_path):
    log = str(tmp_path / "calls.jsonl")
    document = definition(
        lam("First", fns["append"], {"log": log, "step": "First"}),
        lam("Flaky", fns["flaky"], {"counter": str(tmp_path / "c"), "fail_times": 1}, DependsOn=["First"]),
        lam("Last", fns["append"], {"log": log, "step": "Last"}, DependsOn=["Flaky"]),
    )
    arn, described, steps = run(platform, "retry-exec", document)
    assert described["PipelineExecutionStatus"] == "Failed" and set(steps) == {"First", "Flaky"}
    platform.pipelines.retry_pipeline_execution(pipeline_execution_arn=arn)
    described = platform.pipelines.wait_for_pipeline_execution(pipeline_execution_arn=arn, timeout=30)
    assert described["PipelineExecutionStatus"] == "Succeeded"
    calls = [json.loads(line)["step"] for line in open(log)]
    assert calls == ["First", "Last"]  # First ran once, before and after the retry
    with pytest.raises(ValidationError, match="only Failed or Stopped"):
        platform.pipelines.retry_pipeline_execution(pipeline_execution_arn=arn)


def test_stop_ends_the_execution_stopped(platform, fns, tmp_path):
    document = definition(
        {"Name": "Wait", "Type": "Callback", "Arguments": {"q": 1}, "OutputParameters": []},
        lam("Never", fns["noop"], DependsOn=["Wait"]),
    )
    platform.pipelines.upsert_pipeline(pipeline_name="stops", pipeline_definition=document)
    arn = platform.pipelines.start_pipeline_execution(pipeline_name="stops")["PipelineExecutionArn"]
    _wait_for_step(platform, arn, "Wait", "Executing")
    platform.pipelines.stop_pipeline_execution(pipeline_execution_arn=arn)
    described = platform.pipelines.wait_for_pipeline_execution(pipeline_execution_arn=arn, timeout=20)
    assert described["PipelineExecutionStatus"] == "Stopped"
    steps = steps_of(platform, arn)
    assert steps["Wait"]["StepStatus"] == "Stopped" and "Never" not in steps


def test_a_callback_step_waits_for_success_with_outputs(platform, fns):
    topic = platform.topics.create_topic(name="callbacks")
    document = definition(
        {"Name": "Approve", "Type": "Callback", "TopicArn": topic.topic_arn, "Arguments": {"model": "m1"},
         "OutputParameters": [{"OutputName": "approved_by", "OutputType": "String"}]},
        lam("Use", fns["echo"], {"who": get("Steps.Approve.OutputParameters['approved_by']")}, {"out": "String"}),
    )
    platform.pipelines.upsert_pipeline(pipeline_name="callbacks", pipeline_definition=document)
    arn = platform.pipelines.start_pipeline_execution(pipeline_name="callbacks")["PipelineExecutionArn"]
    step = _wait_for_step(platform, arn, "Approve", "Executing")
    token = step["Metadata"]["Callback"]["CallbackToken"]
    with pytest.raises(ValidationError, match="approved_by"):
        platform.pipelines.send_pipeline_execution_step_success(callback_token=token, output_parameters=[])
    platform.pipelines.send_pipeline_execution_step_success(
        callback_token=token, output_parameters=[{"Name": "approved_by", "Value": "ana"}])
    described = platform.pipelines.wait_for_pipeline_execution(pipeline_execution_arn=arn, timeout=20)
    assert described["PipelineExecutionStatus"] == "Succeeded"
    echoed = steps_of(platform, arn)["Use"]["Metadata"]["Lambda"]["OutputParameters"][0]["Value"]
    assert json.loads(echoed) == {"who": "ana"}
    with pytest.raises(ValidationError, match="already"):
        platform.pipelines.send_pipeline_execution_step_failure(callback_token=token, failure_reason="late")


def test_a_callback_failure_fails_the_execution(platform, fns):
    document = definition({"Name": "Gate", "Type": "Callback", "Arguments": {}})
    platform.pipelines.upsert_pipeline(pipeline_name="gate", pipeline_definition=document)
    arn = platform.pipelines.start_pipeline_execution(pipeline_name="gate")["PipelineExecutionArn"]
    token = _wait_for_step(platform, arn, "Gate", "Executing")["Metadata"]["Callback"]["CallbackToken"]
    platform.pipelines.send_pipeline_execution_step_failure(callback_token=token, failure_reason="rejected by QA")
    described = platform.pipelines.wait_for_pipeline_execution(pipeline_execution_arn=arn, timeout=20)
    assert described["PipelineExecutionStatus"] == "Failed" and "rejected by QA" in described["FailureReason"]


@pytest.mark.parametrize("limit", [1, 3])
def test_parallel_steps_are_bounded_by_max_parallel_execution_steps(platform, fns, tmp_path, limit):
    record = tmp_path / "max"
    document = definition(*[lam(f"S{i}", fns["sleepy"], {"record": str(record), "seconds": 0.3}) for i in range(6)])
    platform.pipelines.upsert_pipeline(pipeline_name="wide", pipeline_definition=document,
                                       parallelism_configuration={"MaxParallelExecutionSteps": limit})
    arn = platform.pipelines.start_pipeline_execution(pipeline_name="wide")["PipelineExecutionArn"]
    described = platform.pipelines.wait_for_pipeline_execution(pipeline_execution_arn=arn, timeout=30)
    assert described["PipelineExecutionStatus"] == "Succeeded"
    assert int(record.read_text()) == limit


def test_execution_events_are_emitted(platform, fns, tmp_path):
    sink = tmp_path / "events.jsonl"
    topic = platform.topics.create_topic(name="pipeline-events")
    platform.topics.subscribe(topic_arn=topic.topic_arn, protocol="file", endpoint=str(sink),
                              attributes={"RawMessageDelivery": "true"})
    platform.events.put_rule(name="pipeline-status", event_pattern={
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Building Pipeline Execution Status Change"]})
    platform.events.put_targets(rule="pipeline-status", targets=[{"Id": "t", "Arn": topic.topic_arn}])
    arn, described, _ = run(platform, "evented", definition(lam("A", fns["noop"])))
    platform.events.drain(timeout=10)
    statuses = [json.loads(line)["detail"]["currentPipelineExecutionStatus"] for line in sink.read_text().splitlines()]
    assert sorted(statuses) == ["Executing", "Succeeded"]  # deliveries run concurrently: any order


def test_concurrent_starts_get_distinct_executions(platform, fns):
    platform.pipelines.upsert_pipeline(pipeline_name="many", pipeline_definition=definition(lam("A", fns["noop"])))
    arns: list[str] = []

    def start() -> None:
        arns.append(platform.pipelines.start_pipeline_execution(pipeline_name="many")["PipelineExecutionArn"])

    threads = [threading.Thread(target=start) for _ in range(5)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(set(arns)) == 5
    for arn in arns:
        assert platform.pipelines.wait_for_pipeline_execution(
            pipeline_execution_arn=arn, timeout=30)["PipelineExecutionStatus"] == "Succeeded"


def _wait_for_step(platform, arn: str, name: str, status: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        step = steps_of(platform, arn).get(name)
        if step is not None and step["StepStatus"] == status:
            return step
        time.sleep(0.05)
    raise AssertionError(f"step {name} never reached {status}: {steps_of(platform, arn)}")


def test_a_function_step_past_its_functions_timeout_fails(platform, tmp_path):
    from pipeline_helpers import HERE

    slow = platform.events.create_function(name="pl-slow", handler="pl_fns:sleepy", code_path=str(HERE), timeout=1)
    document = definition(lam("Slow", slow.function_arn, {"record": str(tmp_path / "max"), "seconds": 3}))
    _, described, steps = run(platform, "timeouts", document)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert "Task timed out after 1.00 seconds" in steps["Slow"]["FailureReason"]
