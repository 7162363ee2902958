"""The ``instances`` service: reached as a platform service, over HTTP and from the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from groundfog import Platform
from groundfog.api import create_app
from groundfog.cli.main import app
from groundfog.core.config import Config
from groundfog.core.errors import ValidationError
from groundfog.labs import run_lab
from groundfog.training.catalog import Cost, Family, InstanceType


@pytest.fixture
def local_platform(tmp_path) -> Iterator[Platform]:
    # The service keeps no state: one backend is enough.
    p = Platform(Config(home=tmp_path / "home"))
    yield p
    p.close()


@pytest.fixture
def http(local_platform) -> Iterator[TestClient]:
    with TestClient(create_app(local_platform), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("GROUNDFOG_HOME", str(tmp_path / "cli-home"))
    monkeypatch.delenv("GROUNDFOG_URL", raising=False)
    monkeypatch.delenv("GROUNDFOG_STATE_URL", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


# -- the service ----------------------------------------------------------------------------


def test_the_platform_serves_instances(local_platform):
    assert local_platform.services["instances"] is local_platform.instances
    assert local_platform.instances.name == "instances"


def test_describe_list_and_families(local_platform):
    svc = local_platform.instances
    t = svc.describe_instance_type(instance_type="ml.g5.12xlarge")
    assert isinstance(t, InstanceType) and (t.gpus, t.accelerator) == (4, "NVIDIA A10G")
    assert [x.name for x in svc.list_instance_types(family="inf2")][0] == "ml.inf2.xlarge"
    assert {x.family for x in svc.list_instance_types(category="accelerated")} == {"p3", "p4d", "g4dn", "g5"}
    fams = svc.list_families()
    assert all(isinstance(f, Family) for f in fams) and [f.name for f in svc.list_families(category="memory")] == ["r5"]


def test_estimate_cost_in_hours(local_platform):
    svc = local_platform.instances
    c = svc.estimate_cost(instance_type="ml.c5.xlarge", instance_count=2, hours=10, use_spot=True)
    assert isinstance(c, Cost)
    assert c.billable_seconds == 36_000 and c.on_demand_usd == pytest.approx(4.08) and c.usd == pytest.approx(1.3056)
    assert svc.estimate_cost(instance_type="ml.c5.xlarge").usd == 0.204  # one host for one hour by default
    three = svc.estimate_cost(instance_type="ml.m5.xlarge", hours=730, savings_plan="3yr")
    assert three.usd == pytest.approx(0.23 * 730 * 0.5)


@pytest.mark.parametrize("kwargs, field", [
    ({"hours": 0}, "hours"), ({"hours": -2.5}, "hours"), ({"hours": float("nan")}, "hours"),
    ({"hours": float("inf")}, "hours"), ({"hours": 10**9}, "hours"), ({"hours": True}, "hours"),
    ({"instance_count": 0}, "InstanceCount"), ({"instance_type": "ml.m5.3xlarge"}, "InstanceType"),
    ({"savings_plan": "5yr"}, "savings_plan"), ({"use_spot": True, "savings_plan": "3yr"}, "savings_plan"),
    ({"instance_type": "ml.inf1.xlarge", "use_spot": True}, "use_spot"), ({"use_spot": "yes"}, "use_spot"),
])
def test_estimate_cost_errors_name_the_field(local_platform, kwargs, field):
    with pytest.raises(ValidationError) as caught:
        local_platform.instances.estimate_cost(**{"instance_type": "ml.m5.large", **kwargs})
    assert caught.value.field == field


# -- over HTTP -------------------------------------------------------------------------------


def test_operations_are_in_the_openapi_schema(http):
    paths = http.get("/openapi.json").json()["paths"]
    for op in ("ListInstanceTypes", "DescribeInstanceType", "ListFamilies", "EstimateCost"):
        assert f"/api/instances/{op}" in paths


def test_estimate_cost_over_http_rebuilds_the_same_model(http, local_platform):
    body = {"instance_type": "ml.p3.2xlarge", "instance_count": 2, "hours": 10, "use_spot": True}
    r = http.post("/api/instances/EstimateCost", json=body)
    assert r.status_code == 200, r.text
    assert Cost.model_validate(r.json()) == local_platform.instances.estimate_cost(**body)


def test_list_and_describe_over_http(http, local_platform):
    listed = http.post("/api/instances/ListInstanceTypes", json={"category": "inference"}).json()
    assert [t["name"] for t in listed][:2] == ["ml.inf1.xlarge", "ml.inf1.2xlarge"]
    assert listed[0]["spot_per_hour"] is None and listed[0]["accelerator"] == "AWS Inferentia"
    everything = http.post("/api/instances/ListInstanceTypes").json()
    assert len(everything) == len(local_platform.instances.list_instance_types()) == 48
    t = http.post("/api/instances/DescribeInstanceType", json={"instance_type": "ml.r5.large"}).json()
    assert (t["vcpus"], t["memory_gib"], t["category"], t["spot_per_hour"]) == (2, 16.0, "memory", 0.04832)
    # The answer (computed spot price and all) rebuilds the embedded model.
    embedded = local_platform.instances.describe_instance_type(instance_type="ml.r5.large")
    assert InstanceType.model_validate(t) == embedded


@pytest.mark.parametrize("path, body, field, fragment", [
    ("DescribeInstanceType", {"instance_type": "ml.m5.3xlarge"}, "InstanceType", "ml.m5.4xlarge"),
    ("DescribeInstanceType", {}, "instance_type", "instance_type"),
    ("ListInstanceTypes", {"family": "z1"}, "family", "g4dn"),
    ("ListFamilies", {"category": "quantum"}, "category", "inference"),
    ("EstimateCost", {"instance_type": "ml.m5.large", "hours": -1}, "hours", "above 0"),
    ("EstimateCost", {"instance_type": "ml.m5.large", "instance_count": 2**64}, "InstanceCount", "1000"),
    ("EstimateCost", {"instance_type": "ml.m5.large", "savings_plan": "2yr"}, "savings_plan", "1yr"),
])
def test_bad_requests_are_400s_that_name_the_field(http, path, body, field, fragment):
    r = http.post(f"/api/instances/{path}", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["__type"] == "ValidationException" and r.json()["field"] == field
    assert fragment in r.json()["message"]


def test_nan_hours_in_json_is_a_400(http):
    raw = b'{"instance_type": "ml.m5.large", "hours": NaN}'
    r = http.post("/api/instances/EstimateCost", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["field"] == "hours"


HOSTILE = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
    st.sampled_from(["ml.m5.large", "ml.inf2.xlarge", "1yr", "3yr", "m5", "general", "\x00", "\ud800", "a" * 5000,
                     10**400, -(2**63), 2**64, 1e308, float("nan")]),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
SEEDS = {
    "ListInstanceTypes": {"family": "m5", "category": "general"},
    "DescribeInstanceType": {"instance_type": "ml.m5.large"},
    "ListFamilies": {"category": "accelerated"},
    "EstimateCost": {"instance_type": "ml.p3.2xlarge", "instance_count": 2, "hours": 1.5, "use_spot": False,
                     "savings_plan": "1yr"},
}


@pytest.mark.parametrize("op", sorted(SEEDS))
def test_hostile_values_get_a_typed_answer_never_a_500(http, op):
    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def fuzz(data: Any) -> None:
        body = dict(SEEDS[op])
        for key in data.draw(st.lists(st.sampled_from(sorted(body) + ["extra"]), min_size=1, max_size=3)):
            body[key] = data.draw(HOSTILE)
        r = http.post(f"/api/instances/{op}", content=json.dumps(body).encode(),
                      headers={"content-type": "application/json"})
        assert r.status_code < 500, (body, r.text)
        if r.status_code >= 400:
            error = r.json()
            assert error["__type"] and error["message"] and error.get("field"), (body, error)

    fuzz()


# -- from the CLI ----------------------------------------------------------------------------


def test_cli_list_prints_a_table_with_prices(cli):
    r = cli("instances", "list", "--family", "p3")
    assert r.exit_code == 0, r.output
    assert "ml.p3.16xlarge" in r.output and "28.152" in r.output and "8.446" in r.output
    assert "ml.m5" not in r.output


def test_cli_list_json(cli):
    r = cli("instances", "list", "--category", "compute", "--json")
    assert r.exit_code == 0, r.output
    names = [t["name"] for t in json.loads(r.stdout)["InstanceTypes"]]
    assert names == ["ml.c5.large", "ml.c5.xlarge", "ml.c5.2xlarge", "ml.c5.4xlarge", "ml.c5.9xlarge", "ml.c5.18xlarge"]


def test_cli_cost_says_what_spot_saves(cli):
    r = cli("instances", "cost", "ml.p3.2xlarge", "--count", "2", "--hours", "10", "--spot")
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "$22.95" in text and "$76.50" in text and "70%" in text


def test_cli_cost_json_with_a_savings_plan(cli):
    r = cli("instances", "cost", "ml.m5.xlarge", "--hours", "730", "--savings-plan", "3yr", "--json")
    assert r.exit_code == 0, r.output
    cost = json.loads(r.stdout)
    assert cost["savings_plan"] == "3yr" and cost["usd"] == pytest.approx(83.95) and cost["savings_percent"] == 50.0


def test_cli_families_lists_what_each_is_for(cli):
    r = cli("instances", "families", "--json")
    assert r.exit_code == 0, r.output
    fams = {f["name"]: f for f in json.loads(r.stdout)["Families"]}
    assert "XGBoost" in fams["c5"]["purpose"] and fams["inf1"]["spot_discount"] is None


@pytest.mark.parametrize("args, fragment", [
    (["cost", "ml.m5.3xlarge"], "ml.m5.4xlarge"),
    (["cost", "ml.m5.large", "--savings-plan", "2yr"], "'1yr' or '3yr'"),
    (["cost", "ml.m5.large", "--spot", "--savings-plan", "1yr"], "do not stack"),
    (["cost", "ml.m5.large", "--count", "0"], "InstanceCount"),
    (["cost", "ml.m5.large", "--hours", "0"], "hours"),
    (["list", "--family", "p"], "families: t3"),
])
def test_cli_errors_are_one_line_with_exit_code_2(cli, args, fragment):
    r = cli("instances", *args)
    assert r.exit_code == 2, r.output
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]


# -- the lab ---------------------------------------------------------------------------------


def test_the_instance_families_lab_checks_every_family_of_the_note(local_platform):
    result = run_lab("instance-families", local_platform)
    assert result.passed, [(c.claim, c.detail) for c in result.checks if not c.passed]
    claims = " ".join(c.claim for c in result.checks)
    for family in ("Standard (t)", "Compute optimized (c)", "Memory optimized (r)", "Accelerated computing (p, g)",
                   "Inference (inf)", "spot", "1 or 3 year plan"):
        assert family in claims
