"""What a job costs: on demand, with managed spot, or under a SageMaker Savings Plan,
priced from the instance catalog (``catalog``).

>>> from groundfog.training.costs import job_cost
>>> job_cost("ml.m5.xlarge", 2, 3600).usd      # two hosts for one hour, on demand
0.46
>>> job_cost("ml.m5.xlarge", 2, 3600, spot=True).savings_percent
70.0

How groundfog prices a job, and where it is simpler than AWS:

- On demand: instance price per hour x instances x seconds / 3600, billed per second.
- Managed spot training: a fixed per-family discount stands in for the spot market,
  so ``spot_billable_seconds`` gives the BillableTimeInSeconds SageMaker would report
  (savings% = (1 - billable / training seconds) x 100). Families not offered for
  training (Inferentia) have no spot discount.
- SageMaker Savings Plans: a 1-year or 3-year commitment discounts on-demand usage.
  Spot and savings plans do not stack (a plan covers on-demand usage only), so asking
  for both is an error rather than a guess.

``catalog`` re-exports ``Cost``, ``job_cost``, ``spot_billable_seconds`` and
``SAVINGS_PLANS``, where callers have always found them.
"""

from __future__ import annotations

import math
from typing import Any

from groundfog.core.errors import ValidationError
from groundfog.training.catalog import MAX_SECONDS, InstanceType, _count, _Frozen, _lookup, _money, _shown

__all__ = ["SAVINGS_PLANS", "Cost", "job_cost", "spot_billable_seconds"]

SAVINGS_PLANS = ("1yr", "3yr")


class Cost(_Frozen):
    """What a job costs: on demand, and what is paid with spot or a savings plan.

    ``hourly_rate`` is the price paid per instance-hour after the discount;
    ``discount`` is the fraction taken off on demand (0 when on demand).
    """

    instance_type: str
    instance_count: int
    billable_seconds: float
    spot: bool
    savings_plan: str | None
    on_demand_per_hour: float
    discount: float
    hourly_rate: float
    on_demand_usd: float
    usd: float
    savings_usd: float
    savings_percent: float


def job_cost(
    instance_type: str,
    instance_count: int,
    billable_seconds: float,
    *,
    spot: bool = False,
    savings_plan: str | None = None,
) -> Cost:
    """What ``instance_count`` hosts of ``instance_type`` cost for ``billable_seconds``.

    ``billable_seconds`` is instance time before any discount (a job's
    TrainingTimeInSeconds); ``spot`` applies the family's managed-spot discount and
    ``savings_plan`` ("1yr" or "3yr") its savings-plan discount. The two do not
    stack: a savings plan covers on-demand usage only, so giving both is an error.

    >>> c = job_cost("ml.p3.2xlarge", 1, 3600, savings_plan="3yr")
    >>> (c.on_demand_usd, c.usd, c.savings_percent)
    (3.825, 1.53, 60.0)
    """
    itype = _lookup(instance_type, "InstanceType")
    count = _count(instance_count)
    seconds = _seconds(billable_seconds, "billable_seconds")
    if not isinstance(spot, bool):
        raise ValidationError(f"spot must be true or false, got {_shown(spot)}", field="spot")
    if savings_plan is not None and savings_plan not in SAVINGS_PLANS:
        raise ValidationError(
            f"savings_plan must be '1yr' or '3yr' (SageMaker Savings Plans are 1- or 3-year commitments), "
            f"or none for on demand; got {_shown(savings_plan)}",
            field="savings_plan",
        )
    if spot and savings_plan is not None:
        raise ValidationError(
            "spot and savings_plan do not stack: a savings plan discounts on-demand usage only; choose one",
            field="savings_plan",
        )
    if spot:
        discount = _spot_discount(itype, "spot")
    elif savings_plan is not None:
        discount = itype.savings_plan_1yr if savings_plan == "1yr" else itype.savings_plan_3yr
    else:
        discount = 0.0
    on_demand = itype.on_demand_per_hour * count * seconds / 3600
    paid = on_demand * (1 - discount)
    return Cost(
        instance_type=itype.name, instance_count=count, billable_seconds=seconds, spot=spot,
        savings_plan=savings_plan, on_demand_per_hour=itype.on_demand_per_hour, discount=discount,
        hourly_rate=_money(itype.on_demand_per_hour * (1 - discount)), on_demand_usd=_money(on_demand),
        usd=_money(paid), savings_usd=_money(on_demand - paid), savings_percent=round(discount * 100, 6),
    )


def spot_billable_seconds(running_seconds: float, instance_type: str) -> float:
    """The BillableTimeInSeconds SageMaker would report for a managed-spot job that ran
    ``running_seconds``: ``running_seconds * (1 - spot discount)``, so that
    savings% = (1 - billable / training seconds) x 100.

    >>> spot_billable_seconds(1000, "ml.m5.xlarge")
    300.0
    """
    itype = _lookup(instance_type, "InstanceType")
    seconds = _seconds(running_seconds, "running_seconds")
    # Rounded as money is: SageMaker itself reports whole seconds.
    return round(seconds * (1 - _spot_discount(itype, "InstanceType")), 6)


def _spot_discount(itype: InstanceType, field: str) -> float:
    if itype.spot_discount is None:
        raise ValidationError(
            f"{itype.name} is not offered for managed spot training (SageMaker offers the {itype.family} family "
            "for inference hosting only); estimate it on demand or with a savings plan",
            field=field,
        )
    return itype.spot_discount


def _seconds(value: Any, field: str) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or not 0 <= value <= MAX_SECONDS:
        raise ValidationError(
            f"{field} must be a number of seconds from 0 to {MAX_SECONDS} (ten years), got {_shown(value)}",
            field=field,
        )
    return float(value)
