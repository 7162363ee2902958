"""Data capture in SageMaker's format, shadow variants, and losing a worker under load."""

from __future__ import annotations

import json
import math
import os
import signal
import threading
import time

from endpoint_helpers import create_model, csv_rows, deploy, variant
from groundfog.core.errors import GroundfogError
from groundfog.labs.traffic import Traffic


def _capture_config(percent: int) -> dict:
    return {"EnableCapture": True, "InitialSamplingPercentage": percent,
            "DestinationS3Uri": "s3://capture/endpoints", "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]}


def _captured(platform, prefix: str = "endpoints/") -> list[tuple[str, dict]]:
    platform.serving.capture_writer.flush()
    lines = []
    for obj in platform.storage.list_objects_v2("capture", prefix=prefix, max_keys=1000).contents:
        for line in platform.storage.get_object_bytes("capture", obj.key).decode().splitlines():
            lines.append((obj.key, json.loads(line)))
    return lines


def test_every_invocation_is_captured_exactly_once_in_sagemaker_format(gfp):
    gfp.storage.create_bucket("capture")
    create_model(gfp, "lr")
    deploy(gfp, "e", variant("AllTraffic", "lr"), data_capture_config=_capture_config(100))
    described = gfp.serving.describe_endpoint(endpoint_name="e")
    assert described["DataCaptureConfig"] == {"EnableCapture": True, "CaptureStatus": "Started",
                                              "CurrentSamplingPercentage": 100, "DestinationS3Uri": "s3://capture/endpoints"}
    sent = {}
    for i in range(300):
        body = csv_rows(1, start=i)
        answer = gfp.serving.invoke_endpoint("e", body, content_type="text/csv", accept="text/csv",
                                             inference_id=f"req-{i}")
        sent[f"req-{i}"] = (body, answer.body.decode())
    lines = _captured(gfp)
    assert len(lines) == 300
    seen = {}
    for key, record in lines:
        assert key.startswith("endpoints/e/AllTraffic/") and key.endswith(".jsonl")
        assert len(key.split("/")) == 8  # endpoints/e/AllTraffic/yyyy/mm/dd/hh/file
        data = record["captureData"]
        assert data["endpointInput"]["mode"] == "INPUT" and data["endpointInput"]["encoding"] == "CSV"
        assert data["endpointOutput"]["mode"] == "OUTPUT" and data["endpointOutput"]["observedContentType"].startswith("text/csv")
        assert record["eventVersion"] == "0" and record["eventMetadata"]["eventId"]
        assert record["eventMetadata"]["inferenceTime"].endswith("Z")
        seen[record["eventMetadata"]["inferenceId"]] = (data["endpointInput"]["data"], data["endpointOutput"]["data"])
    assert seen == sent


def test_ten_percent_sampling_captures_about_a_tenth(gfp):
    gfp.storage.create_bucket("capture")
    create_model(gfp, "lr")
    deploy(gfp, "e", variant("AllTraffic", "lr"), data_capture_config=_capture_config(10))
    n = 3000
    for _ in range(n):
        gfp.serving.invoke_endpoint("e", csv_rows(1), content_type="text/csv")
    captured = len(_captured(gfp))
    bound = 4 * math.sqrt(n * 0.1 * 0.9)  # four standard deviations of a binomial
    assert abs(captured - n * 0.1) < bound, captured


def test_a_shadow_variant_gets_a_copy_of_traffic_whose_answers_are_captured_never_returned(gfp):
    gfp.storage.create_bucket("capture")
    create_model(gfp, "lr")
    create_model(gfp, "flaky", program="flaky.py")
    deploy(gfp, "e", variant("Production", "lr"), shadow_production_variants=[variant("Shadow", "flaky")],
           data_capture_config=_capture_config(100))
    described = gfp.serving.describe_endpoint(endpoint_name="e")
    assert [v["VariantName"] for v in described["ShadowProductionVariants"]] == ["Shadow"]
    for _ in range(40):
        answer = gfp.serving.invoke_endpoint("e", csv_rows(1), content_type="text/csv")
        assert answer.invoked_production_variant == "Production"  # the shadow's errors never reach the caller
    deadline = time.time() + 5
    while time.time() < deadline and len(_captured(gfp, "endpoints/e/Shadow/")) < 40:
        time.sleep(0.1)
    shadow = _captured(gfp, "endpoints/e/Shadow/")
    production = _captured(gfp, "endpoints/e/Production/")
    assert len(shadow) == 40 and len(production) == 40
    gfp.serving.metrics_sink.flush()
    dims = [{"Name": "EndpointName", "Value": "e"}, {"Name": "VariantName", "Value": "Shadow"}]
    stats = gfp.metrics.get_metric_statistics("AWS/SageMaker", "Invocation5XXErrors", dims, start_time=time.time() - 120,
                                              end_time=time.time() + 60, period=60, statistics=["Sum"])
    assert sum(p.sum for p in stats.datapoints) == 20


def test_a_killed_worker_comes_back_and_no_request_hangs_or_corrupts_capture(gfp):
    gfp.storage.create_bucket("capture")
    create_model(gfp, "lr")
    deploy(gfp, "e", variant("AllTraffic", "lr", count=2), data_capture_config=_capture_config(100))
    key = next(k for k in gfp.serving.host.workers if k[3] == 0)
    victim = gfp.serving.host.workers[key].process.pid
    with Traffic(gfp, "e", csv_rows(1), threads=4) as traffic:
        time.sleep(0.5)
        os.kill(victim, signal.SIGKILL)
        deadline = time.time() + 15
        while time.time() < deadline:
            worker = gfp.serving.host.workers.get(key)
            variant_doc = gfp.serving.describe_endpoint(endpoint_name="e")["ProductionVariants"][0]
            if worker is not None and worker.process.pid != victim and variant_doc["CurrentInstanceCount"] == 2:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the killed worker did not come back")
        time.sleep(0.5)
    errors = [o.error for o in traffic.outcomes if o.error]
    assert all(e.startswith("ServiceUnavailable") for e in errors), errors[:3]
    assert len(traffic.outcomes) > 200
    ok = len(traffic.outcomes) - len(errors)
    assert len(_captured(gfp)) == ok  # every answered request, each captured once, every file parses
    stages = [h["Stage"] for h in gfp.serving.list_endpoint_history(endpoint_name="e")["History"]]
    assert "InstanceReplaced" in stages


def test_requests_in_flight_when_a_worker_dies_get_an_error_not_a_hang(gfp):
    create_model(gfp, "slow", program="slow.py")
    deploy(gfp, "e", variant("AllTraffic", "slow"))
    pid = next(iter(gfp.serving.host.workers.values())).process.pid
    outcome: dict = {}

    def call() -> None:
        started = time.monotonic()
        try:
            gfp.serving.invoke_endpoint("e", csv_rows(1), content_type="text/csv", custom_attributes="sleep=30")
        except GroundfogError as exc:
            outcome["error"] = exc
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=call)
    thread.start()
    time.sleep(0.5)
    os.kill(pid, signal.SIGKILL)
    thread.join(10)
    assert not thread.is_alive() and outcome["seconds"] < 5
    assert outcome["error"].status_code == 503
