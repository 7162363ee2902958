"""The registry in the SageMaker SDK's words: ``ModelPackage`` (a registered version, to
approve or reject), ``ModelPackageGroup``, and ``Estimator.register`` (in the training
SDK) which registers a trained model as a new version.

>>> import groundfog as gf
>>> group = gf.ModelPackageGroup("churn").create()                    # doctest: +SKIP
>>> package = estimator.register(model_package_group_name="churn",    # doctest: +SKIP
...                              content_types=["text/csv"], response_types=["text/csv"])
>>> package.approve("passed review").describe()["ModelApprovalStatus"]  # doctest: +SKIP
'Approved'
"""

from __future__ import annotations

from typing import Any

from groundfog.core.errors import AlreadyExists
from groundfog.training.sdk import resolve_platform


class ModelPackage:
    """One version of a model package group, by its ARN (SageMaker's ``ModelPackage``).
    ``role`` and ``sagemaker_session`` are accepted so SDK code runs as written."""

    def __init__(self, model_package_arn: str, role: str | None = None, sagemaker_session: Any = None,
                 platform: Any = None) -> None:  # fmt: skip
        self.model_package_arn = model_package_arn
        self.role = role
        self.sagemaker_session = sagemaker_session
        self.platform = platform

    def __repr__(self) -> str:
        return f"ModelPackage({self.model_package_arn!r})"

    @property
    def _registry(self) -> Any:
        return resolve_platform(self.platform).registry

    def describe(self) -> dict[str, Any]:
        return self._registry.describe_model_package(model_package_name=self.model_package_arn)

    @property
    def approval_status(self) -> str:
        return self.describe()["ModelApprovalStatus"]

    def update_approval_status(self, approval_status: str, approval_description: str | None = None) -> "ModelPackage":
        """Approved, Rejected or PendingManualApproval; a change emits the
        ``SageMaker Model Package State Change`` event rules can act on."""
        self._registry.update_model_package(model_package_arn=self.model_package_arn,
                                            model_approval_status=approval_status,
                                            approval_description=approval_description)  # fmt: skip
        return self

    def approve(self, description: str | None = None) -> "ModelPackage":
        return self.update_approval_status("Approved", description)

    def reject(self, description: str | None = None) -> "ModelPackage":
        return self.update_approval_status("Rejected", description)

    def delete(self) -> None:
        self._registry.delete_model_package(model_package_name=self.model_package_arn)


class ModelPackageGroup:
    """A model package group by name: ``create()``, its versions, the latest approved one."""

    def __init__(self, name: str, description: str | None = None, platform: Any = None) -> None:
        self.name = name
        self.description = description
        self.platform = platform

    def __repr__(self) -> str:
        return f"ModelPackageGroup({self.name!r})"

    @property
    def _registry(self) -> Any:
        return resolve_platform(self.platform).registry

    def create(self, exist_ok: bool = True) -> "ModelPackageGroup":
        try:
            self._registry.create_model_package_group(model_package_group_name=self.name,
                                                      model_package_group_description=self.description)  # fmt: skip
        except AlreadyExists:
            if not exist_ok:
                raise
        return self

    def describe(self) -> dict[str, Any]:
        return self._registry.describe_model_package_group(model_package_group_name=self.name)

    def versions(self, approval_status: str | None = None) -> list[ModelPackage]:
        """Newest first."""
        listed = self._registry.list_model_packages(model_package_group_name=self.name,
                                                    model_approval_status=approval_status)  # fmt: skip
        return [ModelPackage(s["ModelPackageArn"], platform=self.platform) for s in listed["ModelPackageSummaryList"]]

    def latest_approved(self) -> ModelPackage | None:
        found = self._registry.latest_approved_model_package(model_package_group_name=self.name)
        return None if not found else ModelPackage(found["ModelPackageArn"], platform=self.platform)


def register(
    platform: Any, *, model_data: str, image_uri: str, model_package_group_name: str,
    content_types: list[str] | None = None, response_types: list[str] | None = None,
    inference_instances: list[str] | None = None, transform_instances: list[str] | None = None,
    approval_status: str = "PendingManualApproval", model_metrics: Any = None, description: str | None = None,
    customer_metadata_properties: dict[str, str] | None = None, environment: dict[str, str] | None = None,
    domain: str | None = None, task: str | None = None, sample_payload_url: str | None = None,
    lineage: dict[str, str] | None = None,
) -> ModelPackage:
    """Register ``model_data`` as a new version of ``model_package_group_name``."""
    container: dict[str, Any] = {"Image": image_uri, "ModelDataUrl": model_data}
    if environment:
        container["Environment"] = dict(environment)
    specification: dict[str, Any] = {"Containers": [container]}
    for key, value in (("SupportedContentTypes", content_types), ("SupportedResponseMIMETypes", response_types),
                       ("SupportedRealtimeInferenceInstanceTypes", inference_instances),
                       ("SupportedTransformInstanceTypes", transform_instances)):  # fmt: skip
        if value:
            specification[key] = list(value)
    metrics = model_metrics.to_request() if hasattr(model_metrics, "to_request") else model_metrics
    registry = resolve_platform(platform).registry
    arn = registry.create_model_package(
        model_package_group_name=model_package_group_name, inference_specification=specification,
        model_approval_status=approval_status, model_metrics=metrics, model_package_description=description,
        customer_metadata_properties=customer_metadata_properties, domain=domain, task=task,
        sample_payload_url=sample_payload_url, lineage=lineage,
    )["ModelPackageArn"]  # fmt: skip
    return ModelPackage(arn, platform=platform)
