"""Endpoint configs (SageMaker CreateEndpointConfig ...): the variants an endpoint runs,
their models, instance types, counts and weights, shadow variants, and data capture.

>>> serving.create_endpoint_config(endpoint_config_name="churn-v1", production_variants=[   # doctest: +SKIP
...     {"VariantName": "AllTraffic", "ModelName": "churn", "InstanceType": "ml.m5.large",
...      "InitialInstanceCount": 1, "InitialVariantWeight": 1.0}])
{'EndpointConfigArn': 'arn:groundfog:serving:local:000000000000:endpoint-config/churn-v1'}
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from groundfog.core.errors import AlreadyExists, ResourceInUse, ResourceNotFound, ValidationError
from groundfog.core.names import arn, validate_name
from groundfog.core.paging import list_named, with_token
from groundfog.core.service import operation
from groundfog.core.times import utc_datetime
from groundfog.registry.validation import parse_tags
from groundfog.serving.base import ServingBase
from groundfog.serving.requests import parse_data_capture, parse_variants
from groundfog.serving.tables import endpoint_configs, endpoints
from groundfog.training.uris import check_bucket


class EndpointConfigOperations(ServingBase):
    @operation
    def create_endpoint_config(
        self,
        endpoint_config_name: str,
        production_variants: list[dict[str, Any]],
        data_capture_config: dict[str, Any] | None = None,
        shadow_production_variants: list[dict[str, Any]] | None = None,
        tags: list[dict[str, Any]] | None = None,
        kms_key_id: str | None = None,
    ) -> dict[str, str]:
        """Create an endpoint config (CreateEndpointConfig); every model must exist."""
        name = validate_name(endpoint_config_name, "EndpointConfigName")
        variants = parse_variants(production_variants, "ProductionVariants")
        shadows = parse_variants(shadow_production_variants, "ShadowProductionVariants", minimum=0, maximum=1)
        clash = {v["VariantName"] for v in variants} & {v["VariantName"] for v in shadows}
        if clash:
            raise ValidationError(f"variant name {sorted(clash)[0]!r} is both a production and a shadow variant",
                                  field="ShadowProductionVariants")  # fmt: skip
        for field, group in (("ProductionVariants", variants), ("ShadowProductionVariants", shadows)):
            for i, variant in enumerate(group):
                self._check_model(variant["ModelName"], f"{field}[{i}].ModelName")
        capture = parse_data_capture(data_capture_config)
        if capture is not None:
            check_bucket(self.storage, capture["DestinationS3Uri"], "DataCaptureConfig.DestinationS3Uri")
        spec: dict[str, Any] = {"ProductionVariants": variants}
        if shadows:
            spec["ShadowProductionVariants"] = shadows
        if capture is not None:
            spec["DataCaptureConfig"] = capture
        if kms_key_id is not None:
            spec["KmsKeyId"] = kms_key_id
        tag_list = parse_tags(tags)
        if tag_list:
            spec["Tags"] = tag_list
        config_arn = arn("serving", "endpoint-config", name)
        try:
            with self.state.write() as conn:
                conn.execute(endpoint_configs.insert().values(name=name, arn=config_arn, spec=spec,
                                                              created_at=self.clock.time()))  # fmt: skip
        except sa.exc.IntegrityError:
            raise AlreadyExists(f"an endpoint config named {name!r} already exists", field="EndpointConfigName") from None
        return {"EndpointConfigArn": config_arn}

    def _check_model(self, model_name: str, field: str) -> None:
        try:
            self.registry.describe_model(model_name=model_name)
        except ResourceNotFound:
            raise ValidationError(f"{field}: model {model_name!r} does not exist; create it first (CreateModel)",
                                  field=field) from None  # fmt: skip

    @operation
    def describe_endpoint_config(self, endpoint_config_name: str) -> dict[str, Any]:
        """The config as DescribeEndpointConfig shows it."""
        row = self._config_row(endpoint_config_name)
        spec = {k: v for k, v in row.spec.items() if k != "Tags"}
        return {"EndpointConfigName": row.name, "EndpointConfigArn": row.arn, **spec,
                "CreationTime": utc_datetime(row.created_at)}  # fmt: skip

    def _config_row(self, endpoint_config_name: str) -> Any:
        name = validate_name(endpoint_config_name, "EndpointConfigName")
        with self.state.read() as conn:
            row = conn.execute(sa.select(endpoint_configs).where(endpoint_configs.c.name == name)).first()
        if row is None:
            raise ResourceNotFound(f"endpoint config {name!r} does not exist", field="EndpointConfigName")
        return row

    @operation
    def list_endpoint_configs(
        self,
        name_contains: str | None = None,
        max_results: int = 100,
        sort_by: str = "CreationTime",
        sort_order: str = "Descending",
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """Endpoint configs, newest first by default (ListEndpointConfigs); ``NextToken`` pages on."""
        with self.state.read() as conn:
            rows, token = list_named(conn, endpoint_configs, name_contains=name_contains, max_results=max_results,
                                     sort_by=sort_by, sort_order=sort_order, next_token=next_token)  # fmt: skip
        return with_token({"EndpointConfigs": [{"EndpointConfigName": r.name, "EndpointConfigArn": r.arn,
                                                "CreationTime": utc_datetime(r.created_at)} for r in rows]}, token)  # fmt: skip

    @operation
    def delete_endpoint_config(self, endpoint_config_name: str) -> None:
        """Delete an endpoint config (DeleteEndpointConfig). Endpoints already running on
        it keep running, as on SageMaker; only a deployment in progress to it refuses."""
        name = validate_name(endpoint_config_name, "EndpointConfigName")
        with self.state.write() as conn:
            for row in conn.execute(sa.select(endpoints.c.name, endpoints.c.deployment)):
                if row.deployment and row.deployment.get("config") == name:
                    raise ResourceInUse(f"endpoint {row.name} is being updated to endpoint config {name!r}",
                                        field="EndpointConfigName")  # fmt: skip
            deleted = conn.execute(endpoint_configs.delete().where(endpoint_configs.c.name == name)).rowcount
        if not deleted:
            raise ResourceNotFound(f"endpoint config {name!r} does not exist", field="EndpointConfigName")

