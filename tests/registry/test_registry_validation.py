"""Bad input is refused whole: a ValidationError (or ResourceNotFound) that names the
field at fault, and nothing changes: no row, no version number used up, no event."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
import sqlalchemy as sa
from registry_helpers import MODEL_DATA, inference_spec, quality_metrics, register

from groundfog.core.errors import GroundfogError, ResourceNotFound, ValidationError


class Unchanged:
    """Whether anything committed to the state store (SQLite's data_version moves on
    every commit by another connection: rows, outbox events, all of it). Events emitted
    before are delivered first, so that their delivery is not taken for a change."""

    def __init__(self, platform: Any) -> None:
        assert platform.events.drain(10)
        self.conn = sqlite3.connect(sa.engine.make_url(platform.config.state_url).database)
        self.version = self.now()

    def now(self) -> int:
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    def __bool__(self) -> bool:
        return self.now() == self.version


def _spec(**container: Any) -> dict[str, Any]:
    spec = inference_spec()
    spec["Containers"][0].update(container)
    return spec


BAD_PACKAGES = [
    ({"model_package_group_name": "bad_name"}, ValidationError, "ModelPackageGroupName"),
    ({"model_package_group_name": "nope"}, ResourceNotFound, "ModelPackageGroupName"),
    ({"model_approval_status": "Yes"}, ValidationError, "ModelApprovalStatus"),
    ({"inference_specification": {"Containers": []}}, ValidationError, "InferenceSpecification.Containers"),
    ({"inference_specification": {"Images": ["sklearn"]}}, ValidationError, "InferenceSpecification.Images"),
    ({"inference_specification": _spec(ModelDataUrl=3)}, ValidationError, "InferenceSpecification.Containers[0].ModelDataUrl"),
    ({"inference_specification": _spec(ModelDataUrl="https://x/model.tar.gz")}, ValidationError,
     "InferenceSpecification.Containers[0].ModelDataUrl"),
    ({"inference_specification": _spec(ModelDataUrl="s3://models/churn/missing.tar.gz")}, ValidationError,
     "InferenceSpecification.Containers[0].ModelDataUrl"),
    ({"inference_specification": {"Containers": [{"ModelDataUrl": MODEL_DATA}]}}, ValidationError,
     "InferenceSpecification.Containers[0].Image"),
    ({"inference_specification": _spec(Environment={"A": 1})}, ValidationError, "InferenceSpecification.Containers[0].Environment.A"),
    ({"inference_specification": {**inference_spec(), "SupportedContentTypes": "text/csv"}}, ValidationError,
     "InferenceSpecification.SupportedContentTypes"),
    ({"inference_specification": {**inference_spec(), "SupportedRealtimeInferenceInstanceTypes": ["m5.large"]}},
     ValidationError, "InferenceSpecification.SupportedRealtimeInferenceInstanceTypes[0]"),
    ({"model_metrics": quality_metrics("s3://models/churn/none.json")}, ValidationError,
     "ModelMetrics.ModelQuality.Statistics.S3Uri"),
    ({"model_metrics": quality_metrics("s3://no-such-bucket/evaluation.json")}, ValidationError,
     "ModelMetrics.ModelQuality.Statistics.S3Uri"),
    ({"model_metrics": quality_metrics("not-a-uri")}, ValidationError, "ModelMetrics.ModelQuality.Statistics.S3Uri"),
    ({"model_metrics": {"ModelQuality": {"Statistics": {"S3Uri": "s3://models/churn/evaluation.json"}}}},
     ValidationError, "ModelMetrics.ModelQuality.Statistics.ContentType"),
    ({"model_metrics": {"Accuracy": 0.9}}, ValidationError, "ModelMetrics.Accuracy"),
    ({"customer_metadata_properties": {"team": 7}}, ValidationError, "CustomerMetadataProperties.team"),
    ({"metadata_properties": {"Branch": "main"}}, ValidationError, "MetadataProperties.Branch"),
    ({"lineage": {"TrainingJob": "x"}}, ValidationError, "Lineage.TrainingJob"),
    ({"model_package_description": "x" * 1025}, ValidationError, "ModelPackageDescription"),
    ({"tags": [{"Value": "x"}]}, ValidationError, "Tags[0].Key"),
    ({"drift_check_baselines": {"ModelQuality": {"Statistics": {"ContentType": "application/json"}}}},
     ValidationError, "DriftCheckBaselines.ModelQuality.Statistics.S3Uri"),
]


@pytest.mark.parametrize(("request_", "error", "field"), BAD_PACKAGES, ids=[c[2] for c in BAD_PACKAGES])
def test_a_bad_registration_names_the_field_and_changes_nothing(churn, request_, error, field):
    register(churn)
    unchanged = Unchanged(churn)
    body = {"model_package_group_name": "churn", "inference_specification": inference_spec(), **request_}
    with pytest.raises(error) as raised:
        churn.registry.create_model_package(**body)
    assert type(raised.value) is error and raised.value.field == field, raised.value
    assert unchanged
    assert register(churn).endswith("/churn/2")  # the failed one used up no version number


BAD_UPDATES = [
    ({"model_package_arn": "churn"}, ValidationError, "ModelPackageArn"),
    ({"model_package_arn": "churn/0"}, ValidationError, "ModelPackageArn"),
    ({"model_package_arn": "churn/99999999999999999999"}, ValidationError, "ModelPackageArn"),
    ({"model_package_arn": "arn:aws:sagemaker:us-east-1:1:model-package/churn/1"}, ValidationError, "ModelPackageArn"),
    ({"model_package_arn": "churn/7"}, ResourceNotFound, "ModelPackageArn"),
    ({"model_approval_status": "approved"}, ValidationError, "ModelApprovalStatus"),
    ({"model_approval_status": "Approved", "approval_description": "x" * 2000}, ValidationError, "ApprovalDescription"),
    ({"customer_metadata_properties": {"a": "1"}, "customer_metadata_properties_to_remove": ["a"]}, ValidationError,
     "CustomerMetadataPropertiesToRemove"),
    ({"customer_metadata_properties": {f"k{i}": "v" for i in range(50)}}, ValidationError, "CustomerMetadataProperties"),
]


@pytest.mark.parametrize(("request_", "error", "field"), BAD_UPDATES, ids=[c[2] + str(i) for i, c in enumerate(BAD_UPDATES)])
def test_a_bad_update_names_the_field_and_changes_nothing(churn, request_, error, field):
    register(churn, customer_metadata_properties={"team": "growth"})
    before = churn.registry.describe_model_package(model_package_name="churn/1")
    unchanged = Unchanged(churn)
    with pytest.raises(error) as raised:
        churn.registry.update_model_package(**{"model_package_arn": "churn/1", **request_})
    assert type(raised.value) is error and raised.value.field == field, raised.value
    assert unchanged
    assert churn.registry.describe_model_package(model_package_name="churn/1") == before


@pytest.mark.parametrize(("operation", "request_", "field"), [
    ("describe_model_package", {"model_package_name": "churn/x"}, "ModelPackageName"),
    ("list_model_packages", {"max_results": 0}, "MaxResults"),
    ("list_model_packages", {"sort_by": "Version"}, "SortBy"),
    ("list_model_packages", {"sort_order": "Up"}, "SortOrder"),
    ("list_model_packages", {"model_approval_status": "Maybe"}, "ModelApprovalStatus"),
    ("list_model_package_groups", {"max_results": True}, "MaxResults"),
    ("create_model_package_group", {"model_package_group_name": "x" * 64}, "ModelPackageGroupName"),
    ("create_model_package_group", {"model_package_group_name": "ok", "tags": [{"Key": "k", "Value": 1}]}, "Tags[0].Value"),
])  # fmt: skip
def test_other_bad_requests_name_their_field(churn, operation, request_, field):
    unchanged = Unchanged(churn)
    with pytest.raises(ValidationError) as raised:
        getattr(churn.registry, operation)(**request_)
    assert raised.value.field == field
    assert unchanged


def test_an_unknown_group_is_not_found_wherever_it_is_named(churn):
    for call in (
        lambda: churn.registry.describe_model_package_group(model_package_group_name="nope"),
        lambda: churn.registry.delete_model_package_group(model_package_group_name="nope"),
        lambda: churn.registry.list_model_packages(model_package_group_name="nope"),
        lambda: churn.registry.describe_model_package(model_package_name="nope/1"),
    ):
        with pytest.raises(ResourceNotFound) as raised:
            call()
        assert raised.value.field in ("ModelPackageGroupName", "ModelPackageName")


def test_every_refusal_is_a_typed_error(churn):
    with pytest.raises(GroundfogError):
        churn.registry.create_model_package(model_package_group_name="churn", inference_specification=["not", "a", "dict"])
