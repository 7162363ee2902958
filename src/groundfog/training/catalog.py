"""The SageMaker instance catalog: instance types per family, their prices, and what
one of them becomes on this machine.

The catalog is data (``instances.json``, next to this module): approximate us-east-1
list prices, to be refreshed, with each family's spot discount and savings-plan
discounts. It is read once, on first use. What a job costs, from these prices, is
``costs`` (``Cost``, ``job_cost``, ``spot_billable_seconds``, ``SAVINGS_PLANS``); this
module re-exports those names.

>>> from groundfog.training.catalog import instance_type, job_cost
>>> t = instance_type("ml.m5.xlarge")
>>> (t.family, t.category, t.vcpus, t.memory_gib)
('m5', 'general', 4, 16.0)
>>> job_cost("ml.m5.xlarge", 2, 3600).usd      # two hosts for one hour, on demand
0.46
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, computed_field

from groundfog.core.errors import ValidationError
from groundfog.core.lazy import lazy_exports

if TYPE_CHECKING:  # what __getattr__ below re-exports, for type checkers
    from groundfog.training.costs import (
        SAVINGS_PLANS as SAVINGS_PLANS,
        Cost as Cost,
        job_cost as job_cost,
        spot_billable_seconds as spot_billable_seconds,
    )

# Far above SageMaker's default quotas; the bound keeps every cost a finite float.
MAX_INSTANCE_COUNT = 1000
MAX_SECONDS = 10 * 365 * 24 * 3600  # ten years: room for a 3-year plan's estimates
_NAME = re.compile(r"ml\.([a-z0-9]+)\.([a-z0-9]+)")
_DATA = "instances.json"

# The cost model lives in ``costs``, which looks instance types up here. Its names stay
# importable from the catalog, resolved on first use so that either module can be
# imported first (only ``__getattr__``: the catalog keeps its own ``dir()``).
_COST_NAMES = ("SAVINGS_PLANS", "Cost", "job_cost", "spot_billable_seconds")
__getattr__ = lazy_exports(__name__, dict.fromkeys(_COST_NAMES, "groundfog.training.costs"))[0]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)


class Family(_Frozen):
    """One instance family (``m5``), as the catalog describes it.

    >>> family("c5").purpose.startswith("compute-bound")
    True
    """

    name: str
    category: str  # general, compute, memory, accelerated, inference
    category_description: str
    purpose: str  # what it is for, in one line
    training: bool  # whether SageMaker offers it for training jobs (else: hosting only)
    accelerator: str | None
    spot_discount: float | None  # None: no managed spot training for this family
    savings_plan_1yr: float
    savings_plan_3yr: float
    instance_types: tuple[str, ...]


class InstanceType(_Frozen):
    """One instance type (``ml.p3.2xlarge``): its size, devices and prices.

    ``gpus`` counts GPUs only; ``accelerators`` counts every accelerator device
    (GPUs or Inferentia chips). Prices are USD per instance-hour.

    >>> t = instance_type("ml.p3.2xlarge")
    >>> (t.gpus, t.accelerator, t.on_demand_per_hour)
    (1, 'NVIDIA V100', 3.825)
    """

    name: str
    family: str
    category: str
    vcpus: int
    memory_gib: float
    gpus: int
    accelerators: int
    accelerator: str | None
    on_demand_per_hour: float
    spot_discount: float | None
    savings_plan_1yr: float
    savings_plan_3yr: float
    training: bool
    purpose: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def spot_per_hour(self) -> float | None:
        """The managed-spot price per hour, or None where there is no managed spot."""
        return None if self.spot_discount is None else _money(self.on_demand_per_hour * (1 - self.spot_discount))


class LocalResources(_Frozen):
    """What each host of a job gets on this machine when it asks for ``instance_type``."""

    instance_type: str
    instance_count: int
    cpus_per_host: int
    memory_mb_per_host: int
    gpus_requested: int  # GPUs per host the instance type has; groundfog does not emulate them
    scaled_down: bool  # a host gets less than the instance type has
    note: str


@dataclass(frozen=True)
class _Catalog:
    source: str
    families: dict[str, Family]
    types: dict[str, InstanceType]
    categories: dict[str, str]


@cache
def _catalog() -> _Catalog:
    """The data file, parsed once; a malformed file is a packaging bug (KeyError/TypeError)."""
    raw = json.loads(resources.files("groundfog.training").joinpath(_DATA).read_text(encoding="utf-8"))
    categories: dict[str, str] = dict(raw["categories"])
    families: dict[str, Family] = {}
    types: dict[str, InstanceType] = {}
    for fam_name, fam in raw["families"].items():
        plan = fam["savings_plan"]
        family_ = Family(
            name=fam_name, category=fam["category"], category_description=categories[fam["category"]],
            purpose=fam["purpose"], training=fam["training"], accelerator=fam["accelerator"],
            spot_discount=fam["spot_discount"], savings_plan_1yr=plan["1yr"], savings_plan_3yr=plan["3yr"],
            instance_types=tuple(fam["types"]),
        )
        families[fam_name] = family_
        for type_name, spec in fam["types"].items():
            types[type_name] = InstanceType(
                name=type_name, family=fam_name, category=family_.category, vcpus=spec["vcpus"],
                memory_gib=spec["memory_gib"], gpus=spec["gpus"], accelerators=spec["accelerators"],
                accelerator=family_.accelerator, on_demand_per_hour=spec["on_demand_per_hour"],
                spot_discount=family_.spot_discount, savings_plan_1yr=family_.savings_plan_1yr,
                savings_plan_3yr=family_.savings_plan_3yr, training=family_.training, purpose=family_.purpose,
            )
    return _Catalog(source=raw["source"], families=families, types=types, categories=categories)


# -- lookups ---------------------------------------------------------------------------


def price_source() -> str:
    """Where the prices come from and how old they are (the data file's ``source``).

    >>> "us-east-1" in price_source()
    True
    """
    return _catalog().source


def instance_type(name: str, field: str = "InstanceType") -> InstanceType:
    """The catalog entry for ``name``; an unknown name is a ``ValidationError`` on ``field``
    that lists the family's types when the family is known, else the families.

    >>> instance_type("ml.g4dn.xlarge").accelerator
    'NVIDIA T4'
    >>> try:
    ...     instance_type("ml.m5.3xlarge")
    ... except ValidationError as exc:
    ...     print(exc.field, "ml.m5.4xlarge" in exc.message)
    InstanceType True
    """
    return _lookup(name, field)


def _lookup(name: Any, field: str) -> InstanceType:
    catalog = _catalog()
    if not isinstance(name, str):
        raise ValidationError(
            f"{field} must be a string such as 'ml.m5.xlarge', got {type(name).__name__}", field=field
        )
    found = catalog.types.get(name)
    if found is not None:
        return found
    shown = _shown(name)
    # Names are case-sensitive in SageMaker too; a near miss gets a hint, not a silent fix.
    near = name.strip().lower()
    hint = f"; did you mean {near!r}?" if near in catalog.types else ""
    match = _NAME.fullmatch(name)
    if match is None:
        raise ValidationError(
            f"{field} {shown} is not an instance type name: expected ml.<family>.<size>, such as ml.m5.xlarge{hint}",
            field=field,
        )
    family_ = catalog.families.get(match.group(1))
    if family_ is None:
        raise ValidationError(
            f"{field} {shown} is not in the catalog: there is no family {match.group(1)!r}; "
            f"families: {', '.join(catalog.families)}{hint}",
            field=field,
        )
    raise ValidationError(
        f"{field} {shown} is not in the catalog; the {family_.name} family has {', '.join(family_.instance_types)}",
        field=field,
    )


def family(name: str, field: str = "family") -> Family:
    """One family by name (``"m5"``); unknown → ``ValidationError`` listing the families.

    >>> family("inf2").accelerator
    'AWS Inferentia2'
    """
    return _family(name, field)


def _family(name: Any, field: str) -> Family:
    catalog = _catalog()
    found = catalog.families.get(name) if isinstance(name, str) else None
    if found is None:
        raise ValidationError(
            f"{field} {_shown(name)} is not in the catalog; families: {', '.join(catalog.families)}", field=field
        )
    return found


def families(category: str | None = None) -> list[Family]:
    """Every family, in catalog order, or those of one category.

    >>> [f.name for f in families("accelerated")]
    ['p3', 'p4d', 'g4dn', 'g5']
    """
    wanted = None if category is None else _category(category)
    return [f for f in _catalog().families.values() if wanted is None or f.category == wanted]


def categories() -> dict[str, str]:
    """``{category: description}`` in catalog order.

    >>> list(categories())
    ['general', 'compute', 'memory', 'accelerated', 'inference']
    """
    return dict(_catalog().categories)


def list_instance_types(family: str | None = None, category: str | None = None) -> list[InstanceType]:
    """Instance types in catalog order (by family, smallest first), optionally filtered.

    >>> [t.name for t in list_instance_types(family="p3")]
    ['ml.p3.2xlarge', 'ml.p3.8xlarge', 'ml.p3.16xlarge']
    >>> len(list_instance_types(category="inference"))
    8
    """
    fam = None if family is None else _family(family, "family")
    wanted = None if category is None else _category(category)
    return [
        t for t in _catalog().types.values()
        if (fam is None or t.family == fam.name) and (wanted is None or t.category == wanted)
    ]


def _category(name: Any) -> str:
    known = _catalog().categories
    if not isinstance(name, str) or name not in known:
        raise ValidationError(
            f"category {_shown(name)} is not in the catalog; categories: {', '.join(known)}", field="category"
        )
    return name


# -- this machine -----------------------------------------------------------------------


def local_resources(
    instance_type: str,
    instance_count: int = 1,
    *,
    available_cpus: int | None = None,
    available_memory_mb: int | None = None,
) -> LocalResources:
    """CPUs and memory each host of a job gets here: the instance type's, or this
    machine's fair share when the machine is smaller (asking for more is allowed).

    ``available_cpus`` and ``available_memory_mb`` default to this process's CPUs
    (its affinity mask) and the machine's physical memory.

    >>> r = local_resources("ml.m5.4xlarge", 2, available_cpus=2, available_memory_mb=23 * 1024)
    >>> (r.cpus_per_host, r.memory_mb_per_host, r.scaled_down)
    (1, 11776, True)
    >>> print(r.note)  # doctest: +NORMALIZE_WHITESPACE
    ml.m5.4xlarge has 16 vCPUs and 64 GiB; this machine has 2 CPUs and 23 GiB,
    so each of the 2 hosts runs on 1 CPU and 11.5 GiB
    """
    itype = _lookup(instance_type, "InstanceType")
    count = _count(instance_count)
    cpus = _machine_cpus() if available_cpus is None else _positive_int(available_cpus, "available_cpus")
    memory = _machine_memory_mb() if available_memory_mb is None else _positive_int(
        available_memory_mb, "available_memory_mb"
    )
    wanted_mb = int(itype.memory_gib * 1024)
    cpus_per_host = max(1, min(itype.vcpus, cpus // count))
    memory_per_host = max(1, min(wanted_mb, memory // count))
    scaled_down = cpus_per_host < itype.vcpus or memory_per_host < wanted_mb
    hosts = "the host runs" if count == 1 else f"each of the {count} hosts runs"
    note = (
        f"{itype.name} has {_plural(itype.vcpus, 'vCPU')} and {_size(wanted_mb)}; this machine has "
        f"{_plural(cpus, 'CPU')} and {_size(memory)}, so {hosts} on {_plural(cpus_per_host, 'CPU')} and "
        f"{_size(memory_per_host)}"
    )
    if not scaled_down:
        note += ", as on SageMaker"
    if count > cpus:
        note += f"; the {count} hosts take turns on {_plural(cpus, 'CPU')}"
    if itype.accelerators:
        devices = _plural(itype.accelerators, f"{itype.accelerator} " + ("GPU" if itype.gpus else "chip"))
        note += f"; its {devices} per host are not emulated: a script sees this machine's devices, if any"
    return LocalResources(
        instance_type=itype.name, instance_count=count, cpus_per_host=cpus_per_host,
        memory_mb_per_host=memory_per_host, gpus_requested=itype.gpus, scaled_down=scaled_down, note=note,
    )


def _machine_cpus() -> int:
    # The affinity mask, not os.cpu_count(): a container or taskset may allow fewer.
    getaffinity = getattr(os, "sched_getaffinity", None)
    return len(getaffinity(0)) if getaffinity else (os.cpu_count() or 1)


def _machine_memory_mb() -> int:
    try:
        return max(1, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20)
    except (ValueError, OSError, AttributeError):
        # No sysconf (Windows): a modest guess; pass available_memory_mb to be exact.
        return 4096


# -- validation and formatting ------------------------------------------------------------


def _count(value: Any, field: str = "InstanceCount") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_INSTANCE_COUNT:
        raise ValidationError(
            f"{field} must be a whole number from 1 to {MAX_INSTANCE_COUNT}, got {_shown(value)}", field=field
        )
    return value


def _positive_int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{field} must be a whole number, at least 1, got {_shown(value)}", field=field)
    return value


def _shown(value: Any, limit: int = 60) -> str:
    """A value as an error message may quote it: repr, cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _money(usd: float) -> float:
    # Micro-dollars: past this, float noise (0.68 * 100 = 68.00000000000001) is all there is.
    return round(usd, 6)


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _size(mb: int) -> str:
    return f"{round(mb / 1024, 1):g} GiB" if mb >= 1024 else f"{mb} MiB"

