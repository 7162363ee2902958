"""``groundfog registry ...`` and ``groundfog models ...`` on the embedded platform:
registering, approving, rejecting, listing and describing, and errors as exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from registry_helpers import MODEL_DATA, REPORT, REPORT_URI, make_platform
from typer.testing import CliRunner

import groundfog as gf
from groundfog.cli.common import close_platform
from groundfog.cli.main import app


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A home holding a model and its evaluation report, that the CLI then uses."""
    home = tmp_path / "home"
    monkeypatch.setenv("GROUNDFOG_HOME", str(home))
    monkeypatch.delenv("GROUNDFOG_URL", raising=False)
    monkeypatch.delenv("GROUNDFOG_STATE_URL", raising=False)
    make_platform(home).close()
    return home


@pytest.fixture
def run(home):
    cli = CliRunner()

    def invoke(*args: str):
        try:
            return cli.invoke(app, list(args))
        finally:
            close_platform()

    return invoke


def _json(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_register_approve_and_reject_from_the_cli(run, home):
    assert run("registry", "create-group", "churn", "--description", "Churn classifiers").exit_code == 0
    created = _json(run("registry", "register", "--group", "churn", "--model-data", MODEL_DATA, "--image", "sklearn",
                        "--content-type", "text/csv", "--metrics-uri", REPORT_URI, "--metadata", "team=growth",
                        "--description", "first", "--json"))  # fmt: skip
    assert created["ModelPackageArn"].endswith("model-package/churn/1")
    second = run("registry", "register", "--group", "churn", "--model-data", MODEL_DATA, "--image", "sklearn")
    assert second.exit_code == 0 and "churn/2" in second.stdout

    approved = run("registry", "approve", "churn/1", "--description", "AUC 0.91")
    assert approved.exit_code == 0 and "Approved" in approved.stdout
    assert run("registry", "reject", created["ModelPackageArn"]).exit_code == 0
    assert run("registry", "approve", "churn/2").exit_code == 0

    described = _json(run("registry", "describe", "churn/1", "--json"))
    assert described["ModelApprovalStatus"] == "Rejected" and described["ApprovalDescription"] == "AUC 0.91"
    assert described["CustomerMetadataProperties"] == {"team": "growth"}
    assert described["ModelMetricsReports"] == {"ModelQuality.Statistics": REPORT}
    assert described["InferenceSpecification"]["SupportedContentTypes"] == ["text/csv"]

    listed = _json(run("registry", "list", "--group", "churn", "--status", "Approved", "--json"))
    assert [p["ModelPackageVersion"] for p in listed["ModelPackageSummaryList"]] == [2]
    table = run("registry", "list")
    assert table.exit_code == 0 and "Approved" in table.stdout and "Rejected" in table.stdout
    assert _json(run("registry", "latest-approved", "churn", "--json"))["ModelPackageVersion"] == 2
    with gf.Platform(home=home) as p:
        assert p.registry.describe_model_package(model_package_name="churn/2")["ModelApprovalStatus"] == "Approved"


def test_update_and_delete_from_the_cli(run):
    run("registry", "create-group", "churn")
    run("registry", "register", "--group", "churn", "--model-data", MODEL_DATA, "--image", "sklearn", "--metadata", "a=1")
    updated = run("registry", "update", "churn/1", "--metadata", "b=2", "--remove-metadata", "a", "--description", "new")
    assert updated.exit_code == 0, updated.output
    described = _json(run("registry", "describe", "churn/1", "--json"))
    assert described["CustomerMetadataProperties"] == {"b": "2"} and described["ModelPackageDescription"] == "new"
    refused = run("registry", "delete-group", "churn")
    assert refused.exit_code == 4 and "delete them first" in refused.output
    assert run("registry", "delete", "churn/1", "--json").exit_code == 0
    assert run("registry", "delete-group", "churn").exit_code == 0
    assert _json(run("registry", "list-groups", "--json"))["ModelPackageGroupSummaryList"] == []


def test_groups_are_listed_and_described(run):
    run("registry", "create-group", "churn", "--description", "Churn classifiers")
    assert "churn" in run("registry", "list-groups").stdout
    group = _json(run("registry", "describe-group", "churn", "--json"))
    assert group["ModelPackageGroupDescription"] == "Churn classifiers"


@pytest.mark.parametrize(("args", "code", "reason"), [
    (("registry", "register", "--group", "nope", "--model-data", MODEL_DATA, "--image", "sklearn"), 3, "'nope' does not exist"),
    (("registry", "register", "--group", "churn", "--model-data", "s3://models/none.tar.gz", "--image", "sklearn"), 2,
     "upload the model data first"),
    (("registry", "register", "--group", "churn", "--model-data", MODEL_DATA, "--image", "sklearn",
      "--approval-status", "Maybe"), 2, "ModelApprovalStatus must be one of"),
    (("registry", "register", "--group", "churn", "--model-data", MODEL_DATA, "--image", "sklearn",
      "--metrics-uri", "s3://models/none.json"), 2, "no such report"),
    (("registry", "register", "--group", "churn", "--model-data", MODEL_DATA, "--image", "sklearn", "--metadata", "x"), 2,
     "NAME=VALUE"),
    (("registry", "approve", "churn/9"), 3, "does not exist"),
    (("registry", "latest-approved", "churn"), 3, "no approved version"),
    (("models", "describe", "nope"), 3, "does not exist"),
])  # fmt: skip
def test_errors_are_one_line_with_the_errors_exit_code(run, args, code, reason):
    run("registry", "create-group", "churn")
    result = run(*args)
    assert result.exit_code == code, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and reason in lines[0], result.output


def test_models_from_the_cli(run):
    run("registry", "create-group", "churn")
    run("registry", "register", "--group", "churn", "--model-data", MODEL_DATA, "--image", "xgboost")
    direct = _json(run("models", "create", "--name", "direct", "--model-data", MODEL_DATA, "--image", "sklearn",
                       "--env", "SAGEMAKER_PROGRAM=inference.py", "--json"))  # fmt: skip
    assert direct["ModelArn"].endswith(":model/direct")
    assert run("models", "create", "--name", "from-registry", "--model-package", "churn/1").exit_code == 0
    model = _json(run("models", "describe", "from-registry", "--json"))
    assert (model["PrimaryContainer"]["Image"], model["PrimaryContainer"]["ModelDataUrl"]) == ("xgboost", MODEL_DATA)
    assert [m["ModelName"] for m in _json(run("models", "list", "--json"))["Models"]] == ["from-registry", "direct"]
    assert "direct" in run("models", "list").stdout
    assert run("models", "delete", "direct").exit_code == 0
    assert [m["ModelName"] for m in _json(run("models", "list", "--json"))["Models"]] == ["from-registry"]
