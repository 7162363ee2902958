"""Endpoints end to end on the embedded platform: deploy, invoke, variants, errors."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from endpoint_helpers import create_model, csv_rows, dataset, deploy, variant
from groundfog.core.errors import ModelError, PayloadTooLarge, ResourceNotFound, ValidationError


def test_a_trained_model_is_in_service_within_seconds_and_answers_csv_and_json(gfp):
    create_model(gfp, "lr")
    started = time.monotonic()
    gfp.serving.create_endpoint_config(endpoint_config_name="c", production_variants=[variant("AllTraffic", "lr")])
    gfp.serving.create_endpoint(endpoint_name="e", endpoint_config_name="c")
    described = gfp.serving.wait_for_endpoint(endpoint_name="e", timeout=30)
    elapsed = time.monotonic() - started
    assert described["EndpointStatus"] == "InService"
    # About 1 s on an idle machine (`python -m bench serving-deploy`); the bound leaves room for a
    # loaded test run, where other workers share the two cores.
    assert elapsed < 10.0, f"InService after {elapsed:.2f} s"
    X, y = dataset()
    csv = gfp.serving.invoke_endpoint("e", csv_rows(5), content_type="text/csv", accept="text/csv")
    assert csv.content_type.startswith("text/csv")
    assert [int(float(v)) for v in csv.body.decode().split()] == list(y[:5])
    as_json = gfp.serving.invoke_endpoint("e", json.dumps(X[:3].tolist()), content_type="application/json",
                                          accept="application/json")
    assert json.loads(as_json.body) == list(y[:3])
    assert as_json.invoked_production_variant == "AllTraffic"
    variants = described["ProductionVariants"]
    assert variants[0]["CurrentInstanceCount"] == 1 and variants[0]["CurrentWeight"] == 1.0


def test_sagemaker_inference_code_with_its_own_input_and_output_functions_runs_unchanged(gfp):
    create_model(gfp, "labelled", program="labelled.py")
    deploy(gfp, "e", variant("AllTraffic", "labelled"))
    X, y = dataset()
    answer = gfp.serving.invoke_endpoint("e", json.dumps({"features": X[0].tolist()}), content_type="application/json")
    result = json.loads(answer.body)
    assert result["label"] == y[0] and 0.5 < result["probability"] <= 1.0
    with pytest.raises(ModelError) as refused:
        gfp.serving.invoke_endpoint("e", csv_rows(1), content_type="text/csv")
    assert "this model takes application/json, not text/csv" in refused.value.message
    assert refused.value.details["OriginalStatusCode"] == 500


def test_traffic_splits_by_weight_and_target_variant_overrides(gfp):
    create_model(gfp, "lr")
    deploy(gfp, "e", variant("Big", "lr", weight=0.8), variant("Small", "lr", weight=0.2))
    row = csv_rows(1)
    served = Counter(gfp.serving.invoke_endpoint("e", row, content_type="text/csv").invoked_production_variant
                     for _ in range(10_000))
    assert abs(served["Big"] / 10_000 - 0.8) <= 0.02, served
    assert abs(served["Small"] / 10_000 - 0.2) <= 0.02, served
    targeted = {gfp.serving.invoke_endpoint("e", row, content_type="text/csv", target_variant="Small")
                .invoked_production_variant for _ in range(50)}
    assert targeted == {"Small"}
    with pytest.raises(ValidationError, match="TargetVariant 'Nope' is not a production variant"):
        gfp.serving.invoke_endpoint("e", row, content_type="text/csv", target_variant="Nope")


def test_a_model_that_raises_is_a_model_error_and_bad_payloads_are_client_errors(gfp):
    create_model(gfp, "flaky", program="flaky.py")
    deploy(gfp, "e", variant("AllTraffic", "flaky"))
    outcomes = []
    for _ in range(4):
        try:
            gfp.serving.invoke_endpoint("e", csv_rows(1), content_type="text/csv")
            outcomes.append("ok")
        except ModelError as exc:
            assert exc.status_code == 424
            assert "every second prediction fails" in exc.message
            outcomes.append("error")
    assert outcomes == ["ok", "error", "ok", "error"]
    with pytest.raises(ModelError) as bad_csv:
        gfp.serving.invoke_endpoint("e", "1,2,abc", content_type="text/csv")
    assert bad_csv.value.details["OriginalStatusCode"] == 400
    with pytest.raises(ModelError) as bad_type:
        gfp.serving.invoke_endpoint("e", b"\x00", content_type="image/png")
    assert bad_type.value.details["OriginalStatusCode"] == 415


def test_payloads_over_the_limit_are_refused_and_slow_invocations_time_out(tmp_path, model_tarball):
    import groundfog as gf

    platform = gf.Platform(home=tmp_path / "home", max_invocation_bytes=1000, invocation_timeout=1.0)
    try:
        platform.storage.create_bucket("models")
        platform.storage.put_object("models", "lr/model.tar.gz", model_tarball)
        create_model(platform, "slow", program="slow.py")
        deploy(platform, "e", variant("AllTraffic", "slow"))
        with pytest.raises(PayloadTooLarge, match="at most 1000 bytes"):
            platform.serving.invoke_endpoint("e", b"1," * 600, content_type="text/csv")
        started = time.monotonic()
        with pytest.raises(ModelError, match="timed out"):
            platform.serving.invoke_endpoint("e", csv_rows(1), content_type="text/csv", custom_attributes="sleep=5")
        assert time.monotonic() - started < 3
        time.sleep(4.5)  # the worker finishes the slow request, then serves again
        assert platform.serving.invoke_endpoint("e", csv_rows(1), content_type="text/csv").body
    finally:
        platform.close()


def test_unknown_endpoints_and_endpoints_not_in_service_are_refused(gfp):
    with pytest.raises(ResourceNotFound):
        gfp.serving.invoke_endpoint("missing", "1", content_type="text/csv")
    create_model(gfp, "lr")
    gfp.serving.create_endpoint_config(endpoint_config_name="c", production_variants=[variant("A", "lr")])
    gfp.serving.auto_host = False  # nobody hosts it: it stays Creating
    gfp.serving.create_endpoint(endpoint_name="e", endpoint_config_name="c")
    with pytest.raises(ValidationError, match="is Creating, not in service"):
        gfp.serving.invoke_endpoint("e", csv_rows(1), content_type="text/csv")


def test_weights_and_capacities_change_in_place(gfp):
    create_model(gfp, "lr")
    deploy(gfp, "e", variant("A", "lr", weight=1.0), variant("B", "lr", weight=1.0))
    gfp.serving.update_endpoint_weights_and_capacities(endpoint_name="e", desired_weights_and_capacities=[
        {"VariantName": "A", "DesiredWeight": 0.0}, {"VariantName": "B", "DesiredInstanceCount": 2}])
    described = gfp.serving.wait_for_endpoint(endpoint_name="e", timeout=30)
    by_name = {v["VariantName"]: v for v in described["ProductionVariants"]}
    assert by_name["A"]["CurrentWeight"] == 0.0 and by_name["B"]["CurrentInstanceCount"] == 2
    served = {gfp.serving.invoke_endpoint("e", csv_rows(1), content_type="text/csv").invoked_production_variant
              for _ in range(200)}
    assert served == {"B"}
    stages = [h["Stage"] for h in gfp.serving.list_endpoint_history(endpoint_name="e")["History"]]
    assert stages == ["Creating", "InService", "CapacityChanged", "InService"]


def test_a_model_that_cannot_load_fails_the_endpoint_with_the_reason(gfp):
    gfp.storage.put_object("models", "empty/model.tar.gz", _empty_tarball())
    gfp.registry.create_model(model_name="empty", primary_container={
        "Image": "sklearn", "ModelDataUrl": "s3://models/empty/model.tar.gz"})
    gfp.serving.create_endpoint_config(endpoint_config_name="c", production_variants=[variant("A", "empty")])
    gfp.serving.create_endpoint(endpoint_name="e", endpoint_config_name="c")
    described = gfp.serving.wait_for_endpoint(endpoint_name="e", timeout=30)
    assert described["EndpointStatus"] == "Failed"
    assert "model.joblib" in described["FailureReason"]


def test_deleting_an_endpoint_stops_its_workers(gfp):
    import os

    create_model(gfp, "lr")
    deploy(gfp, "e", variant("A", "lr", count=2))
    pids = [w.process.pid for w in gfp.serving.host.workers.values()]
    assert len(pids) == 2
    gfp.serving.delete_endpoint(endpoint_name="e")
    with pytest.raises(ResourceNotFound):
        gfp.serving.describe_endpoint(endpoint_name="e")
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def _empty_tarball() -> bytes:
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz"):
        pass
    return buf.getvalue()
