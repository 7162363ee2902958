"""The registry over HTTP: ``POST /api/registry/<Operation>`` on a real server, the
remote SDK (``groundfog.connect``) and the CLI pointed at the server (``GROUNDFOG_URL``)."""

from __future__ import annotations

import json

import httpx
import pytest
from registry_helpers import MODEL_DATA, REPORT, REPORT_URI, inference_spec, quality_metrics, sink_lines
from server_helpers import RunningServer
from typer.testing import CliRunner

import groundfog as gf
from groundfog.cli.common import close_platform
from groundfog.cli.main import app
from groundfog.core.errors import Conflict, ResourceNotFound, ValidationError


@pytest.fixture
def server(rp):
    with RunningServer(rp) as running:
        running.platform = rp
        yield running


def test_register_approve_and_reject_over_http(server, tmp_path):
    p = server.platform
    sink = tmp_path / "approvals.jsonl"
    topic = p.topics.create_topic(name="approvals")
    p.topics.subscribe(topic_arn=topic.topic_arn, protocol="file", endpoint=str(sink), attributes={"RawMessageDelivery": "true"})
    p.events.put_rule(name="approvals", event_pattern={"source": ["aws.sagemaker"], "detail": {"ModelApprovalStatus": ["Approved", "Rejected"]}})
    p.events.put_targets(rule="approvals", targets=[{"Id": "sink", "Arn": topic.topic_arn}])

    def call(op: str, **body):
        return httpx.post(f"{server.url}/api/registry/{op}", json=body, timeout=30)

    assert call("CreateModelPackageGroup", model_package_group_name="churn").status_code == 200
    created = call("CreateModelPackage", model_package_group_name="churn", inference_specification=inference_spec(),
                   model_metrics=quality_metrics())  # fmt: skip
    assert created.status_code == 200, created.text
    arn = created.json()["ModelPackageArn"]
    assert call("UpdateModelPackage", model_package_arn=arn, model_approval_status="Approved").status_code == 200
    described = call("DescribeModelPackage", model_package_name="churn/1").json()
    assert described["ModelApprovalStatus"] == "Approved"
    assert described["ModelMetricsReports"] == {"ModelQuality.Statistics": REPORT}
    assert described["CreationTime"].startswith("20")  # datetimes as ISO 8601
    assert call("UpdateModelPackage", model_package_arn=arn, model_approval_status="Rejected").status_code == 200
    assert p.events.drain(10)
    assert sorted(e["detail"]["ModelApprovalStatus"] for e in sink_lines(sink)) == ["Approved", "Rejected"]  # any order


@pytest.mark.parametrize(("op", "body", "status", "field"), [
    ("CreateModelPackage", {"model_package_group_name": "nope"}, 404, "ModelPackageGroupName"),
    ("CreateModelPackage", {"model_package_group_name": "churn", "model_approval_status": "Yes"}, 400, "ModelApprovalStatus"),
    ("CreateModelPackage", {"model_package_group_name": "churn", "inference_specification": {"Containers": [{"Image": 1}]}},
     400, "InferenceSpecification.Containers[0].Image"),
    ("CreateModelPackage", {"model_package_group_name": "churn", "model_metrics": quality_metrics("s3://models/x.json")},
     400, "ModelMetrics.ModelQuality.Statistics.S3Uri"),
    ("CreateModelPackage", {"model_package_group_name": "churn", "inference_specification": "sklearn"}, 400,
     "inference_specification"),
    ("UpdateModelPackage", {"model_package_arn": "churn/1", "model_approval_status": "approved"}, 400, "ModelApprovalStatus"),
    ("DescribeModelPackage", {"model_package_name": "churn/12"}, 404, "ModelPackageName"),
    ("DeleteModelPackageGroup", {"model_package_group_name": "churn"}, 409, "ModelPackageGroupName"),
    ("CreateModel", {"model_name": "m"}, 400, "PrimaryContainer"),
])  # fmt: skip
def test_bad_requests_are_typed_4xx_naming_the_field(server, op, body, status, field):
    server.platform.registry.create_model_package_group(model_package_group_name="churn")
    server.platform.registry.create_model_package(model_package_group_name="churn", inference_specification=inference_spec())
    r = httpx.post(f"{server.url}/api/registry/{op}", json=body, timeout=30)
    assert r.status_code == status, r.text
    assert r.json()["field"] == field and r.json()["message"]


def test_the_remote_sdk_registers_approves_and_rejects(server):
    with gf.connect(server.url) as remote:
        remote.registry.create_model_package_group(model_package_group_name="churn")
        arn = remote.registry.create_model_package(model_package_group_name="churn", inference_specification=inference_spec(),
                                                   lineage={"TrainingJobArn": "arn:x:training-job/t1"})["ModelPackageArn"]
        remote.registry.update_model_package(model_package_arn=arn, model_approval_status="Approved")
        assert remote.registry.latest_approved_model_package(model_package_group_name="churn")["ModelPackageArn"] == arn
        remote.registry.update_model_package(model_package_arn=arn, model_approval_status="Rejected")
        assert remote.registry.latest_approved_model_package(model_package_group_name="churn") is None
        assert remote.registry.describe_model_package(model_package_name=arn)["Lineage"] == {"TrainingJobArn": "arn:x:training-job/t1"}
        remote.registry.create_model(model_name="m", primary_container={"ModelPackageName": arn})
        assert remote.registry.describe_model(model_name="m")["PrimaryContainer"]["ModelDataUrl"] == MODEL_DATA
        with pytest.raises(ResourceNotFound):
            remote.registry.describe_model_package(model_package_name="churn/2")
        with pytest.raises(ValidationError) as raised:
            remote.registry.create_model_package(model_package_group_name="churn", model_metrics=quality_metrics("s3://models/x"))
        assert raised.value.field == "ModelMetrics.ModelQuality.Statistics.S3Uri"
        with pytest.raises(Conflict):
            remote.registry.delete_model_package_group(model_package_group_name="churn")


def test_the_cli_against_a_running_server(server, monkeypatch):
    monkeypatch.setenv("GROUNDFOG_URL", server.url)
    cli = CliRunner()

    def run(*args: str):
        try:
            return cli.invoke(app, list(args))
        finally:
            close_platform()

    assert run("registry", "create-group", "churn").exit_code == 0
    registered = run("registry", "register", "--group", "churn", "--model-data", MODEL_DATA, "--image", "sklearn",
                     "--metrics-uri", REPORT_URI, "--json")  # fmt: skip
    assert registered.exit_code == 0, registered.output
    assert run("registry", "approve", "churn/1").exit_code == 0
    assert server.platform.registry.describe_model_package(model_package_name="churn/1")["ModelApprovalStatus"] == "Approved"
    assert run("registry", "reject", "churn/1").exit_code == 0
    described = json.loads(run("registry", "describe", "churn/1", "--json").stdout)
    assert described["ModelApprovalStatus"] == "Rejected"
    missing = run("registry", "approve", "churn/5")
    assert missing.exit_code == 3 and "does not exist" in missing.output
