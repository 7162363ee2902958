"""Model package groups and their versions: numbering, describing, listing, approval,
metadata updates and deletion, as SageMaker's Model Registry does them."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from registry_helpers import MODEL_DATA, inference_spec, register

from groundfog.core.errors import AlreadyExists, Conflict, ResourceNotFound

PREFIX = "arn:groundfog:registry:local:000000000000:model-package/"


def test_versions_count_up_from_one_within_each_group(churn):
    churn.registry.create_model_package_group(model_package_group_name="fraud")
    arns = [register(churn, "churn"), register(churn, "churn"), register(churn, "fraud"), register(churn, "churn")]
    assert arns == [f"{PREFIX}churn/1", f"{PREFIX}churn/2", f"{PREFIX}fraud/1", f"{PREFIX}churn/3"]


def test_concurrent_registrations_never_share_a_version(any_rp):
    any_rp.registry.create_model_package_group(model_package_group_name="churn")
    arns: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker() -> None:
        try:
            start.wait()
            for _ in range(5):
                arns.append(register(any_rp))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(int(a.rsplit("/", 1)[1]) for a in arns) == list(range(1, 41))
    listed = any_rp.registry.list_model_packages(model_package_group_name="churn")["ModelPackageSummaryList"]
    assert sorted(p["ModelPackageVersion"] for p in listed) == list(range(1, 41))


def test_a_version_is_described_by_arn_or_group_and_version_in_sagemakers_shape(churn):
    arn = register(churn, model_package_description="first try", domain="MACHINE_LEARNING", task="CLASSIFICATION",
                   customer_metadata_properties={"team": "growth"},
                   metadata_properties={"CommitId": "abc123", "Repository": "git@example.com:ml/churn"},
                   sample_payload_url="s3://models/churn/payload.tar.gz")  # fmt: skip
    by_arn = churn.registry.describe_model_package(model_package_name=arn)
    assert churn.registry.describe_model_package(model_package_name="churn/1") == by_arn
    assert by_arn["ModelPackageName"] == by_arn["ModelPackageGroupName"] == "churn"
    assert (by_arn["ModelPackageVersion"], by_arn["ModelPackageArn"]) == (1, arn)
    assert by_arn["ModelPackageStatus"] == "Completed"
    assert by_arn["ModelApprovalStatus"] == "PendingManualApproval"
    assert by_arn["InferenceSpecification"] == inference_spec()
    assert by_arn["ModelPackageDescription"] == "first try"
    assert (by_arn["Domain"], by_arn["Task"]) == ("MACHINE_LEARNING", "CLASSIFICATION")
    assert by_arn["CustomerMetadataProperties"] == {"team": "growth"}
    assert by_arn["MetadataProperties"]["CommitId"] == "abc123"
    assert by_arn["SamplePayloadUrl"] == "s3://models/churn/payload.tar.gz"
    assert isinstance(by_arn["CreationTime"], datetime) and by_arn["LastModifiedTime"] == by_arn["CreationTime"]
    assert "ApprovalDescription" not in by_arn  # members never set are absent, as in SageMaker


def test_lineage_is_kept_and_shown(churn):
    lineage = {"TrainingJobArn": "arn:groundfog:training:local:000000000000:training-job/churn-1",
               "PipelineExecutionArn": "arn:groundfog:pipelines:local:000000000000:pipeline/churn/execution/abc",
               "PipelineStepName": "RegisterModel"}  # fmt: skip
    register(churn, lineage=lineage)
    assert churn.registry.describe_model_package(model_package_name="churn/1")["Lineage"] == lineage


def test_approving_and_rejecting_a_version_from_the_python_api(churn):
    arn = register(churn)
    churn.registry.update_model_package(model_package_arn=arn, model_approval_status="Approved",
                                        approval_description="AUC 0.91 beats 0.88")  # fmt: skip
    approved = churn.registry.describe_model_package(model_package_name=arn)
    assert (approved["ModelApprovalStatus"], approved["ApprovalDescription"]) == ("Approved", "AUC 0.91 beats 0.88")
    assert approved["LastModifiedTime"] >= approved["CreationTime"]
    churn.registry.update_model_package(model_package_arn="churn/1", model_approval_status="Rejected")
    assert churn.registry.describe_model_package(model_package_name=arn)["ModelApprovalStatus"] == "Rejected"


def test_the_latest_approved_version_is_the_highest_approved_one(churn):
    assert churn.registry.latest_approved_model_package(model_package_group_name="churn") is None
    for status in ("Approved", "Approved", "Rejected", "PendingManualApproval"):
        register(churn, model_approval_status=status)
    latest = churn.registry.latest_approved_model_package(model_package_group_name="churn")
    assert latest["ModelPackageVersion"] == 2
    with pytest.raises(ResourceNotFound):
        churn.registry.latest_approved_model_package(model_package_group_name="nope")


def test_versions_are_listed_by_group_and_status_newest_first(churn):
    churn.registry.create_model_package_group(model_package_group_name="fraud")
    register(churn)
    register(churn, model_approval_status="Approved")
    register(churn, "fraud", model_approval_status="Approved")
    listed = churn.registry.list_model_packages(model_package_group_name="churn")["ModelPackageSummaryList"]
    assert [p["ModelPackageVersion"] for p in listed] == [2, 1]
    assert set(listed[0]) >= {"ModelPackageGroupName", "ModelPackageArn", "CreationTime", "ModelApprovalStatus",
                              "ModelPackageStatus"}  # fmt: skip
    approved = churn.registry.list_model_packages(model_approval_status="Approved")["ModelPackageSummaryList"]
    assert [(p["ModelPackageGroupName"], p["ModelPackageVersion"]) for p in approved] == [("fraud", 1), ("churn", 2)]
    by_name = churn.registry.list_model_packages(sort_by="Name", sort_order="Ascending", max_results=2)
    assert [(p["ModelPackageGroupName"], p["ModelPackageVersion"]) for p in by_name["ModelPackageSummaryList"]] == [
        ("churn", 1), ("churn", 2)]


def test_updating_metadata_merges_and_removes_keys(churn):
    arn = register(churn, customer_metadata_properties={"team": "growth", "stage": "dev"})
    churn.registry.update_model_package(model_package_arn=arn, customer_metadata_properties={"stage": "prod", "owner": "ana"},
                                        customer_metadata_properties_to_remove=["team"],
                                        model_package_description="promoted")  # fmt: skip
    described = churn.registry.describe_model_package(model_package_name=arn)
    assert described["CustomerMetadataProperties"] == {"stage": "prod", "owner": "ana"}
    assert described["ModelPackageDescription"] == "promoted"
    assert described["ModelApprovalStatus"] == "PendingManualApproval"


def test_a_deleted_versions_number_is_not_given_out_again(churn):
    register(churn)
    register(churn)
    churn.registry.delete_model_package(model_package_name="churn/2")
    with pytest.raises(ResourceNotFound) as missing:
        churn.registry.describe_model_package(model_package_name="churn/2")
    assert missing.value.field == "ModelPackageName"
    assert register(churn).endswith("/churn/3")


def test_a_group_holding_versions_cannot_be_deleted(churn):
    register(churn)
    with pytest.raises(Conflict, match="holds 1 model package version"):
        churn.registry.delete_model_package_group(model_package_group_name="churn")
    assert churn.registry.describe_model_package_group(model_package_group_name="churn")["ModelPackageGroupName"] == "churn"
    churn.registry.delete_model_package(model_package_name="churn/1")
    churn.registry.delete_model_package_group(model_package_group_name="churn")
    with pytest.raises(ResourceNotFound):
        churn.registry.describe_model_package_group(model_package_group_name="churn")


def test_groups_are_created_once_described_and_listed(churn):
    with pytest.raises(AlreadyExists) as taken:
        churn.registry.create_model_package_group(model_package_group_name="churn")
    assert taken.value.field == "ModelPackageGroupName"
    churn.registry.create_model_package_group(model_package_group_name="fraud-detection")
    group = churn.registry.describe_model_package_group(model_package_group_name="churn")
    assert group["ModelPackageGroupArn"] == "arn:groundfog:registry:local:000000000000:model-package-group/churn"
    assert (group["ModelPackageGroupDescription"], group["ModelPackageGroupStatus"]) == ("Churn", "Completed")
    listed = churn.registry.list_model_package_groups()["ModelPackageGroupSummaryList"]
    assert [g["ModelPackageGroupName"] for g in listed] == ["fraud-detection", "churn"]
    fraud = churn.registry.list_model_package_groups(name_contains="fraud")["ModelPackageGroupSummaryList"]
    assert [g["ModelPackageGroupName"] for g in fraud] == ["fraud-detection"]


def test_registry_works_the_same_on_every_state_store(any_rp):
    any_rp.registry.create_model_package_group(model_package_group_name="churn")
    arn = register(any_rp, customer_metadata_properties={"team": "growth"})
    any_rp.registry.update_model_package(model_package_arn=arn, model_approval_status="Approved")
    assert any_rp.registry.latest_approved_model_package(model_package_group_name="churn")["ModelPackageArn"] == arn
    assert any_rp.registry.describe_model_package(model_package_name=arn)["InferenceSpecification"]["Containers"][0][
        "ModelDataUrl"] == MODEL_DATA
    with pytest.raises(Conflict):
        any_rp.registry.delete_model_package_group(model_package_group_name="churn")


def test_a_request_as_the_sagemaker_sdk_sends_it_is_accepted(churn):
    # The SDK's RegisterModel always sends CertifyForMarketplace; SkipModelValidation=All
    # registers model data that is not uploaded yet.
    arn = register(churn, certify_for_marketplace=False, skip_model_validation="All", source_uri="s3://models/churn/src",
                   inference_specification=inference_spec("s3://models/churn/later.tar.gz"))  # fmt: skip
    described = churn.registry.describe_model_package(model_package_name=arn)
    assert (described["CertifyForMarketplace"], described["SkipModelValidation"]) == (False, "All")
    assert described["SourceUri"] == "s3://models/churn/src"
