"""``groundfog endpoint-configs ...`` and ``groundfog endpoints ...``: on the embedded
platform they record endpoints without hosting them (and refuse to invoke); against a
running server, endpoints created either way are served, waited for, invoked, updated
with a canary and deleted."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from server_helpers import RunningServer
from test_serving_sdk import V1, V2, breast_cancer, classifier, malignant_rows, put_models
from typer.testing import CliRunner

import groundfog as gf
from groundfog.cli.common import close_platform
from groundfog.cli.main import app
from groundfog.core.config import Config
from groundfog.core.errors import ModelError
from groundfog.serving.cli_options import build_deployment_config, parse_desired, parse_variant
from groundfog.serving.hosting import EndpointHost
from groundfog.serving.sdk import CSVDeserializer, CSVSerializer
from groundfog.training.sdk import DEFAULT_BUCKET

NEEDS_SERVER = ("needs a running server: start one with 'groundfog up' and set "
                "GROUNDFOG_URL=http://127.0.0.1:8750")  # fmt: skip


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A home holding the two models (bc-v1, bc-v2) the CLI then deploys."""
    home = tmp_path / "home"
    monkeypatch.setenv("GROUNDFOG_HOME", str(home))
    monkeypatch.delenv("GROUNDFOG_URL", raising=False)
    monkeypatch.delenv("GROUNDFOG_STATE_URL", raising=False)
    with gf.Platform(Config(home=home)) as p:
        put_models(p)
        p.registry.create_model(model_name="bc-v1", primary_container={"Image": "sklearn", "ModelDataUrl": V1})
        p.registry.create_model(model_name="bc-v2", primary_container={"Image": "sklearn", "ModelDataUrl": V2})
    return home


@pytest.fixture
def run(home):
    cli = CliRunner()

    def invoke(*args: str, input: bytes | str | None = None):
        try:
            return cli.invoke(app, list(args), input=input)
        finally:
            close_platform()

    return invoke


def _json(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_configs_are_created_from_options_and_from_a_request_file(run, tmp_path):
    one = _json(run("endpoint-configs", "create", "--name", "bc-one", "--model", "bc-v1", "--instance-count", "2",
                    "--capture-destination", "s3://models/capture", "--capture-percent", "50", "--json"))
    assert one["EndpointConfigArn"].endswith("endpoint-config/bc-one")
    described = _json(run("endpoint-configs", "describe", "bc-one", "--json"))
    assert described["ProductionVariants"] == [{"VariantName": "AllTraffic", "ModelName": "bc-v1", "InitialInstanceCount": 2,
                                                "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}]
    assert described["DataCaptureConfig"]["InitialSamplingPercentage"] == 50
    assert described["DataCaptureConfig"]["CaptureOptions"] == [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]

    two = run("endpoint-configs", "create", "--name", "bc-ab", "--variant", "A=bc-v1:1:0.7", "--variant", "B=bc-v2:2:0.3",
              "--shadow", "S=bc-v2", "--instance-type", "ml.c5.xlarge")
    assert two.exit_code == 0, two.output
    described = _json(run("endpoint-configs", "describe", "bc-ab", "--json"))
    assert [(v["VariantName"], v["ModelName"], v["InitialInstanceCount"], v["InitialVariantWeight"], v["InstanceType"])
            for v in described["ProductionVariants"]] == [("A", "bc-v1", 1, 0.7, "ml.c5.xlarge"),
                                                         ("B", "bc-v2", 2, 0.3, "ml.c5.xlarge")]
    assert [v["VariantName"] for v in described["ShadowProductionVariants"]] == ["S"]
    table = run("endpoint-configs", "describe", "bc-ab")
    assert table.exit_code == 0 and "bc-v2" in table.stdout and "shadow" in table.stdout

    request = {"EndpointConfigName": "bc-file", "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "bc-v2"}],
               "Tags": [{"Key": "team", "Value": "ml"}]}
    (tmp_path / "config.json").write_text(json.dumps(request))
    assert run("endpoint-configs", "create", "--json-file", str(tmp_path / "config.json")).exit_code == 0
    names = [c["EndpointConfigName"] for c in _json(run("endpoint-configs", "list", "--json"))["EndpointConfigs"]]
    assert sorted(names) == ["bc-ab", "bc-file", "bc-one"]
    listed = run("endpoint-configs", "list")
    assert listed.exit_code == 0 and "bc-file" in listed.stdout

    assert run("endpoint-configs", "delete", "bc-file").exit_code == 0
    missing = run("endpoint-configs", "describe", "bc-file")
    assert missing.exit_code == 3 and missing.stderr.startswith("error: ") and len(missing.stderr.splitlines()) == 1


def test_an_endpoint_created_without_a_server_is_recorded_not_hosted(run, home, monkeypatch):
    hosted: list[str] = []
    host = EndpointHost.host

    def watched_host(self, name: str) -> None:
        hosted.append(name)
        host(self, name)

    monkeypatch.setattr(EndpointHost, "host", watched_host)
    created = run("endpoints", "create", "--name", "bc", "--model", "bc-v1", "--instance-type", "ml.m5.large", "--json")
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["EndpointConfigName"] == "bc-config"
    assert "served when 'groundfog up' runs" in created.stderr
    assert _json(run("endpoint-configs", "describe", "bc-config", "--json"))["ProductionVariants"][0]["ModelName"] == "bc-v1"

    time.sleep(0.5)  # a hosting process would have started the worker by now
    described = _json(run("endpoints", "describe", "bc", "--json"))
    assert described["EndpointStatus"] == "Creating"
    assert described["ProductionVariants"][0]["CurrentInstanceCount"] == 0
    assert not list((home / "serving").rglob("*.ready")) and hosted == []
    summary = run("endpoints", "describe", "bc")
    assert summary.exit_code == 0 and "Creating" in summary.stdout and "AllTraffic" in summary.stdout

    assert [e["EndpointName"] for e in _json(run("endpoints", "list", "--status", "Creating", "--json"))["Endpoints"]] == ["bc"]
    assert _json(run("endpoints", "list", "--status", "InService", "--json"))["Endpoints"] == []
    history = _json(run("endpoints", "history", "bc", "--json"))["History"]
    assert [h["Stage"] for h in history] == ["Creating"]
    table = run("endpoints", "history", "bc")
    assert table.exit_code == 0 and "creating endpoint on bc-config" in table.stdout

    for args in (("invoke", "bc", "--body", "-", "--content-type", "text/csv"), ("wait", "bc")):
        refused = run("endpoints", *args, input="1,2")
        assert refused.exit_code == 7 and refused.stdout == ""
        assert refused.stderr.splitlines() == [refused.stderr.strip()] and refused.stderr.rstrip().endswith(NEEDS_SERVER)

    assert run("endpoints", "delete", "bc").exit_code == 0
    assert _json(run("endpoints", "list", "--json"))["Endpoints"] == []
    assert run("endpoints", "describe", "bc").exit_code == 3
    assert hosted == []


def test_bad_endpoint_options_fail_with_one_line(run):
    cases = [
        (("endpoints", "create", "--name", "bc"), "give --config, or --model"),
        (("endpoints", "create", "--name", "bc", "--model", "bc-v1"), "--model needs --instance-type"),
        (("endpoint-configs", "create", "--name", "c"), "give --model"),
        (("endpoint-configs", "create", "--name", "c", "--variant", "A:bc-v1"), "NAME=MODEL[:COUNT[:WEIGHT]]"),
        (("endpoint-configs", "create", "--name", "c", "--model", "nope"), "model 'nope' does not exist"),
        (("endpoints", "update", "bc", "--config", "c", "--canary", "10", "--linear", "10"), "give one of --canary, --linear"),
        (("endpoints", "update-weights", "bc", "--variant", "A=x"), "WEIGHT must be a number"),
    ]
    for args, message in cases:
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("error: ") and message in result.stderr and len(result.stderr.splitlines()) == 1


def test_deployment_config_options_build_sagemakers_request(tmp_path):
    assert build_deployment_config(None, None, 20, False, 30, 60, ["errors"]) == {
        "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
            "Type": "LINEAR", "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 20}, "WaitIntervalInSeconds": 30},
            "TerminationWaitInSeconds": 60},
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "errors"}]}}
    assert build_deployment_config(None, None, None, True, None, None, None) == {
        "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE"}}}
    assert build_deployment_config(None, None, None, False, None, None, None) is None
    rolling = {"RollingUpdatePolicy": {"MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1}, "WaitIntervalInSeconds": 5}}
    (tmp_path / "deploy.json").write_text(json.dumps(rolling))
    assert build_deployment_config(str(tmp_path / "deploy.json"), None, None, False, None, None, None) == rolling
    assert parse_variant("B=m:3", "--variant", instance_type="ml.m5.large", count=1, weight=0.5)["InitialInstanceCount"] == 3
    assert parse_desired("A=:2") == {"VariantName": "A", "DesiredInstanceCount": 2}


def test_models_create_uploads_inference_code_like_the_sdk(run, home, tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "inference.py").write_text("def model_fn(model_dir):\n    return None\n")
    created = run("models", "create", "--name", "bc-script", "--framework", "sklearn", "--model-data", V1,
                  "--entry-point", "inference.py", "--source-dir", str(code), "--env", "LOG=1", "--json")
    assert created.exit_code == 0, created.output
    with gf.Platform(Config(home=home)) as p:
        container = p.registry.describe_model(model_name="bc-script")["PrimaryContainer"]
        assert container["Image"] == "sklearn" and container["ModelDataUrl"] == V1
        environment = container["Environment"]
        assert environment["SAGEMAKER_PROGRAM"] == "inference.py" and environment["LOG"] == "1"
        key = environment["SAGEMAKER_SUBMIT_DIRECTORY"].removeprefix(f"s3://{DEFAULT_BUCKET}/")
        assert key.endswith("sourcedir.tar.gz") and p.storage.head_object(DEFAULT_BUCKET, key).size > 0
    # The command's former options still work as before.
    assert run("models", "create", "--name", "bc-plain", "--image", "sklearn", "--model-data", V1).exit_code == 0
    both = run("models", "create", "--name", "x", "--image", "sklearn", "--framework", "sklearn", "--model-data", V1)
    assert both.exit_code == 2 and "not both" in both.stderr


@contextlib.contextmanager
def server_for(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    """What ``groundfog up`` runs (the platform's background loops and its API), with
    GROUNDFOG_URL pointing at it; every endpoint is deleted and its worker stopped after."""
    platform = gf.Platform(Config(home=home)).start()
    try:
        with RunningServer(platform) as running:
            monkeypatch.setenv("GROUNDFOG_URL", running.url)
            yield running
            monkeypatch.delenv("GROUNDFOG_URL")
    finally:
        for endpoint in platform.serving.list_endpoints()["Endpoints"]:
            platform.serving.delete_endpoint(endpoint_name=endpoint["EndpointName"])
        platform.close()


def test_a_running_server_serves_cli_endpoints_and_remote_predictors(run, home, tmp_path, monkeypatch):
    # Recorded with no server, as a user does before `groundfog up` ...
    assert run("endpoint-configs", "create", "--name", "bc-v1-config", "--model", "bc-v1").exit_code == 0
    assert run("endpoints", "create", "--name", "bc", "--config", "bc-v1-config").exit_code == 0
    assert run("endpoint-configs", "create", "--name", "bc-v2-config", "--model", "bc-v2").exit_code == 0
    # ... then served once it runs.
    with server_for(home, monkeypatch) as running:
        waited = _json(run("endpoints", "wait", "bc", "--timeout", "60", "--json"))
        assert waited["EndpointStatus"] == "InService" and waited["EndpointConfigName"] == "bc-v1-config"

        rows = malignant_rows(3)
        (tmp_path / "rows.csv").write_text("\n".join(",".join(map(str, r)) for r in rows))
        invoked = run("endpoints", "invoke", "bc", "--body", str(tmp_path / "rows.csv"), "--content-type", "text/csv")
        assert invoked.exit_code == 0, invoked.output
        assert invoked.stdout_bytes == b"0\n0\n0\n" and invoked.stderr == ""
        verbose = run("endpoints", "invoke", "bc", "--body", "-", "--content-type", "text/csv", "--accept",
                      "application/json", "--verbose", input=",".join(map(str, rows[0])))
        assert verbose.stdout_bytes == b"[0]" and "invoked variant AllTraffic" in verbose.stderr

        remote = gf.connect(running.url)
        try:
            predictor = gf.Predictor("bc", serializer=CSVSerializer(), deserializer=CSVDeserializer(), platform=remote)
            X, _ = breast_cancer()
            assert [int(r[0]) for r in predictor.predict(X[:5])] == classifier()[0].predict(X[:5]).tolist()
            with pytest.raises(ModelError) as raised:
                predictor.predict(b"\x00\x01", initial_args={"ContentType": "application/x-image"})
            assert raised.value.details["OriginalStatusCode"] == 415

            updated = run("endpoints", "update", "bc", "--config", "bc-v2-config", "--canary", "50",
                          "--wait-interval", "1", "--termination-wait", "0")
            assert updated.exit_code == 0, updated.output
            assert "served when" not in updated.stderr  # a server is running: no note
            waited = _json(run("endpoints", "wait", "bc", "--timeout", "60", "--json"))
            assert waited["EndpointConfigName"] == "bc-v2-config" and "FailureReason" not in waited
            assert {r[0] for r in predictor.predict(rows)} == {"1"}
            stages = [h["Stage"] for h in _json(run("endpoints", "history", "bc", "--json"))["History"]]
            assert stages.count("TrafficShifted") == 2 and stages[-1] == "Completed"

            weights = run("endpoints", "update-weights", "bc", "--variant", "AllTraffic=1:2")
            assert weights.exit_code == 0, weights.output
            assert _json(run("endpoints", "wait", "bc", "--timeout", "60", "--json"))["EndpointStatus"] == "InService"
            summary = run("endpoints", "describe", "bc")
            assert summary.exit_code == 0 and "InService" in summary.stdout and "bc-v2-config" in summary.stdout
            assert _json(run("endpoints", "describe", "bc", "--json"))["ProductionVariants"][0]["CurrentInstanceCount"] == 2

            # The SDK deploys over HTTP too, inference code uploaded through the server.
            code = tmp_path / "code"
            code.mkdir()
            (code / "inference.py").write_text("def output_fn(prediction, accept):\n"
                                               "    return ','.join(str(int(p)) for p in prediction), 'text/csv'\n")
            remote_predictor = gf.SKLearnModel(V1, entry_point="inference.py", source_dir=str(code), name="bc-remote",
                                               platform=remote).deploy(endpoint_name="bc-remote")
            got = remote_predictor.predict(np.asarray(rows), initial_args={"Accept": "text/csv"})
            assert got is not None and list(got) == [0, 0, 0]
            remote_predictor.delete_endpoint()
            remote_predictor.delete_model()
        finally:
            remote.close()

        assert run("endpoints", "delete", "bc").exit_code == 0
        deadline = time.monotonic() + 30
        while _json(run("endpoints", "list", "--json"))["Endpoints"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _json(run("endpoints", "list", "--json"))["Endpoints"] == []
