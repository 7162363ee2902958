"""Endpoints behind the platform's server: SageMaker Runtime's HTTP path (boto3's
``sagemaker-runtime`` client pointed at it), endpoints created elsewhere and served by
``groundfog up``, and a server killed with ``kill -9`` mid-deployment."""

from __future__ import annotations

import json
import os
import signal
import time

import httpx
import pytest

from endpoint_helpers import create_model, csv_rows, dataset, deploy, trained_model_tarball, variant
from server_helpers import RunningServer, free_port, start_server


def _runtime(url: str):
    import boto3

    return boto3.client("sagemaker-runtime", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


def test_boto3_sagemaker_runtime_invokes_an_endpoint_on_the_server(gfp):
    import botocore.exceptions

    create_model(gfp, "lr")
    create_model(gfp, "flaky", program="flaky.py")
    deploy(gfp, "e", variant("Main", "lr"), variant("Flaky", "flaky", weight=0.0))
    X, y = dataset()
    with RunningServer(gfp) as server:
        runtime = _runtime(server.url)
        answer = runtime.invoke_endpoint(EndpointName="e", Body=csv_rows(3).encode(), ContentType="text/csv",
                                         Accept="application/json")
        assert json.loads(answer["Body"].read()) == list(y[:3])
        assert answer["ContentType"] == "application/json" and answer["InvokedProductionVariant"] == "Main"
        runtime.invoke_endpoint(EndpointName="e", Body=csv_rows(1).encode(), ContentType="text/csv", TargetVariant="Flaky")
        with pytest.raises(botocore.exceptions.ClientError) as failed:
            runtime.invoke_endpoint(EndpointName="e", Body=csv_rows(1).encode(), ContentType="text/csv",
                                    TargetVariant="Flaky")
        error = failed.value.response
        assert error["Error"]["Code"] == "ModelError"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
        assert error["OriginalStatusCode"] == 500 and "every second prediction fails" in error["OriginalMessage"]
        with pytest.raises(botocore.exceptions.ClientError) as missing:
            runtime.invoke_endpoint(EndpointName="nope", Body=b"1", ContentType="text/csv")
        assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        big = httpx.post(f"{server.url}/endpoints/e/invocations", content=b"1," * (4 * 1024 * 1024),
                         headers={"content-type": "text/csv"})
        assert big.status_code == 413 and "the most an invocation takes" in big.json()["message"]
        remote = __import__("groundfog").connect(server.url)
        assert remote.serving.describe_endpoint(endpoint_name="e")["EndpointStatus"] == "InService"
        remote.close()


def test_an_endpoint_created_without_a_server_is_served_by_groundfog_up_and_survives_kill_9(tmp_path):
    import groundfog as gf

    home = tmp_path / "home"
    library = gf.Platform(home=home)
    library.serving.auto_host = False  # as the CLI does: the server hosts
    library.storage.create_bucket("models")
    library.storage.put_object("models", "lr/model.tar.gz", trained_model_tarball())
    create_model(library, "old")
    create_model(library, "new")
    library.serving.create_endpoint_config(endpoint_config_name="v1", production_variants=[variant("Blue", "old")])
    library.serving.create_endpoint_config(endpoint_config_name="v2", production_variants=[variant("Green", "new")])
    library.serving.create_endpoint(endpoint_name="e", endpoint_config_name="v1")
    assert library.serving.describe_endpoint(endpoint_name="e")["EndpointStatus"] == "Creating"
    port = free_port()
    server = start_server(home, port)
    url = f"http://127.0.0.1:{port}"
    try:
        remote = gf.connect(url)
        assert remote.serving.wait_for_endpoint(endpoint_name="e", timeout=30)["EndpointStatus"] == "InService"
        assert httpx.post(f"{url}/endpoints/e/invocations", content=csv_rows(1),
                          headers={"content-type": "text/csv"}).status_code == 200
        remote.serving.update_endpoint(endpoint_name="e", endpoint_config_name="v2", deployment_config={
            "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
                "Type": "CANARY", "WaitIntervalInSeconds": 4, "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 50}}}})
        deadline = time.time() + 20
        while remote.serving.describe_endpoint(endpoint_name="e").get("DeploymentProgress", {}).get("Phase") != "Baking":
            assert time.time() < deadline
            time.sleep(0.05)
        workers = [i["pid"] for f in _fleets(library) for v in f["variants"] for i in v["instances"]]
        remote.close()
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        deadline = time.time() + 10
        while any(_alive(pid) for pid in workers):  # workers never outlive their host
            assert time.time() < deadline, "workers outlived the killed server"
            time.sleep(0.1)
        server = start_server(home, port)
        remote = gf.connect(url)
        described = remote.serving.wait_for_endpoint(endpoint_name="e", timeout=60)
        assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "v2"
        answer = httpx.post(f"{url}/endpoints/e/invocations", content=csv_rows(1), headers={"content-type": "text/csv"})
        assert answer.status_code == 200 and answer.headers["x-amzn-invoked-production-variant"] == "Green"
        remote.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(20)
        library.close()


def _fleets(platform) -> list:
    from groundfog.serving.records import load

    with platform.state.read() as conn:
        return load(conn, "e")["fleets"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for our purposes
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
