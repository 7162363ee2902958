"""The ``instances`` service: the SageMaker instance catalog and cost estimates as
operations, so the HTTP API, the remote SDK and the CLI reach them the same way.

>>> p.instances.describe_instance_type(instance_type="ml.c5.xlarge").vcpus  # doctest: +SKIP
4
>>> p.instances.estimate_cost(instance_type="ml.c5.xlarge", instance_count=2, hours=10, use_spot=True).usd  # doctest: +SKIP
1.3056

It keeps no state: the catalog is data shipped with groundfog (approximate us-east-1
list prices, see ``groundfog.training.catalog``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from groundfog.core.errors import ValidationError
from groundfog.core.service import Service, operation
from groundfog.training import catalog
from groundfog.training.catalog import Cost, Family, InstanceType

if TYPE_CHECKING:
    from groundfog.core.clock import Clock
    from groundfog.core.config import Config
    from groundfog.core.state import StateStore

MAX_HOURS = catalog.MAX_SECONDS / 3600


class InstancesService(Service):
    """Instance types per family, their prices, and what a job on them costs."""

    name = "instances"

    def __init__(self, *, config: "Config", state: "StateStore", clock: "Clock") -> None:
        super().__init__(config=config, state=state, clock=clock)

    @operation
    def list_instance_types(self, family: str | None = None, category: str | None = None) -> list[InstanceType]:
        """Instance types, smallest first within each family; filter by ``family``
        (``m5``, ``g4dn``, ...) and/or ``category`` (general, compute, memory,
        accelerated, inference)."""
        return catalog.list_instance_types(family=family, category=category)

    @operation
    def describe_instance_type(self, instance_type: str) -> InstanceType:
        """One instance type (``ml.p3.2xlarge``): vCPUs, memory, GPUs, prices, what it is for."""
        return catalog.instance_type(instance_type)

    @operation
    def list_families(self, category: str | None = None) -> list[Family]:
        """Instance families with what each is for, its spot and savings-plan discounts."""
        return catalog.families(category)

    @operation
    def estimate_cost(
        self,
        instance_type: str,
        instance_count: int = 1,
        hours: float = 1.0,
        use_spot: bool = False,
        savings_plan: str | None = None,
    ) -> Cost:
        """What ``instance_count`` hosts of ``instance_type`` cost for ``hours``: on demand,
        with managed spot (``use_spot``), or under a ``savings_plan`` ("1yr" or "3yr").
        Spot and savings plans do not stack."""
        if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not math.isfinite(hours) \
                or not 0 < hours <= MAX_HOURS:
            raise ValidationError(
                f"hours must be a number of hours above 0 and at most {MAX_HOURS:g} (ten years), got {hours!r}",
                field="hours",
            )
        if not isinstance(use_spot, bool):
            raise ValidationError(f"use_spot must be true or false, got {use_spot!r}", field="use_spot")
        try:
            return catalog.job_cost(
                instance_type, instance_count, hours * 3600, spot=use_spot, savings_plan=savings_plan
            )
        except ValidationError as exc:
            # job_cost calls the flag "spot"; name the field this request used.
            if exc.field == "spot":
                raise ValidationError(exc.message, field="use_spot") from None
            raise

