"""Console pages for endpoints: real endpoints (worker processes serving a scikit-learn
model) read back as the HTML a person sees: the list with each endpoint's variants and
any deployment under way, and an endpoint's page with its variants, the traffic-shifting
timeline of its deployments as an SVG step chart (a rollback in red with its reason),
its history and its per-variant metrics, every user-chosen string escaped."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parents[1] / "serving"))
from endpoint_helpers import create_model, csv_rows, deploy, trained_model_tarball, variant  # noqa: E402

from groundfog import Platform  # noqa: E402
from groundfog.api import create_app  # noqa: E402

HOSTILE = '<img src=x onerror="alert(1)"> & <script>alert(2)</script>'
ALARM = "<b>green-5xx</b>"


def canary(percent: int, wait: int, alarms: tuple[str, ...] = ()) -> dict[str, Any]:
    config: dict[str, Any] = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "CANARY", "WaitIntervalInSeconds": wait, "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": percent}}}}
    if alarms:
        config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": a} for a in alarms]}
    return config  # fmt: skip


def invoke(p: Platform, endpoint: str, times: int) -> None:
    for i in range(times):
        p.serving.invoke_endpoint(endpoint, csv_rows(1, start=i), content_type="text/csv")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``shop``: a healthy canary from v1 (Blue) to v2 (Green, with a Shadow variant and
    data capture), with traffic before and after; ``risky``: a canary rolled back by an alarm with a hostile name and reason (its
    pages also fetched mid-deployment); ``pending``: an endpoint nobody hosts, Creating."""
    p = Platform(home=tmp_path_factory.mktemp("endpoint-pages") / "home")
    try:
        p.storage.create_bucket("models")
        p.storage.put_object("models", "lr/model.tar.gz", trained_model_tarball())
        create_model(p, "old")
        create_model(p, "new")
        p.storage.create_bucket("capture")
        p.serving.create_endpoint_config(
            endpoint_config_name="shop-v2", production_variants=[variant("Green", "new")],
            shadow_production_variants=[variant("Shadow", "new")],
            data_capture_config={"EnableCapture": True, "InitialSamplingPercentage": 50,
                                 "DestinationS3Uri": "s3://capture/shop", "CaptureOptions": [{"CaptureMode": "Input"}]},
        )  # fmt: skip
        deploy(p, "shop", variant("Blue", "old"), config="shop-v1")
        invoke(p, "shop", 3)
        p.serving.update_endpoint(endpoint_name="shop", endpoint_config_name="shop-v2", deployment_config=canary(20, 1))
        assert p.serving.wait_for_endpoint(endpoint_name="shop", timeout=60)["EndpointConfigName"] == "shop-v2"
        invoke(p, "shop", 5)

        p.serving.create_endpoint_config(endpoint_config_name="risky-v2", production_variants=[variant("Green", "new")])
        deploy(p, "risky", variant("Blue", "old"), config="risky-v1")
        p.metrics.put_metric_alarm(ALARM, "Invocation5XXErrors", "AWS/SageMaker", statistic="Sum", period=10,
                                   evaluation_periods=1, threshold=0.0, comparison_operator="GreaterThanThreshold",
                                   treat_missing_data="notBreaching",
                                   dimensions=[{"Name": "EndpointName", "Value": "risky"},
                                               {"Name": "VariantName", "Value": "Green"}])  # fmt: skip
        p.serving.update_endpoint(endpoint_name="risky", endpoint_config_name="risky-v2",
                                  deployment_config=canary(20, 60, alarms=(ALARM,)))  # fmt: skip
        deadline = time.monotonic() + 60
        while (p.serving.describe_endpoint(endpoint_name="risky").get("DeploymentProgress") or {}).get("Phase") != "Baking":
            assert time.monotonic() < deadline, "the canary never started baking"
            time.sleep(0.05)
        client = TestClient(create_app(p))
        p.mid_deployment = {"list": client.get("/console/endpoints"), "risky": client.get("/console/endpoints/risky")}
        p.metrics.set_alarm_state(ALARM, "ALARM", HOSTILE)
        described = p.serving.wait_for_endpoint(endpoint_name="risky", timeout=60)
        assert described["EndpointConfigName"] == "risky-v1" and "rolled back" in described["FailureReason"]

        p.serving.metrics_sink.flush()
        p.serving.create_endpoint_config(endpoint_config_name="pending-v1", production_variants=[variant("Only", "old")])
        p.serving.auto_host = False  # nobody hosts it: it stays Creating
        p.serving.create_endpoint(endpoint_name="pending", endpoint_config_name="pending-v1")
        yield p
    finally:
        p.close()


@pytest.fixture(scope="module")
def client(platform: Any) -> TestClient:
    return TestClient(create_app(platform))


def page(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.text


def timeline_points(html: str, group: str) -> list[list[tuple[float, float]]]:
    """(seconds, percent) of the points of each line of the traffic timeline in ``group``
    (``line`` or ``rolled-back``)."""
    return [[(float(x), float(y)) for x, y in re.findall(r'data-x="([^"]+)" data-y="([^"]+)"', body)]
            for body in re.findall(rf'<g class="{group}">(.*?)</g>', html, re.S)]  # fmt: skip


def test_the_list_shows_each_endpoint_its_status_config_and_variants(client):
    html = page(client, "/console/endpoints")
    for name in ("shop", "risky", "pending"):
        assert f'<a href="/console/endpoints/{name}">{name}</a>' in html
    assert html.count("status s-InService") == 2 and "status s-Creating" in html
    assert "<b>Green</b> weight 1, 1/1 instances" in html  # shop, on its new config
    assert '<b>Shadow</b> <span class="note">shadow</span> weight 1, 1/1 instances' in html
    assert "<b>Only</b> weight 1, 0/1 instances" in html  # pending: no instance yet
    assert "shop-v2" in html and "risky-v1" in html
    assert '<meta http-equiv="refresh"' in html  # an endpoint is still Creating


def test_a_deployment_under_way_shows_its_step_and_new_fleet(platform):
    listed, detail = platform.mid_deployment["list"], platform.mid_deployment["risky"]
    assert listed.status_code == detail.status_code == 200
    assert "CANARY step 1/2, new fleet 20%" in listed.text and "(Baking) to risky-v2" in listed.text
    assert "CANARY step 1/2, new fleet 20%" in detail.text
    assert '<tr class="pending"><td><b>Green</b></td><td>new (risky-v2), 20% of traffic' in detail.text
    assert "current (risky-v1), 80% of traffic" in detail.text
    assert timeline_points(detail.text, "line")[0][:2] == [(0.0, 0.0), (pytest.approx(0, abs=60), 20.0)]
    assert '<meta http-equiv="refresh"' in detail.text


def test_the_timeline_steps_the_new_fleet_to_20_then_100_percent(client):
    html = page(client, "/console/endpoints/shop")
    [points] = timeline_points(html, "line")
    assert [share for _, share in points] == [0.0, 20.0, 100.0, 100.0]  # started, canary, rest, completed
    seconds = [x for x, _ in points]
    assert seconds == sorted(seconds) and seconds[2] - seconds[1] >= 1.0  # it baked WaitIntervalInSeconds
    assert "completed in" in html and "rolled-back" not in html
    assert "<title>" in html and "20% of traffic on the new fleet (step 1 of 2)" in html


def test_the_page_shows_variants_history_and_metrics(client):
    html = page(client, "/console/endpoints/shop")
    assert '<span class="status s-InService">InService</span>' in html
    assert "<td>current (shop-v2)</td><td>new</td>" in html  # Green's fleet and model
    assert '<tr class="shadow"><td><b>Shadow</b> <span class="status s-shadow">shadow</span></td>' in html
    assert "<dd>50% of requests to <code>s3://capture/shop</code> (Started)</dd>" in html
    history = re.search(r"<h2>History</h2>(.*?)</table>", html, re.S).group(1)
    stages = re.findall(r'class="status s-(\w+)"', history)
    assert stages[:4] == ["Completed", "TerminationWait", "TrafficShifted", "TrafficShifted"]  # newest first
    assert stages[-1] == "Creating"
    assert "<h3>Green</h3>" in html  # served after the update
    assert '<h3>Blue <span class="note">(no longer on the endpoint)</span></h3>' in html  # served before it
    assert "<h3>Shadow</h3>" in html  # a shadow variant serves copies of the traffic
    assert html.count("Invocations and errors per minute") == 3 and "model latency" in html
    assert "CANARY 20%, wait 1 s" in html  # last deployment config


def test_a_rollback_is_drawn_red_with_its_reason_escaped(client):
    html = page(client, "/console/endpoints/risky")
    [points] = timeline_points(html, "rolled-back")
    assert [share for _, share in points] == [0.0, 20.0, 0.0]
    rolled_back = re.search(r'<g class="rolled-back">(.*?)</g>', html, re.S).group(1)
    assert 'stroke="#d62728"' in rolled_back and 'class="rollback"' in rolled_back
    assert "rolled back after" in html and '<span class="failure-note">alarm &lt;b&gt;green-5xx&lt;/b&gt; went to ALARM' in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html and "&lt;b&gt;green-5xx&lt;/b&gt;" in html
    assert "<script>" not in html and "<img" not in html and "<b>green-5xx</b>" not in html
    assert 'class="failure"' in html  # the FailureReason, in service on the old config
    assert "current (risky-v1)" in html and 'class="pending"' not in html


def test_a_creating_endpoint_renders_with_nothing_to_show_yet(client):
    html = page(client, "/console/endpoints/pending")
    assert '<span class="status s-Creating">Creating</span>' in html
    assert "no deployments yet" in html and "no invocations in the last hour" in html
    assert "Creating <span class=\"note\">0 of 1 instances in service</span>" in html
    assert '<meta http-equiv="refresh"' in html


def test_an_unknown_endpoint_is_a_not_found_page(client):
    response = client.get("/console/endpoints/nowhere")
    assert response.status_code == 404 and "endpoint &#x27;nowhere&#x27; does not exist" in response.text
    hostile = client.get("/console/endpoints/" + "%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert hostile.status_code == 404 and "<script>" not in hostile.text


def test_a_batched_rollback_is_drawn_step_by_step_down_to_the_old_fleet():
    from datetime import datetime, timedelta, timezone

    from groundfog.console.endpoints_pages import deployment_lines

    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    history = [
        {"Time": t0, "Stage": "UpdateStarted", "Message": "updating to v2 (ROLLING)"},
        {"Time": t0 + timedelta(seconds=1), "Stage": "TrafficShifted", "Message": "50%", "Detail": {"GreenShare": 0.5}},
        {"Time": t0 + timedelta(seconds=4), "Stage": "TrafficShifted", "Message": "100%", "Detail": {"GreenShare": 1.0}},
        {"Time": t0 + timedelta(seconds=5), "Stage": "RollingBack", "Message": "back in 2 batches",
         "Detail": {"GreenShare": 1.0, "Reason": "5XX", "Batches": 2}},
        {"Time": t0 + timedelta(seconds=6), "Stage": "RollbackShifted", "Message": "50% back", "Detail": {"GreenShare": 0.5}},
        {"Time": t0 + timedelta(seconds=7), "Stage": "RollbackShifted", "Message": "100% back", "Detail": {"GreenShare": 0.0}},
        {"Time": t0 + timedelta(seconds=7), "Stage": "RolledBack", "Message": "in service on v1 again"},
    ]  # fmt: skip
    [(label, points, failed)] = deployment_lines(history)
    assert [(x, y) for x, y, _ in points] == [(0, 0), (1, 50), (4, 100), (5, 100), (6, 50), (7, 0), (7, 0)]
    assert failed == "5XX" and "rolled back after 7.0 s" in label
