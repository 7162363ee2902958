"""Blue/green deployments (all at once, canary, linear), rolling updates, and automatic
rollback when an alarm fires while the new fleet bakes."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from endpoint_helpers import create_model, csv_rows, deploy, variant, wait_for
from groundfog.core.errors import ValidationError
from groundfog.labs.traffic import Traffic


def _errors_alarm(platform, endpoint: str, variant_name: str, name: str = "canary-5xx") -> str:
    platform.metrics.put_metric_alarm(
        name, "Invocation5XXErrors", "AWS/SageMaker", statistic="Sum", period=10, evaluation_periods=1,
        threshold=0.0, comparison_operator="GreaterThanThreshold", treat_missing_data="notBreaching",
        dimensions=[{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant_name}],
    )
    return name


def _canary(percent: int, wait: int, termination: int = 0, alarms: tuple[str, ...] = ()) -> dict:
    config = {"BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": wait,
                                        "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": percent}},
        "TerminationWaitInSeconds": termination, "MaximumExecutionTimeoutInSeconds": 600}}
    if alarms:
        config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": a} for a in alarms]}
    return config


def _wait_steady(platform, endpoint: str, timeout: float = 60) -> dict:
    described = platform.serving.wait_for_endpoint(endpoint_name=endpoint, timeout=timeout)
    assert described["EndpointStatus"] not in ("Updating", "RollingBack"), described
    return described


def test_canary_rolls_back_when_error_alarm_fires(gfp):
    create_model(gfp, "good")
    create_model(gfp, "flaky", program="flaky.py")
    deploy(gfp, "e", variant("Blue", "good"), config="v1")
    gfp.serving.create_endpoint_config(endpoint_config_name="v2", production_variants=[variant("Green", "flaky")])
    alarm = _errors_alarm(gfp, "e", "Green")
    bake = 30
    with Traffic(gfp, "e", csv_rows(1)) as traffic:
        time.sleep(0.3)
        started = time.time()
        gfp.serving.update_endpoint(endpoint_name="e", endpoint_config_name="v2",
                                    deployment_config=_canary(20, bake, alarms=(alarm,)))
        described = _wait_steady(gfp, "e")
        rolled_back_at = time.time()
        time.sleep(0.5)
    assert rolled_back_at - started < bake, "the rollback must come within the bake window"
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == "v1"
    assert f"alarm {alarm} went to ALARM" in described["FailureReason"]
    assert [v["VariantName"] for v in described["ProductionVariants"]] == ["Blue"]
    errors = [o for o in traffic.outcomes if o.error]
    assert errors, "the canary must have failed some requests"
    assert {o.variant for o in errors} == {"Green"}, Counter(o.variant for o in errors)
    green = [o for o in traffic.outcomes if o.variant == "Green"]
    assert all(o.at < rolled_back_at + 0.2 for o in green)  # nothing reaches green once rolled back
    assert traffic.outcomes[-1].variant == "Blue" and traffic.outcomes[-1].error is None
    stages = [h["Stage"] for h in gfp.serving.list_endpoint_history(endpoint_name="e")["History"]]
    assert stages[-5:] == ["UpdateStarted", "Provisioned", "TrafficShifted", "RollingBack", "RolledBack"]


def test_a_healthy_canary_ends_with_all_traffic_on_the_new_fleet(gfp):
    create_model(gfp, "old")
    create_model(gfp, "new")
    deploy(gfp, "e", variant("Blue", "old"), config="v1")
    gfp.serving.create_endpoint_config(endpoint_config_name="v2", production_variants=[variant("Green", "new")])
    alarm = _errors_alarm(gfp, "e", "Green")
    with Traffic(gfp, "e", csv_rows(1)) as traffic:
        gfp.serving.update_endpoint(endpoint_name="e", endpoint_config_name="v2",
                                    deployment_config=_canary(10, 2, termination=1, alarms=(alarm,)))
        described = _wait_steady(gfp, "e")
        finished = time.time()
        time.sleep(0.5)
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "v2"
    assert "FailureReason" not in described
    assert described["LastDeploymentConfig"]["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["Type"] == "CANARY"
    assert not [o for o in traffic.outcomes if o.error]
    after = [o.variant for o in traffic.outcomes if o.at > finished]
    assert after and set(after) == {"Green"}
    history = gfp.serving.list_endpoint_history(endpoint_name="e")["History"]
    shifts = [h["Detail"]["GreenShare"] for h in history if h["Stage"] == "TrafficShifted"]
    assert shifts == [0.1, 1.0]
    assert history[-1]["Stage"] == "Completed"


def test_linear_traffic_shares_follow_the_steps(gfp):
    create_model(gfp, "old")
    create_model(gfp, "new")
    deploy(gfp, "e", variant("Blue", "old"), config="v1")
    gfp.serving.create_endpoint_config(endpoint_config_name="v2", production_variants=[variant("Green", "new")])
    policy = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "LINEAR", "WaitIntervalInSeconds": 2, "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25}}}}
    with Traffic(gfp, "e", csv_rows(1), threads=3) as traffic:
        gfp.serving.update_endpoint(endpoint_name="e", endpoint_config_name="v2", deployment_config=policy)
        _wait_steady(gfp, "e")
    history = gfp.serving.list_endpoint_history(endpoint_name="e")["History"]
    shifts = [(h["Time"].timestamp(), h["Detail"]["GreenShare"]) for h in history if h["Stage"] == "TrafficShifted"]
    assert [share for _, share in shifts] == [0.25, 0.5, 0.75, 1.0]
    for (start, share), (end, _) in zip(shifts, shifts[1:]):
        window = [o.variant for o in traffic.outcomes if start + 0.1 < o.at < end - 0.1]
        observed = window.count("Green") / len(window)
        assert len(window) > 100 and abs(observed - share) < 0.08, (share, observed, len(window))


def test_all_at_once_without_a_deployment_config_switches_everything(gfp):
    create_model(gfp, "old")
    create_model(gfp, "new")
    deploy(gfp, "e", variant("AllTraffic", "old"), config="v1")
    gfp.serving.create_endpoint_config(endpoint_config_name="v2", production_variants=[variant("AllTraffic", "new", count=2)])
    gfp.serving.update_endpoint(endpoint_name="e", endpoint_config_name="v2")
    described = _wait_steady(gfp, "e")
    assert described["EndpointConfigName"] == "v2"
    assert described["ProductionVariants"][0]["CurrentInstanceCount"] == 2
    # The host stops a retired fleet's workers just after it writes the new status.
    assert wait_for(lambda: len(gfp.serving.host.workers) == 2)  # the old fleet's worker is gone


def test_rolling_update_moves_batch_by_batch_and_retires_the_old_fleet(gfp):
    create_model(gfp, "old")
    create_model(gfp, "new")
    deploy(gfp, "e", variant("AllTraffic", "old", count=2), config="v1")
    gfp.serving.create_endpoint_config(endpoint_config_name="v2", production_variants=[variant("AllTraffic", "new", count=2)])
    policy = {"RollingUpdatePolicy": {"MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
                                      "WaitIntervalInSeconds": 1}}
    with Traffic(gfp, "e", csv_rows(1)) as traffic:
        gfp.serving.update_endpoint(endpoint_name="e", endpoint_config_name="v2", deployment_config=policy)
        described = _wait_steady(gfp, "e")
    assert described["EndpointConfigName"] == "v2"
    assert not [o for o in traffic.outcomes if o.error]
    shifts = [h["Detail"]["GreenShare"] for h in gfp.serving.list_endpoint_history(endpoint_name="e")["History"]
              if h["Stage"] == "TrafficShifted"]
    assert shifts == [0.5, 1.0]


def test_a_rolling_update_rolls_back_batch_by_batch_without_errors(gfp):
    create_model(gfp, "old")
    create_model(gfp, "new")
    deploy(gfp, "e", variant("AllTraffic", "old", count=2), config="v1")
    gfp.serving.create_endpoint_config(endpoint_config_name="v2", production_variants=[variant("AllTraffic", "new", count=2)])
    alarm = _errors_alarm(gfp, "e", "AllTraffic", name="rolling-alarm")
    policy = {"RollingUpdatePolicy": {"MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
                                      "WaitIntervalInSeconds": 3,
                                      "RollbackMaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1}},
              "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": alarm}]}}  # fmt: skip
    with Traffic(gfp, "e", csv_rows(1)) as traffic:
        gfp.serving.update_endpoint(endpoint_name="e", endpoint_config_name="v2", deployment_config=policy)
        deadline = time.monotonic() + 30
        # The alarm fires while the last batch bakes: all traffic is on the new fleet.
        while (gfp.serving.describe_endpoint(endpoint_name="e").get("DeploymentProgress") or {}).get("Step") != 2:
            assert time.monotonic() < deadline, "the second batch never shifted"
            time.sleep(0.02)
        gfp.metrics.set_alarm_state(alarm, "ALARM", "errors on the new fleet")
        described = _wait_steady(gfp, "e")
        time.sleep(0.3)
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "v1"
    assert described["ProductionVariants"][0]["CurrentInstanceCount"] == 2
    assert "errors on the new fleet" in described["FailureReason"]
    history = gfp.serving.list_endpoint_history(endpoint_name="e")["History"]
    back = [(h["Stage"], h.get("Detail", {}).get("GreenShare")) for h in history
            if h["Stage"] in ("RollingBack", "RollbackShifted", "RolledBack")]
    assert back == [("RollingBack", 1.0), ("RollbackShifted", 0.5), ("RollbackShifted", 0.0), ("RolledBack", None)]
    assert not traffic.errors(), traffic.errors()[:3]
    assert wait_for(lambda: len(gfp.serving.host.workers) == 2)  # the new fleet is gone


def test_a_new_fleet_that_cannot_start_is_rolled_back(gfp):
    create_model(gfp, "old")
    gfp.registry.create_model(model_name="broken", primary_container={"Image": "sklearn",
                              "ModelDataUrl": "s3://models/lr/model.tar.gz",
                              "Environment": {"SAGEMAKER_PROGRAM": "missing.py"}})
    deploy(gfp, "e", variant("AllTraffic", "old"), config="v1")
    gfp.serving.create_endpoint_config(endpoint_config_name="v2", production_variants=[variant("AllTraffic", "broken")])
    gfp.serving.update_endpoint(endpoint_name="e", endpoint_config_name="v2")
    described = _wait_steady(gfp, "e")
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "v1"
    assert "could not start" in described["FailureReason"] and "missing.py" in described["FailureReason"]
    assert gfp.serving.invoke_endpoint("e", csv_rows(1), content_type="text/csv").body


def test_updates_are_refused_with_the_field_named(gfp):
    create_model(gfp, "lr")
    deploy(gfp, "e", variant("AllTraffic", "lr"), config="v1")
    gfp.serving.create_endpoint_config(endpoint_config_name="v2", production_variants=[variant("AllTraffic", "lr")])
    with pytest.raises(ValidationError, match="no alarm named 'nope'"):
        gfp.serving.update_endpoint(endpoint_name="e", endpoint_config_name="v2",
                                    deployment_config=_canary(10, 5, alarms=("nope",)))
    with pytest.raises(ValidationError, match="more than half") as too_big:
        gfp.serving.update_endpoint(endpoint_name="e", endpoint_config_name="v2", deployment_config=_canary(80, 5))
    assert too_big.value.field.endswith("CanarySize")
    with pytest.raises(ValidationError, match="CanarySize is required"):
        gfp.serving.update_endpoint(endpoint_name="e", endpoint_config_name="v2", deployment_config={
            "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "CANARY"}}})
    gfp.serving.update_endpoint(endpoint_name="e", endpoint_config_name="v2", deployment_config=_canary(10, 30))
    with pytest.raises(ValidationError, match="can be updated only when InService"):
        gfp.serving.update_endpoint(endpoint_name="e", endpoint_config_name="v1")
    assert gfp.serving.describe_endpoint(endpoint_name="e")["EndpointStatus"] == "Updating"
