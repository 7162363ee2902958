"""Models (SageMaker CreateModel): an image and model data, or a registered version."""

from __future__ import annotations

from datetime import datetime

import pytest
from registry_helpers import MODEL_DATA, inference_spec, register

from groundfog.core.errors import AlreadyExists, ResourceNotFound, ValidationError

MODEL_ARN = "arn:groundfog:registry:local:000000000000:model/"


def test_a_model_from_an_image_and_model_data_is_described_as_sagemaker_does(rp):
    container = {"Image": "sklearn", "ModelDataUrl": MODEL_DATA, "Environment": {"SAGEMAKER_PROGRAM": "inference.py"}}
    created = rp.registry.create_model(model_name="churn-v1", primary_container=container,
                                       execution_role_arn="arn:aws:iam::000000000000:role/sagemaker")  # fmt: skip
    assert created == {"ModelArn": MODEL_ARN + "churn-v1"}
    model = rp.registry.describe_model(model_name="churn-v1")
    assert model["ModelName"] == "churn-v1" and model["ModelArn"] == created["ModelArn"]
    assert model["PrimaryContainer"] == container
    assert model["ExecutionRoleArn"] == "arn:aws:iam::000000000000:role/sagemaker"
    assert isinstance(model["CreationTime"], datetime)


def test_a_model_from_a_registered_version_takes_its_image_and_data(churn):
    arn = register(churn, inference_specification={
        "Containers": [{"Image": "xgboost", "ModelDataUrl": MODEL_DATA, "Environment": {"A": "package", "B": "package"}}]})
    churn.registry.create_model(model_name="churn-v1",
                                primary_container={"ModelPackageName": "churn/1", "Environment": {"B": "model"}})
    container = churn.registry.describe_model(model_name="churn-v1")["PrimaryContainer"]
    assert container == {"ModelPackageName": arn, "Image": "xgboost", "ModelDataUrl": MODEL_DATA,
                         "Environment": {"A": "package", "B": "model"}}  # fmt: skip


def test_a_multi_container_version_expands_into_containers(churn):
    spec = inference_spec()
    spec["Containers"].append({"Image": "pytorch", "ModelDataUrl": MODEL_DATA})
    register(churn, inference_specification=spec)
    with pytest.raises(ValidationError) as raised:
        churn.registry.create_model(model_name="pipe", primary_container={"ModelPackageName": "churn/1"})
    assert raised.value.field == "PrimaryContainer.ModelPackageName"
    churn.registry.create_model(model_name="pipe", containers=[{"ModelPackageName": "churn/1"}])
    model = churn.registry.describe_model(model_name="pipe")
    assert [c["Image"] for c in model["Containers"]] == ["sklearn", "pytorch"]
    assert model["InferenceExecutionConfig"] == {"Mode": "Serial"}


def test_models_are_listed_newest_first_and_deleted(rp):
    for name in ("a-model", "b-model", "c-other"):
        rp.registry.create_model(model_name=name, primary_container={"Image": "sklearn", "ModelDataUrl": MODEL_DATA})
    assert [m["ModelName"] for m in rp.registry.list_models()["Models"]] == ["c-other", "b-model", "a-model"]
    assert [m["ModelName"] for m in rp.registry.list_models(name_contains="model", max_results=1)["Models"]] == ["b-model"]
    rp.registry.delete_model(model_name="b-model")
    with pytest.raises(ResourceNotFound) as raised:
        rp.registry.describe_model(model_name="b-model")
    assert raised.value.field == "ModelName"
    with pytest.raises(ResourceNotFound):
        rp.registry.delete_model(model_name="b-model")


def test_a_model_name_is_taken_once(rp):
    container = {"Image": "sklearn", "ModelDataUrl": MODEL_DATA}
    rp.registry.create_model(model_name="churn", primary_container=container)
    with pytest.raises(AlreadyExists, match="already exists") as raised:
        rp.registry.create_model(model_name="churn", primary_container=container)
    assert raised.value.field == "ModelName"


@pytest.mark.parametrize(("request_", "field"), [
    ({}, "PrimaryContainer"),
    ({"primary_container": {"Image": "sklearn"}, "containers": [{"Image": "sklearn"}]}, "PrimaryContainer"),
    ({"primary_container": {"ModelDataUrl": MODEL_DATA}}, "PrimaryContainer.Image"),
    ({"primary_container": {"Image": "sklearn", "ModelDataUrl": "s3://models/none.tar.gz"}}, "PrimaryContainer.ModelDataUrl"),
    ({"primary_container": {"Image": "sklearn", "Mode": "ManyModels"}}, "PrimaryContainer.Mode"),
    ({"primary_container": {"Image": "sklearn", "Extra": 1}}, "PrimaryContainer.Extra"),
    ({"primary_container": {"ModelPackageName": "churn/1", "Image": "sklearn"}}, "PrimaryContainer.Image"),
    ({"containers": []}, "Containers"),
    ({"containers": [{"Image": "a b"}]}, "Containers[0].Image"),
    ({"primary_container": {"Image": "sklearn"}, "execution_role_arn": "admin"}, "ExecutionRoleArn"),
])  # fmt: skip
def test_a_bad_model_names_the_field_and_is_not_created(churn, request_, field):
    register(churn)
    with pytest.raises(ValidationError) as raised:
        churn.registry.create_model(model_name="bad", **request_)
    assert raised.value.field == field
    assert churn.registry.list_models()["Models"] == []


def test_a_model_naming_an_unknown_version_is_not_found(churn):
    with pytest.raises(ResourceNotFound) as raised:
        churn.registry.create_model(model_name="m", primary_container={"ModelPackageName": "churn/4"})
    assert raised.value.field == "PrimaryContainer.ModelPackageName"
