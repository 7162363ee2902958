"""Registering a version and changing its approval status are EventBridge events
(``SageMaker Model Package State Change``) that rules route to their targets."""

from __future__ import annotations

from pathlib import Path

import pytest
from registry_helpers import register, sink_lines

APPROVED_ONLY = {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"],
                 "detail": {"ModelApprovalStatus": ["Approved"]}}  # fmt: skip


def _topic_sink(platform, tmp_path: Path, pattern: dict) -> Path:
    """A rule with ``pattern`` whose target is a topic with a ``file`` subscription."""
    sink = tmp_path / "events.jsonl"
    topic = platform.topics.create_topic(name="model-approvals")
    platform.topics.subscribe(topic_arn=topic.topic_arn, protocol="file", endpoint=str(sink),
                              attributes={"RawMessageDelivery": "true"})  # fmt: skip
    platform.events.put_rule(name="approvals", event_pattern=pattern)
    platform.events.put_targets(rule="approvals", targets=[{"Id": "sink", "Arn": topic.topic_arn}])
    return sink


def test_approving_a_version_emits_the_state_change_event(churn, tmp_path):
    sink = _topic_sink(churn, tmp_path, APPROVED_ONLY)
    arn = register(churn)
    churn.registry.update_model_package(model_package_arn=arn, model_approval_status="Approved",
                                        approval_description="AUC 0.91")  # fmt: skip
    assert churn.events.drain(10)
    events = sink_lines(sink)
    assert len(events) == 1  # the PendingManualApproval one at registration did not match
    event = events[0]
    assert (event["source"], event["detail-type"]) == ("aws.sagemaker", "SageMaker Model Package State Change")
    assert event["resources"] == [arn]
    detail = event["detail"]
    assert (detail["ModelPackageArn"], detail["ModelPackageVersion"], detail["ModelApprovalStatus"]) == (arn, 1, "Approved")
    assert detail["ApprovalDescription"] == "AUC 0.91"
    assert isinstance(detail["CreationTime"], str) and detail["CreationTime"].startswith("20")


def test_registering_and_rejecting_emit_events_with_each_status(churn, tmp_path):
    sink = _topic_sink(churn, tmp_path, {"source": ["aws.sagemaker"],
                                         "detail-type": ["SageMaker Model Package State Change"]})
    arn = register(churn)
    churn.registry.update_model_package(model_package_arn=arn, model_approval_status="Rejected")
    assert churn.events.drain(10)
    # Deliveries run concurrently: the two events may arrive in either order.
    assert sorted(e["detail"]["ModelApprovalStatus"] for e in sink_lines(sink)) == ["PendingManualApproval", "Rejected"]


def test_changes_that_keep_the_status_emit_nothing(churn, tmp_path):
    sink = _topic_sink(churn, tmp_path, {"source": ["aws.sagemaker"]})
    arn = register(churn, model_approval_status="Approved")
    churn.registry.update_model_package(model_package_arn=arn, model_package_description="same model, better words")
    churn.registry.update_model_package(model_package_arn=arn, model_approval_status="Approved")
    assert churn.events.drain(10)
    assert [e["detail"]["ModelApprovalStatus"] for e in sink_lines(sink)] == ["Approved"]


@pytest.fixture
def recorded(tmp_path):
    """A function handler module on disk that appends every event it gets to a file."""
    code = tmp_path / "handlers"
    code.mkdir()
    out = tmp_path / "deployments.jsonl"
    (code / "gf_registry_deployer.py").write_text(
        "import json\n"
        f"OUT = {str(out)!r}\n"
        "def deploy(event, context):\n"
        "    with open(OUT, 'a') as f:\n"
        "        f.write(json.dumps(event) + '\\n')\n"
    )
    return code, out


def test_an_approval_rule_can_start_a_function(churn, recorded):
    code, out = recorded
    churn.events.create_function(name="deploy-approved", handler="gf_registry_deployer:deploy", code_path=str(code))
    churn.events.put_rule(name="deploy-on-approval", event_pattern=APPROVED_ONLY)
    churn.events.put_targets(rule="deploy-on-approval", targets=[
        {"Id": "deploy", "Arn": "arn:groundfog:events:local:000000000000:function/deploy-approved",
         "InputPath": "$.detail"}])  # fmt: skip
    register(churn)
    arn = register(churn)
    churn.registry.update_model_package(model_package_arn=arn, model_approval_status="Approved")
    assert churn.events.drain(10)
    calls = sink_lines(out)
    assert [(c["ModelPackageArn"], c["ModelApprovalStatus"]) for c in calls] == [(arn, "Approved")]
