"""Seed note: "Instance types: Standard (t), Compute optimized (c), Memory optimized (r),
Accelerated computing (like for images) (p, g, t), Inference (inf)", with "To save on
costs: spot instances" and "SG saving plan requires a 1 or 3 year plan".

The lab holds each family to what the note says it is for, against the instance
catalog's specs and prices (approximate us-east-1 list prices): c gives the most vCPUs
per dollar, r the most memory per vCPU, p and g are the GPU families, inf is the
cheapest accelerated hardware; t is the cheapest way in. Then the two cost notes:
managed spot costs less than on demand, and a savings plan is a 1- or 3-year
commitment, the longer one cheaper. Each family's check records what it is for.

The note's "t" under accelerated computing is most likely Trainium (trn1), which the
catalog does not list; the lab checks that no t3 type carries an accelerator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from groundfog.core.errors import ValidationError
from groundfog.training.catalog import InstanceType, local_resources

if TYPE_CHECKING:
    from groundfog.labs import LabResult
    from groundfog.platform import Platform

# The sizes m5, c5 and r5 all come in: a fair comparison is size for size.
SHARED_SIZES = ("large", "xlarge", "2xlarge", "4xlarge")


def run(p: "Platform", result: "LabResult") -> None:
    types = p.instances.list_instance_types()
    by_family: dict[str, list[InstanceType]] = {}
    for t in types:
        by_family.setdefault(t.family, []).append(t)
    purpose = {f.name: f.purpose for f in p.instances.list_families()}

    # Standard (t): burstable and the cheapest way in.
    cheapest = min(types, key=lambda t: t.on_demand_per_hour)
    result.check(
        "Standard (t): the cheapest instance type in the catalog is a t3",
        cheapest.family == "t3",
        f"{cheapest.name} at ${cheapest.on_demand_per_hour}/h; t3 is for: {purpose['t3']}",
    )
    result.check(
        "the note's t under accelerated computing is not t3: no t3 type has an accelerator",
        all(t.accelerators == 0 for t in by_family["t3"]),
        "the accelerated t is likely Trainium (trn1), which the catalog does not list",
    )

    # Compute optimized (c): the most vCPUs per dollar, size for size.
    losers = []
    for size in SHARED_SIZES:
        per_dollar = {f: _one(by_family[f], size).vcpus / _one(by_family[f], size).on_demand_per_hour
                      for f in ("m5", "c5", "r5")}
        if max(per_dollar, key=per_dollar.__getitem__) != "c5":
            losers.append(size)
    c5 = _one(by_family["c5"], "xlarge")
    result.check(
        "Compute optimized (c): c5 gives the most vCPUs per dollar of m5, c5 and r5 at every shared size",
        not losers,
        f"{c5.name}: {c5.vcpus / c5.on_demand_per_hour:.1f} vCPUs per $/h; c5 is for: {purpose['c5']}"
        + (f"; not at {', '.join(losers)}" if losers else ""),
    )

    # Memory optimized (r): the most memory per vCPU among the CPU families.
    cpu_types = [t for t in types if t.category in ("general", "compute", "memory")]
    ratio = {t.name: t.memory_gib / t.vcpus for t in cpu_types}
    best = max(ratio.values())
    result.check(
        "Memory optimized (r): r5 has the most memory per vCPU of the general, compute and memory types",
        {n for n, r in ratio.items() if r == best} == {t.name for t in by_family["r5"]},
        f"{best:g} GiB per vCPU; r5 is for: {purpose['r5']}",
    )

    # Accelerated computing (p, g): the only GPUs.
    with_gpus = {t.family for t in types if t.gpus}
    gpu_families = {f for f in by_family if f.startswith(("p", "g"))}
    result.check(
        "Accelerated computing (p, g): p and g types are the only ones with GPUs, and each has at least one",
        with_gpus == gpu_families and all(t.gpus >= 1 for f in gpu_families for t in by_family[f]),
        "; ".join(f"{f}: {by_family[f][0].accelerator}, {purpose[f]}" for f in sorted(gpu_families)),
    )

    # Inference (inf): the cheapest accelerated hardware.
    accelerated = [t for t in types if t.accelerators]
    cheapest_acc = min(accelerated, key=lambda t: t.on_demand_per_hour)
    cheapest_gpu = min((t for t in accelerated if t.gpus), key=lambda t: t.on_demand_per_hour)
    result.check(
        "Inference (inf): the cheapest accelerated instance type is an Inferentia one",
        cheapest_acc.family.startswith("inf"),
        f"{cheapest_acc.name} ${cheapest_acc.on_demand_per_hour}/h vs the cheapest GPU, {cheapest_gpu.name} "
        f"${cheapest_gpu.on_demand_per_hour}/h; inf is for: {purpose['inf1']}",
    )

    _cost_notes(p, result)

    # What a catalog size means here: the job runs on this machine's share.
    local = local_resources("ml.m5.4xlarge", 2)
    result.check(
        "a job asking for 2 x ml.m5.4xlarge runs here, on this machine's share",
        local.cpus_per_host >= 1 and local.memory_mb_per_host >= 1,
        local.note,
    )


def _cost_notes(p: "Platform", result: "LabResult") -> None:
    job = {"instance_type": "ml.p3.2xlarge", "instance_count": 2, "hours": 10.0}
    on_demand = p.instances.estimate_cost(**job)
    spot = p.instances.estimate_cost(**job, use_spot=True)
    result.check(
        "To save on costs: a managed spot job costs less than on demand",
        spot.usd < on_demand.usd,
        f"2 x ml.p3.2xlarge for 10 h: ${spot.usd:,.2f} on spot vs ${on_demand.usd:,.2f} on demand "
        f"({spot.savings_percent:g}% saved)",
    )
    plans = {plan: p.instances.estimate_cost(**job, savings_plan=plan).usd for plan in ("1yr", "3yr")}
    result.check(
        "SG saving plan: a 3-year plan costs less than a 1-year plan, which costs less than on demand",
        plans["3yr"] < plans["1yr"] < on_demand.usd,
        f"3yr ${plans['3yr']:,.2f} < 1yr ${plans['1yr']:,.2f} < on demand ${on_demand.usd:,.2f}",
    )
    refused, message = _refused(lambda: p.instances.estimate_cost(**job, savings_plan="2yr"))
    result.check(
        "SG saving plan requires a 1 or 3 year plan: any other term is refused",
        refused and "1yr" in message and "3yr" in message,
        message,
    )
    refused, message = _refused(lambda: p.instances.estimate_cost(**job, use_spot=True, savings_plan="1yr"))
    result.check("spot and a savings plan do not stack: asking for both is refused", refused, message)


def _one(types: Sequence[InstanceType], size: str) -> InstanceType:
    return next(t for t in types if t.name.rsplit(".", 1)[1] == size)


def _refused(call: Callable[[], object]) -> tuple[bool, str]:
    try:
        call()
    except ValidationError as exc:
        return True, exc.message
    return False, "accepted"
