"""The hosting SDK against a real platform: a scikit-learn model trained here, deployed
to an endpoint with real worker processes, invoked through serializers, served by a
SageMaker-style inference script, updated with a canary deployment, and deleted."""

from __future__ import annotations

import io
import json
import tarfile
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import groundfog as gf
from groundfog.core.config import Config
from groundfog.core.errors import GroundfogError, ModelError, ResourceNotFound, ValidationError
from groundfog.serving.sdk import (
    CSVDeserializer,
    CSVSerializer,
    JSONDeserializer,
    JSONSerializer,
    NumpyDeserializer,
    NumpySerializer,
    StringDeserializer,
)
from groundfog.training.sdk import DEFAULT_BUCKET

V1, V2 = "s3://models/bc/v1/model.tar.gz", "s3://models/bc/v2/model.tar.gz"
INFERENCE = '''\
import json

import numpy as np
from labels import NAMES


def input_fn(request_body, request_content_type):
    if request_content_type != "application/json":
        raise ValueError(f"this model reads application/json, not {request_content_type}")
    return np.asarray(json.loads(request_body)["features"], dtype=float)


def output_fn(prediction, accept):
    return json.dumps({"labels": [NAMES[int(p)] for p in prediction]}), "application/json"
'''


@cache
def breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    return load_breast_cancer(return_X_y=True)


def model_tarball(estimator: object) -> bytes:
    """``model.tar.gz`` holding ``model.joblib``, as a SageMaker training job leaves it."""
    model = io.BytesIO()
    joblib.dump(estimator, model)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("model.joblib")
        info.size = len(model.getvalue())
        tar.addfile(info, io.BytesIO(model.getvalue()))
    return buffer.getvalue()


@cache
def classifier() -> tuple[object, bytes]:
    """A logistic regression on the breast cancer data, and its model.tar.gz."""
    X, y = breast_cancer()
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    return clf, model_tarball(clf)


@cache
def always_benign() -> bytes:
    """A second model that is easy to tell apart: it answers 1 (benign) for every row."""
    X, y = breast_cancer()
    return model_tarball(DummyClassifier(strategy="constant", constant=1).fit(X, y))


def put_models(platform) -> None:
    platform.storage.create_bucket("models")
    platform.storage.put_object("models", "bc/v1/model.tar.gz", classifier()[1])
    platform.storage.put_object("models", "bc/v2/model.tar.gz", always_benign())


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[gf.Platform]:
    """A platform holding both models; closing it stops every worker it started."""
    p = gf.Platform(Config(home=tmp_path / "home"))
    try:
        put_models(p)
        yield p
    finally:
        for endpoint in p.serving.list_endpoints()["Endpoints"]:
            p.serving.delete_endpoint(endpoint_name=endpoint["EndpointName"])
        p.close()


def malignant_rows(n: int) -> np.ndarray:
    """Rows the trained classifier calls malignant (0), which the second model calls benign."""
    X, _ = breast_cancer()
    clf = classifier()[0]
    return X[clf.predict(X) == 0][:n]


def test_deploy_names_everything_and_predicts_csv_json_and_numpy(platform):
    X, _ = breast_cancer()
    clf = classifier()[0]
    model = gf.SKLearnModel(model_data=V1, framework_version="1.2-1", py_version="py3", platform=platform)
    predictor = model.deploy(instance_type="ml.m5.large", serializer=CSVSerializer(), deserializer=CSVDeserializer(),
                             data_capture_config=gf.DataCaptureConfig(sampling_percentage=100))

    assert model.name.startswith("sagemaker-scikit-learn-2") and predictor.endpoint_name == model.name
    described = predictor.describe()
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == model.name
    assert [(v["VariantName"], v["CurrentInstanceCount"]) for v in described["ProductionVariants"]] == [("AllTraffic", 1)]
    container = platform.registry.describe_model(model_name=model.name)["PrimaryContainer"]
    assert container["Image"] == "sklearn" and container["ModelDataUrl"] == V1

    assert predictor.content_type == "text/csv" and predictor.accept == ("text/csv",)
    assert [int(float(row[0])) for row in predictor.predict(X[:8])] == clf.predict(X[:8]).tolist()

    predictor.serializer, predictor.deserializer = JSONSerializer(), JSONDeserializer()
    assert predictor.predict(X[10:14]) == clf.predict(X[10:14]).tolist()

    as_arrays = gf.Predictor(predictor.endpoint_name, serializer=NumpySerializer(), deserializer=NumpyDeserializer(),
                             platform=platform)
    np.testing.assert_array_equal(as_arrays.predict(X[20:25]), clf.predict(X[20:25]))

    # initial_args win over the serializer's content type and the deserializer's accept, as in SageMaker.
    raw = gf.Predictor(predictor.endpoint_name, deserializer=StringDeserializer(), platform=platform)
    row = ",".join(map(str, X[0]))
    assert raw.predict(row, initial_args={"ContentType": "text/csv", "Accept": "text/csv"}) == f"{clf.predict(X[:1])[0]}\n"

    # Every request above was captured, under SageMaker's default capture destination.
    assert described["DataCaptureConfig"]["DestinationS3Uri"] == f"s3://{DEFAULT_BUCKET}/model-monitor/data-capture"
    platform.serving.capture_writer.flush()
    keys = [o.key for o in platform.storage.list_objects_v2(
        DEFAULT_BUCKET, prefix=f"model-monitor/data-capture/{model.name}/AllTraffic/").contents]
    lines = [json.loads(line) for key in keys
             for line in platform.storage.get_object_bytes(DEFAULT_BUCKET, key).decode().splitlines()]
    assert len(lines) == 4
    assert {line["captureData"]["endpointInput"]["observedContentType"] for line in lines} == {
        "text/csv", "application/json", "application/x-npy"}

    predictor.delete_endpoint()
    predictor.delete_model()
    assert platform.serving.list_endpoints()["Endpoints"] == []
    assert platform.serving.list_endpoint_configs()["EndpointConfigs"] == []
    with pytest.raises(ResourceNotFound):
        platform.registry.describe_model(model_name=model.name)


def test_inference_script_with_custom_input_and_output_fn(platform, tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "inference.py").write_text(INFERENCE)
    (code / "labels.py").write_text('NAMES = {0: "malignant", 1: "benign"}\n')
    X, _ = breast_cancer()
    clf = classifier()[0]

    model = gf.SKLearnModel(model_data=V1, entry_point="inference.py", source_dir=str(code), name="bc-script",
                            platform=platform)
    predictor = model.deploy(endpoint_name="bc-script", serializer=JSONSerializer(), deserializer=JSONDeserializer())

    environment = platform.registry.describe_model(model_name="bc-script")["PrimaryContainer"]["Environment"]
    assert environment["SAGEMAKER_PROGRAM"] == "inference.py"
    submit = environment["SAGEMAKER_SUBMIT_DIRECTORY"]
    assert submit.startswith(f"s3://{DEFAULT_BUCKET}/") and submit.endswith("/sourcedir.tar.gz")
    archive = platform.storage.get_object_bytes(DEFAULT_BUCKET, submit.split("/", 3)[3])
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        assert sorted(tar.getnames()) == ["inference.py", "labels.py"]

    got = predictor.predict({"features": X[:6]})
    assert got == {"labels": ["malignant" if p == 0 else "benign" for p in clf.predict(X[:6])]}

    # input_fn refuses CSV: the model's error comes back as SageMaker Runtime's ModelError.
    with pytest.raises(ModelError) as raised:
        predictor.predict("1,2,3", initial_args={"ContentType": "text/csv"})
    assert raised.value.details["OriginalStatusCode"] == 500
    assert "this model reads application/json, not text/csv" in raised.value.details["OriginalMessage"]

    # The same code deployed again is the same object: uploads are content-addressed.
    again = gf.SKLearnModel(model_data=V1, entry_point="inference.py", source_dir=str(code), name="bc-script-2",
                            platform=platform)
    again.create()
    assert platform.registry.describe_model(model_name="bc-script-2")["PrimaryContainer"]["Environment"][
        "SAGEMAKER_SUBMIT_DIRECTORY"] == submit

    predictor.delete_endpoint()
    predictor.delete_model()
    again.delete_model()


def test_canary_update_shifts_traffic_to_the_second_model_then_completes(platform):
    rows = malignant_rows(4)
    predictor = gf.SKLearnModel(model_data=V1, name="bc-v1", platform=platform).deploy(
        endpoint_name="bc", serializer=CSVSerializer(), deserializer=CSVDeserializer())
    assert {r[0] for r in predictor.predict(rows)} == {"0"}
    gf.SKLearnModel(model_data=V2, name="bc-v2", platform=platform).create()

    canary = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 50}, "WaitIntervalInSeconds": 2},
        "TerminationWaitInSeconds": 0}}
    predictor.update_endpoint(model_name="bc-v2", deployment_config=canary, wait=False)

    # While the canary bakes, half the traffic reaches the new model.
    deadline = time.monotonic() + 30
    progress = {}
    while time.monotonic() < deadline:
        progress = predictor.describe().get("DeploymentProgress") or {}
        if progress.get("Phase") == "Baking":
            break
        time.sleep(0.05)
    assert progress["Type"] == "CANARY" and progress["NewFleetShare"] == 0.5 and progress["Step"] == 1
    answers = {predictor.predict(rows[:1])[0][0] for _ in range(40)}
    assert answers == {"0", "1"}

    described = platform.serving.wait_for_endpoint(endpoint_name="bc", timeout=60)
    assert described["EndpointStatus"] == "InService" and "FailureReason" not in described
    new_config = platform.serving.describe_endpoint_config(endpoint_config_name=described["EndpointConfigName"])
    assert new_config["EndpointConfigName"].startswith("bc-2")
    assert [v["ModelName"] for v in new_config["ProductionVariants"]] == ["bc-v2"]
    assert described["LastDeploymentConfig"]["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["Type"] == "CANARY"
    assert {r[0] for r in predictor.predict(rows)} == {"1"}

    stages = [h["Stage"] for h in predictor.history()]
    assert stages[:2] == ["Creating", "InService"] and stages[-1] == "Completed"
    shifts = [h["Detail"]["GreenShare"] for h in predictor.history() if h["Stage"] == "TrafficShifted"]
    assert shifts == [0.5, 1.0]

    predictor.delete_model()  # the models of the current config: bc-v2
    platform.registry.delete_model(model_name="bc-v1")
    predictor.delete_endpoint(delete_endpoint_config=False)
    assert [c["EndpointConfigName"] for c in platform.serving.list_endpoint_configs()["EndpointConfigs"]] == [
        new_config["EndpointConfigName"], "bc"]


def test_a_registered_model_package_version_deploys(platform):
    from groundfog.registry.sdk import register

    gf.ModelPackageGroup("bc", platform=platform).create()
    package = register(platform, model_data=V1, image_uri="sklearn", model_package_group_name="bc",
                       approval_status="Approved")
    model = gf.Model(model_package_arn=package.model_package_arn, platform=platform)
    predictor = model.deploy(endpoint_name="bc-registered", serializer=CSVSerializer(), deserializer=CSVDeserializer())
    assert model.name.startswith("bc-2")
    assert platform.registry.describe_model(model_name=model.name)["PrimaryContainer"]["ModelDataUrl"] == V1
    assert {r[0] for r in predictor.predict(malignant_rows(2))} == {"0"}
    predictor.delete_endpoint()
    predictor.delete_model()


def test_update_endpoint_changes_the_instance_count_of_the_only_variant(platform):
    predictor = gf.SKLearnModel(model_data=V1, name="bc-v1", platform=platform).deploy(endpoint_name="bc")
    predictor.update(initial_instance_count=2)
    described = predictor.describe()
    assert described["ProductionVariants"][0]["CurrentInstanceCount"] == 2
    config = platform.serving.describe_endpoint_config(endpoint_config_name=described["EndpointConfigName"])
    assert config["ProductionVariants"][0]["InitialInstanceCount"] == 2
    with pytest.raises(ValidationError, match="no variant 'Blue'"):
        predictor.update_endpoint(initial_instance_count=1, variant_name="Blue")
    predictor.delete_endpoint()


def test_deploy_raises_the_failure_reason_when_the_model_cannot_load(platform):
    platform.storage.put_object("models", "empty/model.tar.gz", model_tarball_without_model())
    model = gf.SKLearnModel(model_data="s3://models/empty/model.tar.gz", name="empty", platform=platform)
    with pytest.raises(GroundfogError, match="is Failed: .*no model file") as raised:
        model.deploy(endpoint_name="empty")
    assert raised.value.details["status"] == "Failed"
    assert platform.serving.describe_endpoint(endpoint_name="empty")["EndpointStatus"] == "Failed"


def model_tarball_without_model() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("README.txt")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"empty"))
    return buffer.getvalue()


def test_data_capture_config_is_sagemakers_request():
    config = gf.DataCaptureConfig(sampling_percentage=50, destination_s3_uri="s3://capture/churn",
                                  capture_options=["REQUEST"], json_content_types=["application/jsonlines"])
    assert config._to_request_dict() == {
        "EnableCapture": True, "InitialSamplingPercentage": 50, "DestinationS3Uri": "s3://capture/churn",
        "CaptureOptions": [{"CaptureMode": "Input"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/jsonlines"]},
    }


def test_serializers_and_deserializers_round_trip():
    assert CSVSerializer().serialize(np.array([[1.5, 2], [3, 4]])) == "1.5,2.0\n3.0,4.0"
    assert CSVSerializer().serialize(np.array([1, 2, 3])) == "1,2,3"
    assert JSONSerializer().serialize({"instances": np.array([[1, 2]])}) == '{"instances": [[1, 2]]}'
    array = np.arange(6, dtype=float).reshape(2, 3)
    np.testing.assert_array_equal(NumpyDeserializer().deserialize(io.BytesIO(NumpySerializer().serialize(array)),
                                                                  "application/x-npy"), array)
    np.testing.assert_array_equal(NumpyDeserializer().deserialize(io.BytesIO(b"1,2\n3,4\n"), "text/csv"),
                                  [[1, 2], [3, 4]])
    assert JSONDeserializer().ACCEPT == ("application/json",) and NumpySerializer().CONTENT_TYPE == "application/x-npy"
    with pytest.raises(ValueError, match="empty"):
        CSVSerializer().serialize([])


def test_a_model_without_an_image_says_what_to_give(platform):
    with pytest.raises(ValidationError, match="image_uri"):
        gf.Model(model_data=V1, platform=platform).create()


def test_inference_code_layout_is_checked_before_anything_is_created(platform, tmp_path):
    with pytest.raises(ValidationError, match="not a file in source_dir"):
        gf.SKLearnModel(model_data=V1, entry_point="missing.py", source_dir=str(tmp_path), platform=platform).create()
    assert platform.registry.list_models()["Models"] == []


def test_sdk_names_are_exported_lazily():
    import subprocess
    import sys

    code = ("import sys, groundfog as gf; assert 'groundfog.serving.sdk' not in sys.modules;"
            "names = [gf.Model, gf.Predictor, gf.SKLearnModel, gf.XGBoostModel, gf.PyTorchModel, gf.DataCaptureConfig];"
            "assert 'numpy' not in sys.modules and 'sqlalchemy' not in sys.modules, sorted(sys.modules)")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
