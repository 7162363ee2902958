"""``groundfog instances ...``: the instance catalog and what a job on it costs.

    groundfog instances list --category accelerated
    groundfog instances families
    groundfog instances cost ml.p3.2xlarge --count 2 --hours 10 --spot
    groundfog instances cost ml.m5.xlarge --hours 730 --savings-plan 3yr --json

Prices are approximate us-east-1 list prices (USD), to be refreshed.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from groundfog.cli.common import JsonOption, command, output, platform

app = typer.Typer(
    help="The instance catalog: types per family, prices, cost (SageMaker instance types).", no_args_is_help=True
)

Opt = typer.Option
PRICES = "approximate us-east-1 SageMaker list prices, USD"


@app.command("list")
@command
def list_instance_types(
    family: Annotated[str | None, Opt(help="Only this family: t3, m5, c5, r5, p3, p4d, g4dn, g5, inf1, inf2.")] = None,
    category: Annotated[
        str | None, Opt(help="Only this category: general, compute, memory, accelerated, inference.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Instance types with vCPUs, memory, GPUs and prices per hour."""
    found = platform().instances.list_instance_types(family=family, category=category)
    if as_json:
        output({"InstanceTypes": found}, as_json=True)
        return
    rows = [
        {
            # Short headers: the type's name must fit an 80-column terminal unclipped.
            "Type": t.name, "Family": t.family, "vCPUs": t.vcpus, "GiB": f"{t.memory_gib:g}",
            "GPUs": _devices(t), "$/h": f"{t.on_demand_per_hour:.3f}",
            "Spot $/h": "-" if t.spot_per_hour is None else f"{t.spot_per_hour:.3f}",
        }
        for t in found
    ]
    output(rows, as_json=False, columns=list(rows[0]) if rows else ["Type"], title=f"Instance types ({PRICES})")


@app.command("families")
@command
def list_families(
    category: Annotated[
        str | None, Opt(help="Only this category: general, compute, memory, accelerated, inference.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Instance families: what each is for, its spot and savings-plan discounts."""
    found = platform().instances.list_families(category=category)
    if as_json:
        output({"Families": found}, as_json=True)
        return
    rows = [
        {
            "Family": f.name, "Category": f.category, "For": f.purpose,
            "Spot saves": "-" if f.spot_discount is None else f"{f.spot_discount:.0%}",
            "1yr plan": f"{f.savings_plan_1yr:.0%}", "3yr plan": f"{f.savings_plan_3yr:.0%}",
        }
        for f in found
    ]
    output(rows, as_json=False, columns=list(rows[0]) if rows else ["Family"], title="Instance families")


@app.command("cost")
@command
def cost(
    instance_type: Annotated[str, typer.Argument(help="An instance type, such as ml.m5.xlarge.")],
    count: Annotated[int, Opt(help="How many instances (hosts).")] = 1,
    hours: Annotated[float, Opt(help="How long they run, in hours.")] = 1.0,
    spot: Annotated[bool, Opt("--spot", help="Managed spot training instead of on demand.")] = False,
    savings_plan: Annotated[str | None, Opt(help="A SageMaker Savings Plan: 1yr or 3yr.")] = None,
    as_json: JsonOption = False,
) -> None:
    """What a job costs on demand, with managed spot, or under a savings plan."""
    result = platform().instances.estimate_cost(
        instance_type=instance_type, instance_count=count, hours=hours, use_spot=spot, savings_plan=savings_plan
    )
    if as_json:
        output(result, as_json=True)
        return
    output(_sentence(result, hours), as_json=False)


def _devices(t: Any) -> str:
    if not t.accelerators:
        return ""
    return f"{t.gpus}" if t.gpus else f"{t.accelerators} chip" + ("s" if t.accelerators > 1 else "")


def _sentence(c: Any, hours: float) -> str:
    how = "with managed spot" if c.spot else f"under a {c.savings_plan} savings plan" if c.savings_plan else "on demand"
    text = f"{c.instance_count} x {c.instance_type} for {hours:g} h {how}: ${c.usd:,.2f}"
    if c.discount:
        text += f" (on demand ${c.on_demand_usd:,.2f}; saves ${c.savings_usd:,.2f}, {c.savings_percent:g}%)"
    return text + f" ({PRICES})"
