"""What the registry's parts share: the platform services it uses, row lookups, ARNs and
the describe shapes of groups and versions.

``RegistryBase`` is the base of the parts (``models_ops``, ``groups``, ``packages``),
which ``RegistryService`` composes, as the storage service composes its parts.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from groundfog.core.errors import ResourceNotFound
from groundfog.core.names import arn
from groundfog.core.serialize import to_jsonable
from groundfog.core.service import Service
from groundfog.core.times import utc_datetime
from groundfog.registry.tables import groups, packages

if TYPE_CHECKING:
    from groundfog.core.bus import Bus
    from groundfog.storage import StorageService

log = logging.getLogger("groundfog.registry")

PACKAGE_ARN_PREFIX = arn("registry", "model-package", "")
STATE_CHANGE = "SageMaker Model Package State Change"


def group_arn(name: str) -> str:
    return arn("registry", "model-package-group", name)


def package_arn(group: str, version: int) -> str:
    """``arn:groundfog:registry:local:000000000000:model-package/<group>/<version>``."""
    return arn("registry", "model-package", f"{group}/{version}")


class RegistryBase(Service):
    """The registry's shared state: the object store (reports, model data) and the bus."""

    storage: "StorageService"
    bus: "Bus | None"

    def _group_row(self, conn: Connection, name: str, *, field: str = "ModelPackageGroupName", lock: bool = False) -> Any:
        query = sa.select(groups).where(groups.c.name == name)
        row = conn.execute(query.with_for_update() if lock else query).first()
        if row is None:
            raise ResourceNotFound(f"model package group {name!r} does not exist", field=field)
        return row

    def _package_row(self, conn: Connection, group: str, version: int, *, field: str, lock: bool = False) -> Any:
        query = sa.select(packages).where(packages.c.group_name == group, packages.c.version == version)
        row = conn.execute(query.with_for_update() if lock else query).first()
        if row is None:
            raise ResourceNotFound(f"model package {group}/{version} does not exist", field=field)
        return row

    def _describe_package(self, row: Any) -> dict[str, Any]:
        """SageMaker's DescribeModelPackage, plus groundfog's Lineage and ModelMetricsReports."""
        spec = row.spec
        out: dict[str, Any] = {
            "ModelPackageName": row.group_name,
            "ModelPackageGroupName": row.group_name,
            "ModelPackageVersion": row.version,
            "ModelPackageArn": row.arn,
            "ModelPackageDescription": row.description,
            "CreationTime": utc_datetime(row.created_at),
            "LastModifiedTime": utc_datetime(row.modified_at),
            "InferenceSpecification": spec.get("InferenceSpecification"),
            "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
            "CertifyForMarketplace": spec.get("CertifyForMarketplace", False),
            "ModelApprovalStatus": row.approval_status,
            "ApprovalDescription": row.approval_description,
            "ModelMetrics": spec.get("ModelMetrics"),
            "CustomerMetadataProperties": spec.get("CustomerMetadataProperties") or None,
            "MetadataProperties": spec.get("MetadataProperties"),
            "DriftCheckBaselines": spec.get("DriftCheckBaselines"),
            "Domain": spec.get("Domain"),
            "Task": spec.get("Task"),
            "SamplePayloadUrl": spec.get("SamplePayloadUrl"),
            "SourceUri": spec.get("SourceUri"),
            "SkipModelValidation": spec.get("SkipModelValidation"),
            "Lineage": spec.get("Lineage"),
            "ModelMetricsReports": row.reports or None,
        }
        # Like SageMaker's responses: members that were never set are absent.
        return {k: v for k, v in out.items() if v is not None}

    def _summary(self, row: Any) -> dict[str, Any]:
        """An entry of ListModelPackages' ModelPackageSummaryList."""
        out = {
            "ModelPackageName": row.group_name, "ModelPackageGroupName": row.group_name,
            "ModelPackageVersion": row.version, "ModelPackageArn": row.arn,
            "ModelPackageDescription": row.description, "CreationTime": utc_datetime(row.created_at),
            "ModelPackageStatus": "Completed", "ModelApprovalStatus": row.approval_status,
        }  # fmt: skip
        return {k: v for k, v in out.items() if v is not None}

    def _emit_state_change(self, row: Any) -> None:
        """SageMaker's ``Model Package State Change`` event for ``row``, read in the write
        transaction that changed it and emitted once that transaction has committed."""
        if self.bus is None:
            return
        try:
            self.bus.emit("aws.sagemaker", STATE_CHANGE, to_jsonable(self._describe_package(row)), resources=[row.arn])
        except Exception:  # noqa: BLE001 - the version's own record stands; the event is a notification
            log.exception("could not emit the state change of model package %s", row.arn)
