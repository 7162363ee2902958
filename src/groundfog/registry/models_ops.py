"""Models (SageMaker CreateModel ...): what an endpoint or a transform job runs, an image
and model data, given directly or taken from a registered model package version.

>>> registry.create_model(model_name="churn-v3",                          # doctest: +SKIP
...     primary_container={"ModelPackageName": "arn:groundfog:registry:local:000000000000:model-package/churn/3"})
{'ModelArn': 'arn:groundfog:registry:local:000000000000:model/churn-v3'}

A container naming a ``ModelPackageName`` gets the version's Image, ModelDataUrl and
Environment (its own Environment entries win), shown by DescribeModel beside the
package's name; a version with several containers expands into as many ``Containers``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from groundfog.core.errors import AlreadyExists, ResourceNotFound, ValidationError
from groundfog.core.names import arn, validate_name
from groundfog.core.paging import list_named, with_token
from groundfog.core.service import operation
from groundfog.core.times import utc_datetime
from groundfog.registry.base import PACKAGE_ARN_PREFIX, RegistryBase
from groundfog.registry.reports import check_model_data
from groundfog.registry.tables import models
from groundfog.registry.shapes import parse_model_container
from groundfog.registry.validation import (
    parse_execution_role,
    parse_package_name,
    parse_tags,
)


class ModelOperations(RegistryBase):
    @operation
    def create_model(
        self,
        model_name: str,
        primary_container: dict[str, Any] | None = None,
        containers: list[dict[str, Any]] | None = None,
        execution_role_arn: str | None = None,
        tags: list[dict[str, Any]] | None = None,
    ) -> dict[str, str]:
        """Create a model (CreateModel) from exactly one of ``primary_container`` or
        ``containers`` (an inference pipeline), each ``{Image, ModelDataUrl, Environment}``
        or ``{ModelPackageName}``."""
        name = validate_name(model_name, "ModelName")
        if (primary_container is None) == (containers is None):
            raise ValidationError("give exactly one of PrimaryContainer or Containers", field="PrimaryContainer")
        spec: dict[str, Any] = {}
        if primary_container is not None:
            resolved = self._resolve(parse_model_container(primary_container, "PrimaryContainer"), "PrimaryContainer")
            if len(resolved) != 1:
                raise ValidationError(
                    f"PrimaryContainer names a model package with {len(resolved)} containers; name it in Containers instead",
                    field="PrimaryContainer.ModelPackageName",
                )
            spec["PrimaryContainer"] = resolved[0]
        else:
            if not isinstance(containers, list) or not 1 <= len(containers) <= 15:
                raise ValidationError("Containers must be a list of 1 to 15 containers", field="Containers")
            spec["Containers"] = [
                c for i, item in enumerate(containers)
                for c in self._resolve(parse_model_container(item, f"Containers[{i}]"), f"Containers[{i}]")
            ]  # fmt: skip
            if len(spec["Containers"]) > 15:
                raise ValidationError("Containers expand to more than 15 containers", field="Containers")
        role = parse_execution_role(execution_role_arn)
        if role is not None:
            spec["ExecutionRoleArn"] = role
        tag_list = parse_tags(tags)
        if tag_list:
            spec["Tags"] = tag_list
        model_arn = arn("registry", "model", name)
        try:
            with self.state.write() as conn:
                conn.execute(models.insert().values(name=name, arn=model_arn, spec=spec, created_at=self.clock.time()))
        except sa.exc.IntegrityError:
            raise AlreadyExists(f"a model named {name!r} already exists", field="ModelName") from None
        return {"ModelArn": model_arn}

    def _resolve(self, container: dict[str, Any], field: str) -> list[dict[str, Any]]:
        """The container as it will run: a model package's containers filled in, and
        its model data checked to be in the object store."""
        reference = container.get("ModelPackageName")
        if reference is None:
            if "ModelDataUrl" in container:
                check_model_data(self.storage, container["ModelDataUrl"], f"{field}.ModelDataUrl")
            return [container]
        for key in ("Image", "ModelDataUrl"):
            if key in container:
                raise ValidationError(f"{field}.{key} must not be given with ModelPackageName: the package names it",
                                      field=f"{field}.{key}")  # fmt: skip
        where = f"{field}.ModelPackageName"
        group, version = parse_package_name(reference, where, PACKAGE_ARN_PREFIX)
        with self.state.read() as conn:
            row = self._package_row(conn, group, version, field=where)
        spec = row.spec.get("InferenceSpecification")
        if not spec:
            raise ValidationError(f"model package {group}/{version} has no InferenceSpecification to run", field=where)
        out = []
        for source in spec["Containers"]:
            resolved = {k: source[k] for k in ("Image", "ModelDataUrl") if k in source}
            environment = {**source.get("Environment", {}), **container.get("Environment", {})}
            if environment:
                resolved["Environment"] = environment
            for key in ("ContainerHostname", "Mode"):
                if key in container:
                    resolved[key] = container[key]
            out.append({"ModelPackageName": row.arn, **resolved})
        return out

    @operation
    def describe_model(self, model_name: str) -> dict[str, Any]:
        """The model as DescribeModel shows it."""
        name = validate_name(model_name, "ModelName")
        with self.state.read() as conn:
            row = conn.execute(sa.select(models).where(models.c.name == name)).first()
        if row is None:
            raise ResourceNotFound(f"model {name!r} does not exist", field="ModelName")
        out: dict[str, Any] = {"ModelName": row.name, **{k: v for k, v in row.spec.items() if k != "Tags"}}
        if "Containers" in row.spec:
            out["InferenceExecutionConfig"] = {"Mode": "Serial"}
        return {**out, "CreationTime": utc_datetime(row.created_at), "ModelArn": row.arn, "EnableNetworkIsolation": False}

    @operation
    def list_models(
        self,
        name_contains: str | None = None,
        max_results: int = 100,
        sort_by: str = "CreationTime",
        sort_order: str = "Descending",
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """Models, newest first by default (ListModels); ``NextToken`` pages on."""
        with self.state.read() as conn:
            rows, token = list_named(conn, models, name_contains=name_contains, max_results=max_results,
                                     sort_by=sort_by, sort_order=sort_order, next_token=next_token)  # fmt: skip
        listed = [{"ModelName": r.name, "ModelArn": r.arn, "CreationTime": utc_datetime(r.created_at)} for r in rows]
        return with_token({"Models": listed}, token)

    @operation
    def delete_model(self, model_name: str) -> None:
        """Delete a model (DeleteModel)."""
        name = validate_name(model_name, "ModelName")
        with self.state.write() as conn:
            deleted = conn.execute(models.delete().where(models.c.name == name)).rowcount
        if not deleted:
            raise ResourceNotFound(f"model {name!r} does not exist", field="ModelName")
