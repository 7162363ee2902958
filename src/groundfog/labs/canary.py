"""Seed note: "Canary: first direct a small percentage of traffic to the new deployment,
then increase or decrease based on performance. good rollout, allows real-world traffic
testing."

The scenario, for real: the retrain-on-upload pipeline trains and registers a model,
which is deployed behind an endpoint that takes steady traffic. The pipeline retrains
(another regularisation) and registers version 2; a canary update sends 10% of live
traffic to it while an alarm watches its 5xx errors, bakes, and then moves the rest.
Then a bad release (it fails every second request) goes out the same way: the alarm
fires during the bake, traffic returns to the old model, and only the requests the
canary took saw errors. The lab prints the traffic shares over time.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from groundfog.labs import retrain_on_upload as retrain
from groundfog.labs.endpoints import csv_row, errors_alarm, put_model, shifts, trained_tarball, variant
from groundfog.labs.traffic import Traffic

if TYPE_CHECKING:
    from groundfog.labs import LabResult
    from groundfog.platform import Platform

ENDPOINT = "breast-cancer"
CANARY_PERCENT = 10
BAKE_SECONDS = 3


def canary_policy(alarm: str, percent: int = CANARY_PERCENT, bake: int = BAKE_SECONDS) -> dict:
    return {"BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": bake,
                                                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": percent}},
                "TerminationWaitInSeconds": 0, "MaximumExecutionTimeoutInSeconds": 600},
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": alarm}]}}  # fmt: skip


def timeline(traffic: Traffic, marks: list[tuple[float, float]], new: str, end: float) -> str:
    """The new variant's observed share between successive traffic shifts."""
    parts, origin = [], marks[0][0] if marks else end
    edges = [*marks, (end, None)]
    for (start, planned), (stop, _) in zip(edges, edges[1:]):
        share = traffic.shares(start, stop).get(new, 0.0)
        parts.append(f"{start - origin:4.1f}-{stop - origin:4.1f} s: planned {planned:.0%}, observed {share:.0%}")
    return "; ".join(parts)


def _registered_model(p: "Platform", version: int) -> str:
    packages = p.registry.list_model_packages(model_package_group_name=retrain.GROUP)["ModelPackageSummaryList"]
    arn = next(pk["ModelPackageArn"] for pk in packages if pk["ModelPackageVersion"] == version)
    p.registry.update_model_package(model_package_arn=arn, model_approval_status="Approved")
    name = f"breast-cancer-v{version}"
    p.registry.create_model(model_name=name, primary_container={"ModelPackageName": arn})
    return name


def run(p: "Platform", result: "LabResult") -> None:
    retrain.wire(p)
    first = retrain.upload_and_wait(p, "incoming/breast-cancer.csv", retrain.dataset_csv())
    if not result.check("the pipeline trains and registers version 1", first["PipelineExecutionStatus"] == "Succeeded",
                        first.get("FailureReason", "")):  # fmt: skip
        return
    v1 = _registered_model(p, 1)
    p.serving.create_endpoint_config(endpoint_config_name=f"{ENDPOINT}-v1", production_variants=[variant("v1", v1)])
    started = time.monotonic()
    p.serving.create_endpoint(endpoint_name=ENDPOINT, endpoint_config_name=f"{ENDPOINT}-v1")
    described = p.serving.wait_for_endpoint(endpoint_name=ENDPOINT, timeout=60)
    answer = p.serving.invoke_endpoint(ENDPOINT, csv_row(0), content_type="text/csv")
    result.check("the registered model is deployed and answers", described["EndpointStatus"] == "InService"
                 and float(answer.body) in (0.0, 1.0),
                 f"InService in {time.monotonic() - started:.1f} s; prediction {answer.body.decode().strip()}")  # fmt: skip

    second = p.pipelines.start_pipeline_execution(pipeline_name=retrain.PIPELINE, pipeline_parameters=[
        {"Name": "InputDataUrl", "Value": f"s3://{retrain.BUCKET}/incoming/breast-cancer.csv"},
        {"Name": "RegularizationC", "Value": "0.3"}])  # fmt: skip
    done = p.pipelines.wait_for_pipeline_execution(pipeline_execution_arn=second["PipelineExecutionArn"], timeout=120)
    if not result.check("the pipeline retrains and registers version 2", done["PipelineExecutionStatus"] == "Succeeded",
                        done.get("FailureReason", "")):  # fmt: skip
        return
    v2 = _registered_model(p, 2)
    p.serving.create_endpoint_config(endpoint_config_name=f"{ENDPOINT}-v2", production_variants=[variant("v2", v2)])
    alarm = errors_alarm(p, ENDPOINT, "v2")
    with Traffic(p, ENDPOINT, csv_row(1)) as traffic:
        time.sleep(0.3)
        p.serving.update_endpoint(endpoint_name=ENDPOINT, endpoint_config_name=f"{ENDPOINT}-v2",
                                  deployment_config=canary_policy(alarm))  # fmt: skip
        good = p.serving.wait_for_endpoint(endpoint_name=ENDPOINT, timeout=60)
        finished = time.time()
        time.sleep(0.5)
    marks = shifts(p, ENDPOINT)
    canary_share = traffic.shares(marks[0][0], marks[1][0]).get("v2", 0.0) if len(marks) >= 2 else 0.0
    result.check(f"the canary first takes a small share of live traffic (planned {CANARY_PERCENT}%)",
                 [share for _, share in marks] == [0.1, 1.0] and 0.02 <= canary_share <= 0.25,
                 timeline(traffic, marks, "v2", finished))  # fmt: skip
    after = {o.variant for o in traffic.between(finished, finished + 10)}
    result.check("after a clean bake all traffic moves to the retrained model",
                 good["EndpointStatus"] == "InService" and good["EndpointConfigName"] == f"{ENDPOINT}-v2"
                 and after == {"v2"} and not traffic.errors(),
                 f"endpoint on {good['EndpointConfigName']}; {len(traffic.outcomes)} requests, "
                 f"{len(traffic.errors())} errors")  # fmt: skip

    put_model(p, "breast-cancer-bad", trained_tarball(), program="flaky.py")
    p.serving.create_endpoint_config(endpoint_config_name=f"{ENDPOINT}-bad",
                                     production_variants=[variant("bad", "breast-cancer-bad")])  # fmt: skip
    bad_alarm = errors_alarm(p, ENDPOINT, "bad")
    with Traffic(p, ENDPOINT, csv_row(2)) as traffic:
        time.sleep(0.3)
        started_at = time.time()
        p.serving.update_endpoint(endpoint_name=ENDPOINT, endpoint_config_name=f"{ENDPOINT}-bad",
                                  deployment_config=canary_policy(bad_alarm, bake=30))  # fmt: skip
        rolled = p.serving.wait_for_endpoint(endpoint_name=ENDPOINT, timeout=60)
        rolled_back_at = time.time()
        time.sleep(0.5)
    errors = traffic.errors()
    result.check("a bad release is rolled back by its alarm within the bake window",
                 rolled["EndpointStatus"] == "InService" and rolled["EndpointConfigName"] == f"{ENDPOINT}-v2"
                 and rolled_back_at - started_at < 30,
                 f"{rolled.get('FailureReason', 'no reason recorded')} ({rolled_back_at - started_at:.1f} s)")  # fmt: skip
    taken = sum(1 for o in traffic.outcomes if o.variant == "bad")
    result.check("only the requests the canary took saw errors",
                 bool(errors) and all(o.variant == "bad" for o in errors),
                 f"{len(errors)} errors, all from the canary, which took {taken} of {len(traffic.outcomes)} requests")  # fmt: skip
