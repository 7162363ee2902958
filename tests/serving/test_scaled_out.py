"""The scaled-out pair: endpoints with state in PostgreSQL and models and captures in an
S3-compatible object store, running the blue/green lab and capturing data."""

from __future__ import annotations

import json

import pytest

from endpoint_helpers import create_model, csv_rows, deploy, trained_model_tarball, variant


@pytest.mark.s3
@pytest.mark.postgres
@pytest.mark.parametrize("state_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("objects_backend", ["s3"], indirect=True)
def test_endpoints_run_on_postgresql_and_an_s3_object_store(tmp_path, state_url, objects_backend):
    from groundfog import Platform
    from groundfog.core.config import Config
    from groundfog.labs import LabResult
    from groundfog.labs.blue_green import run

    with Platform(Config(home=tmp_path / "home", state_url=state_url, **objects_backend)) as p:
        result = LabResult("blue-green", "")
        run(p, result)
        assert result.passed, [(c.claim, c.detail) for c in result.checks if not c.passed]
        p.storage.create_bucket("models")
        p.storage.create_bucket("capture")
        p.storage.put_object("models", "lr/model.tar.gz", trained_model_tarball())
        create_model(p, "lr")
        deploy(p, "captured", variant("AllTraffic", "lr"), data_capture_config={
            "InitialSamplingPercentage": 100, "DestinationS3Uri": "s3://capture/data",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]})
        for i in range(20):
            p.serving.invoke_endpoint("captured", csv_rows(1, start=i), content_type="text/csv")
        p.serving.capture_writer.flush()
        keys = [o.key for o in p.storage.list_objects_v2("capture", prefix="data/captured/").contents]
        lines = [json.loads(line) for key in keys for line in p.storage.get_object_bytes("capture", key).splitlines()]
        assert len(lines) == 20
