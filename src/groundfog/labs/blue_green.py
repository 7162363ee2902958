"""Seed note: "Blue/green deployment: deploy new model to a separate environment and
switch all traffic to it after testing it. Easy rollback."

Two ways, both for real. By hand, with production variants: the green model runs
beside the blue one with weight 0 (its own worker processes: a separate environment),
is tested through ``TargetVariant`` while every other request still goes to blue, then
one UpdateEndpointWeightsAndCapacities call switches all traffic, and another switches
it back — the easy rollback. Managed, with UpdateEndpoint's blue/green policy
(ALL_AT_ONCE and a bake): a green fleet that starts failing trips its alarm while it
bakes and the endpoint goes back to blue on its own.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from groundfog.labs.endpoints import csv_row, errors_alarm, put_model, trained_tarball, variant
from groundfog.labs.traffic import Traffic

if TYPE_CHECKING:
    from groundfog.labs import LabResult
    from groundfog.platform import Platform

ENDPOINT = "blue-green"


def _switch(p: "Platform", blue: float, green: float) -> float:
    p.serving.update_endpoint_weights_and_capacities(endpoint_name=ENDPOINT, desired_weights_and_capacities=[
        {"VariantName": "Blue", "DesiredWeight": blue}, {"VariantName": "Green", "DesiredWeight": green}])  # fmt: skip
    p.serving.wait_for_endpoint(endpoint_name=ENDPOINT, timeout=30)
    return time.time()


def run(p: "Platform", result: "LabResult") -> None:
    put_model(p, "model-blue", trained_tarball(c=1.0))
    put_model(p, "model-green", trained_tarball(c=0.1))
    p.serving.create_endpoint_config(endpoint_config_name="side-by-side", production_variants=[
        variant("Blue", "model-blue", weight=1.0), variant("Green", "model-green", weight=0.0)])  # fmt: skip
    p.serving.create_endpoint(endpoint_name=ENDPOINT, endpoint_config_name="side-by-side")
    p.serving.wait_for_endpoint(endpoint_name=ENDPOINT, timeout=60)
    row = csv_row(3)
    with Traffic(p, ENDPOINT, row) as traffic:
        time.sleep(0.5)
        tested = {p.serving.invoke_endpoint(ENDPOINT, row, content_type="text/csv", target_variant="Green")
                  .invoked_production_variant for _ in range(20)}  # fmt: skip
        before = time.time()
        result.check("green runs in its own environment and is tested while blue takes all live traffic",
                     tested == {"Green"} and set(traffic.shares(0, before)) == {"Blue"},
                     f"20 test requests answered by {sorted(tested)}; live traffic so far: {traffic.shares(0, before)}")  # fmt: skip
        switched = _switch(p, 0.0, 1.0)
        time.sleep(0.5)
        after_switch = traffic.shares(switched, switched + 0.5)
        result.check("one call switches all traffic to green", after_switch == {"Green": 1.0}, str(after_switch))
        rolled = _switch(p, 1.0, 0.0)
        time.sleep(0.5)
        after_rollback = traffic.shares(rolled, rolled + 0.5)
        result.check("rolling back is the same call the other way, effective at once",
                     after_rollback == {"Blue": 1.0} and not traffic.errors(),
                     f"{after_rollback}; {len(traffic.outcomes)} requests, {len(traffic.errors())} errors")  # fmt: skip

    put_model(p, "model-broken", trained_tarball(), program="flaky.py")
    p.serving.create_endpoint_config(endpoint_config_name="green-broken",
                                     production_variants=[variant("Green", "model-broken")])  # fmt: skip
    alarm = errors_alarm(p, ENDPOINT, "Green")
    policy = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 30},
                                        "TerminationWaitInSeconds": 0},
              "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": alarm}]}}  # fmt: skip
    with Traffic(p, ENDPOINT, row) as traffic:
        time.sleep(0.3)
        p.serving.update_endpoint(endpoint_name=ENDPOINT, endpoint_config_name="green-broken", deployment_config=policy)
        described = p.serving.wait_for_endpoint(endpoint_name=ENDPOINT, timeout=60)
        back = time.time()
        time.sleep(0.5)
    stages = [h["Stage"] for h in p.serving.list_endpoint_history(endpoint_name=ENDPOINT)["History"]]
    result.check("a managed all-at-once switch to a failing green fleet rolls back to blue by itself",
                 described["EndpointConfigName"] == "side-by-side" and described["EndpointStatus"] == "InService"
                 and stages[-2:] == ["RollingBack", "RolledBack"] and traffic.shares(back, back + 1) == {"Blue": 1.0},
                 described.get("FailureReason", ""))  # fmt: skip
