"""Model package groups (SageMaker CreateModelPackageGroup ...): a named, versioned
collection of model packages.

>>> registry.create_model_package_group("churn", "Churn classifiers")  # doctest: +SKIP
{'ModelPackageGroupArn': 'arn:groundfog:registry:local:000000000000:model-package-group/churn'}
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from groundfog.core.errors import AlreadyExists, Conflict
from groundfog.core.paging import list_named, with_token
from groundfog.core.service import operation
from groundfog.core.times import utc_datetime
from groundfog.registry.base import RegistryBase, group_arn
from groundfog.registry.tables import groups, packages
from groundfog.registry.validation import (
    parse_description,
    parse_group_name,
    parse_tags,
)


class GroupOperations(RegistryBase):
    @operation
    def create_model_package_group(
        self,
        model_package_group_name: str,
        model_package_group_description: str | None = None,
        tags: list[dict[str, Any]] | None = None,
    ) -> dict[str, str]:
        """Create a model package group (CreateModelPackageGroup); its versions start at 1."""
        name = parse_group_name(model_package_group_name)
        description = parse_description(model_package_group_description, "ModelPackageGroupDescription")
        tag_list = parse_tags(tags)
        group = group_arn(name)
        try:
            with self.state.write() as conn:
                conn.execute(groups.insert().values(
                    name=name, arn=group, description=description, tags=tag_list, latest_version=0,
                    created_at=self.clock.time(),
                ))  # fmt: skip
        except sa.exc.IntegrityError:
            raise AlreadyExists(f"model package group {name!r} already exists", field="ModelPackageGroupName") from None
        return {"ModelPackageGroupArn": group}

    @operation
    def describe_model_package_group(self, model_package_group_name: str) -> dict[str, Any]:
        """The group as DescribeModelPackageGroup shows it."""
        name = parse_group_name(model_package_group_name)
        with self.state.read() as conn:
            return _describe(self._group_row(conn, name))

    @operation
    def list_model_package_groups(
        self,
        name_contains: str | None = None,
        max_results: int = 100,
        sort_by: str = "CreationTime",
        sort_order: str = "Descending",
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """Groups, newest first by default (ListModelPackageGroups); ``NextToken`` pages on."""
        with self.state.read() as conn:
            rows, token = list_named(conn, groups, name_contains=name_contains, max_results=max_results,
                                     sort_by=sort_by, sort_order=sort_order, next_token=next_token)  # fmt: skip
        return with_token({"ModelPackageGroupSummaryList": [_describe(r) for r in rows]}, token)

    @operation
    def delete_model_package_group(self, model_package_group_name: str) -> None:
        """Delete an empty group; refused (``Conflict``) while it holds versions, as in SageMaker."""
        name = parse_group_name(model_package_group_name)
        with self.state.write() as conn:
            self._group_row(conn, name, lock=True)  # a version created meanwhile waits, or is seen below
            held = conn.execute(sa.select(sa.func.count()).where(packages.c.group_name == name)).scalar_one()
            if held:
                raise Conflict(
                    f"model package group {name!r} holds {held} model package version(s); delete them first",
                    field="ModelPackageGroupName",
                )
            conn.execute(groups.delete().where(groups.c.name == name))


def _describe(row: Any) -> dict[str, Any]:
    out = {
        "ModelPackageGroupName": row.name, "ModelPackageGroupArn": row.arn,
        "ModelPackageGroupDescription": row.description, "CreationTime": utc_datetime(row.created_at),
        "ModelPackageGroupStatus": "Completed",
    }  # fmt: skip
    return {k: v for k, v in out.items() if v is not None}
