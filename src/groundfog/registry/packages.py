"""Model package versions (SageMaker CreateModelPackage ...): a model's image, data,
metrics and approval status, numbered 1, 2, ... within its group.

>>> registry.create_model_package(                                       # doctest: +SKIP
...     model_package_group_name="churn",
...     inference_specification={"Containers": [{"Image": "sklearn", "ModelDataUrl": "s3://models/churn/model.tar.gz"}],
...                              "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]},
...     model_metrics={"ModelQuality": {"Statistics": {"ContentType": "application/json",
...                                                    "S3Uri": "s3://models/churn/evaluation.json"}}})
{'ModelPackageArn': 'arn:groundfog:registry:local:000000000000:model-package/churn/1'}
>>> registry.update_model_package(model_package_arn="churn/1", model_approval_status="Approved")  # doctest: +SKIP

Creating a version and changing its approval status each emit SageMaker's ``SageMaker
Model Package State Change`` event (``source: aws.sagemaker``) once the change has
committed, with the version's description as the detail.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from groundfog.core.errors import ResourceNotFound, ValidationError
from groundfog.core.paging import parse_max_results, parse_sort, read_page, with_token
from groundfog.core.service import operation
from groundfog.registry.base import PACKAGE_ARN_PREFIX, RegistryBase, package_arn
from groundfog.registry.reports import check_model_data, read_reports
from groundfog.registry.tables import groups, packages
from groundfog.registry.shapes import (
    DRIFT_CHECK_BASELINES,
    MODEL_METRICS,
    parse_inference_specification,
    parse_lineage,
    parse_metadata_properties,
    parse_metric_sources,
)
from groundfog.registry.validation import (
    parse_approval_status,
    parse_customer_metadata,
    parse_description,
    parse_flag,
    parse_group_name,
    parse_metadata_keys,
    parse_optional_text,
    parse_package_name,
    parse_s3,
    parse_skip_validation,
    parse_tags,
)


class PackageOperations(RegistryBase):
    @operation
    def create_model_package(
        self,
        model_package_group_name: str,
        inference_specification: dict[str, Any] | None = None,
        model_approval_status: str = "PendingManualApproval",
        model_metrics: dict[str, Any] | None = None,
        customer_metadata_properties: dict[str, Any] | None = None,
        model_package_description: str | None = None,
        metadata_properties: dict[str, Any] | None = None,
        domain: str | None = None,
        task: str | None = None,
        sample_payload_url: str | None = None,
        drift_check_baselines: dict[str, Any] | None = None,
        tags: list[dict[str, Any]] | None = None,
        lineage: dict[str, Any] | None = None,
        certify_for_marketplace: bool = False,
        skip_model_validation: str | None = None,
        source_uri: str | None = None,
    ) -> dict[str, str]:
        """Register a new version in a group (CreateModelPackage); versions count up from 1.

        The model data each container names must be in the object store; the JSON
        reports ``model_metrics`` names are read now and shown by DescribeModelPackage
        under ``ModelMetricsReports``. ``lineage`` (groundfog's) records the
        ``TrainingJobArn``, ``PipelineExecutionArn`` and ``PipelineStepName`` that made it.
        ``skip_model_validation="All"`` skips the check that the model data is there.
        """
        group = parse_group_name(model_package_group_name)
        spec = {
            "InferenceSpecification": parse_inference_specification(inference_specification),
            "ModelMetrics": parse_metric_sources(model_metrics, "ModelMetrics", MODEL_METRICS),
            "CustomerMetadataProperties": parse_customer_metadata(customer_metadata_properties) or None,
            "MetadataProperties": parse_metadata_properties(metadata_properties),
            "Domain": parse_optional_text(domain, "Domain", max_length=256),
            "Task": parse_optional_text(task, "Task", max_length=256),
            "SamplePayloadUrl": None if sample_payload_url is None else parse_s3(sample_payload_url, "SamplePayloadUrl"),
            "DriftCheckBaselines": parse_metric_sources(drift_check_baselines, "DriftCheckBaselines", DRIFT_CHECK_BASELINES),
            "Tags": parse_tags(tags) or None,
            "Lineage": parse_lineage(lineage),
            "SourceUri": parse_optional_text(source_uri, "SourceUri", max_length=1024),
            "CertifyForMarketplace": parse_flag(certify_for_marketplace, "CertifyForMarketplace"),
            "SkipModelValidation": parse_skip_validation(skip_model_validation),
        }  # fmt: skip
        spec = {k: v for k, v in spec.items() if v is not None}
        status = parse_approval_status(model_approval_status)
        description = parse_description(model_package_description, "ModelPackageDescription")
        with self.state.read() as conn:
            self._group_row(conn, group)  # an unknown group is the first thing to hear about
        for i, container in enumerate((spec.get("InferenceSpecification") or {}).get("Containers", [])):
            if "ModelDataUrl" in container and spec.get("SkipModelValidation") != "All":
                check_model_data(self.storage, container["ModelDataUrl"], f"InferenceSpecification.Containers[{i}].ModelDataUrl")
        reports = read_reports(self.storage, spec.get("ModelMetrics"))
        now = self.clock.time()
        with self.state.write() as conn:
            # The group's row is the version counter: concurrent registrations queue on it.
            bumped = conn.execute(
                groups.update().where(groups.c.name == group).values(latest_version=groups.c.latest_version + 1)
            )
            if bumped.rowcount != 1:
                raise ResourceNotFound(f"model package group {group!r} does not exist", field="ModelPackageGroupName")
            version = conn.execute(sa.select(groups.c.latest_version).where(groups.c.name == group)).scalar_one()
            conn.execute(packages.insert().values(
                group_name=group, version=version, arn=package_arn(group, version), approval_status=status,
                approval_description=None, description=description, spec=spec, reports=reports,
                created_at=now, modified_at=now,
            ))  # fmt: skip
            row = self._package_row(conn, group, version, field="ModelPackageName")
        self._emit_state_change(row)
        return {"ModelPackageArn": row.arn}

    @operation
    def describe_model_package(self, model_package_name: str) -> dict[str, Any]:
        """A version as DescribeModelPackage shows it; ``model_package_name`` is its ARN or
        ``GROUP/VERSION``. Adds groundfog's ``Lineage`` and ``ModelMetricsReports``."""
        group, version = parse_package_name(model_package_name, "ModelPackageName", PACKAGE_ARN_PREFIX)
        with self.state.read() as conn:
            return self._describe_package(self._package_row(conn, group, version, field="ModelPackageName"))

    @operation
    def list_model_packages(
        self,
        model_package_group_name: str | None = None,
        model_approval_status: str | None = None,
        sort_by: str = "CreationTime",
        sort_order: str = "Descending",
        max_results: int = 100,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """Versions, newest first by default (ListModelPackages); of one group, in one
        approval status. SortBy is CreationTime or Name (group, then version);
        ``NextToken`` pages on."""
        conditions = []
        group = None if model_package_group_name is None else parse_group_name(model_package_group_name)
        if group is not None:
            conditions.append(packages.c.group_name == group)
        if model_approval_status is not None:
            conditions.append(packages.c.approval_status == parse_approval_status(model_approval_status))
        key, descending = parse_sort(sort_by, sort_order)
        limit = parse_max_results(max_results)
        first = [packages.c.group_name] if key == "Name" else [packages.c.created_at, packages.c.group_name]
        order = [(c, descending) for c in (*first, packages.c.version)]
        with self.state.read() as conn:
            if group is not None:
                self._group_row(conn, group)
            rows, token = read_page(conn, sa.select(packages).where(*conditions), order, max_results=limit,
                                    next_token=next_token)  # fmt: skip
        return with_token({"ModelPackageSummaryList": [self._summary(r) for r in rows]}, token)

    @operation
    def update_model_package(
        self,
        model_package_arn: str,
        model_approval_status: str | None = None,
        approval_description: str | None = None,
        customer_metadata_properties: dict[str, Any] | None = None,
        customer_metadata_properties_to_remove: list[str] | None = None,
        model_package_description: str | None = None,
    ) -> dict[str, str]:
        """Approve or reject a version, or change its metadata (UpdateModelPackage);
        ``model_package_arn`` may also be ``GROUP/VERSION``. A change of approval status
        emits the version's state-change event."""
        group, version = parse_package_name(model_package_arn, "ModelPackageArn", PACKAGE_ARN_PREFIX)
        status = None if model_approval_status is None else parse_approval_status(model_approval_status)
        approval = parse_description(approval_description, "ApprovalDescription")
        added = parse_customer_metadata(customer_metadata_properties)
        removed = parse_metadata_keys(customer_metadata_properties_to_remove)
        both = sorted(set(added) & set(removed))
        if both:
            raise ValidationError(f"CustomerMetadataPropertiesToRemove names {both[0]!r}, which "
                                  "CustomerMetadataProperties sets; do one or the other",
                                  field="CustomerMetadataPropertiesToRemove")  # fmt: skip
        description = parse_description(model_package_description, "ModelPackageDescription")
        with self.state.write() as conn:
            row = self._package_row(conn, group, version, field="ModelPackageArn", lock=True)
            metadata = {k: v for k, v in {**(row.spec.get("CustomerMetadataProperties") or {}), **added}.items()
                        if k not in removed}  # fmt: skip
            if len(metadata) > 50:
                raise ValidationError(f"CustomerMetadataProperties would hold {len(metadata)} entries; at most 50 are allowed",
                                      field="CustomerMetadataProperties")  # fmt: skip
            changes: dict[str, Any] = {}
            if status is not None:
                changes["approval_status"] = status
            if approval is not None:
                changes["approval_description"] = approval
            if description is not None:
                changes["description"] = description
            if added or removed:
                spec = {k: v for k, v in row.spec.items() if k != "CustomerMetadataProperties"}
                changes["spec"] = {**spec, "CustomerMetadataProperties": metadata} if metadata else spec
            if changes:
                conn.execute(packages.update().where(packages.c.group_name == group, packages.c.version == version)
                             .values(**changes, modified_at=self.clock.time()))  # fmt: skip
                updated = self._package_row(conn, group, version, field="ModelPackageArn")
        if status is not None and status != row.approval_status:
            self._emit_state_change(updated)
        return {"ModelPackageArn": row.arn}

    @operation
    def delete_model_package(self, model_package_name: str) -> None:
        """Delete a version (DeleteModelPackage); its number is not given out again."""
        group, version = parse_package_name(model_package_name, "ModelPackageName", PACKAGE_ARN_PREFIX)
        with self.state.write() as conn:
            self._package_row(conn, group, version, field="ModelPackageName", lock=True)
            conn.execute(packages.delete().where(packages.c.group_name == group, packages.c.version == version))

    @operation
    def latest_approved_model_package(self, model_package_group_name: str) -> dict[str, Any] | None:
        """The group's highest Approved version, described; None when none is approved.

        What a deployment picks: ``registry.latest_approved_model_package("churn")["InferenceSpecification"]``.
        """
        group = parse_group_name(model_package_group_name)
        query = (
            sa.select(packages)
            .where(packages.c.group_name == group, packages.c.approval_status == "Approved")
            .order_by(packages.c.version.desc())
            .limit(1)
        )
        with self.state.read() as conn:
            self._group_row(conn, group)
            row = conn.execute(query).first()
        return None if row is None else self._describe_package(row)
