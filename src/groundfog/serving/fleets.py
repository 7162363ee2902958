"""What runs behind an endpoint, as one JSON document: its fleets.

A fleet is the set of variants an endpoint config describes, with its share of the
endpoint's traffic. An endpoint has one fleet (blue) in service, and a second (green)
while a deployment moves traffic to a new config. Each variant has its current and
desired weight and instance count, and its instances, one worker process each:

    {"id": "f1", "config": "churn-v1", "share": 1.0, "capture": {...} | None,
     "variants": [{"name": "AllTraffic", "model": "churn", "instance_type": "ml.m5.large",
                   "weight": 1.0, "desired_weight": 1.0, "count": 1, "desired_count": 1,
                   "instances": [{"slot": 0, "status": "InService", "port": 41234, "pid": 812,
                                  "setup_seconds": 0.61, "error": None, "restarts": 0}]}],
     "shadows": [...variants of ShadowProductionVariants...]}

These functions only read and rebuild the document; ``hosting`` and ``deployment``
decide when.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

Fleet = dict[str, Any]
Variant = dict[str, Any]


def new_fleet(fleet_id: str, config_name: str, config: dict[str, Any], share: float) -> Fleet:
    """A fleet for an endpoint config, its instances still to be started."""

    def variant(v: dict[str, Any]) -> Variant:
        count = v["InitialInstanceCount"]
        return {
            "name": v["VariantName"], "model": v["ModelName"], "instance_type": v["InstanceType"],
            "weight": v.get("InitialVariantWeight", 1.0), "desired_weight": v.get("InitialVariantWeight", 1.0),
            "count": count, "desired_count": count, "instances": [],
        }  # fmt: skip

    capture = config.get("DataCaptureConfig")
    return {
        "id": fleet_id,
        "config": config_name,
        "share": share,
        "capture": capture if capture and capture.get("EnableCapture") else None,
        "variants": [variant(v) for v in config["ProductionVariants"]],
        "shadows": [variant(v) for v in config.get("ShadowProductionVariants", [])],
    }


def all_variants(fleet: Fleet) -> Iterator[Variant]:
    yield from fleet["variants"]
    yield from fleet["shadows"]


def instance_slots(fleets: list[Fleet]) -> Iterator[tuple[Fleet, Variant, int]]:
    """Every instance slot that should be running: ``(fleet, variant, slot)``."""
    for fleet in fleets:
        for variant in all_variants(fleet):
            for slot in range(variant["count"]):
                yield fleet, variant, slot


def instance(variant: Variant, slot: int) -> dict[str, Any] | None:
    for item in variant["instances"]:
        if item["slot"] == slot:
            return item
    return None


def _every_slot(fleet: Fleet, holds: Callable[[str], bool]) -> bool:
    """Whether every instance slot of every variant has an instance whose status ``holds``."""
    return all(
        len([i for i in v["instances"] if i["slot"] < v["count"] and holds(i["status"])]) >= v["count"]
        for v in all_variants(fleet)
    )


def fleet_ready(fleet: Fleet) -> bool:
    """Every instance of every variant has its worker serving."""
    return _every_slot(fleet, lambda status: status == "InService")


def fleet_settled(fleet: Fleet) -> bool:
    """No instance of the fleet is still starting: each serves or has failed."""
    return _every_slot(fleet, lambda status: status != "Pending")


def fleet_failure(fleet: Fleet) -> str | None:
    """Why the fleet cannot serve (a worker failed to load its model), if so."""
    for variant in all_variants(fleet):
        for item in variant["instances"]:
            if item["status"] == "Failed":
                return f"variant {variant['name']}: {item['error']}"
    return None


def fleet_capacity(fleet: Fleet) -> int:
    return sum(v["count"] for v in fleet["variants"])


def size_fraction(size: dict[str, Any], capacity: int) -> float:
    """A CanarySize, LinearStepSize or MaximumBatchSize as a fraction of a fleet."""
    if size["Type"] == "CAPACITY_PERCENT":
        return min(1.0, size["Value"] / 100.0)
    return min(1.0, size["Value"] / max(capacity, 1))


def step_shares(fraction: float) -> list[float]:
    """Traffic shares of successive steps of ``fraction`` each, ending at 1.0.

    >>> step_shares(0.3)
    [0.3, 0.6, 0.9, 1.0]
    """
    steps = max(1, math.ceil(round(1.0 / fraction, 9)))
    return [round(min(1.0, fraction * (k + 1)), 6) for k in range(steps)]


def shrink_counts(fleet: Fleet, originals: dict[str, int], green_share: float) -> None:
    """During a rolling update the old fleet gives up instances as the new one takes
    traffic; it keeps one per variant until it is retired."""
    for variant in fleet["variants"]:
        original = originals.get(variant["name"], variant["count"])
        variant["count"] = max(1, math.ceil(original * (1.0 - green_share) - 1e-9))
        variant["desired_count"] = variant["count"]


def describe_variants(fleet: Fleet, images: dict[str, str], key: str = "variants") -> list[dict[str, Any]]:
    """ProductionVariants (or ShadowProductionVariants) as DescribeEndpoint shows them;
    ``images`` maps each model to its container's image."""
    out = []
    for variant in fleet[key]:
        running = [i for i in variant["instances"] if i["status"] == "InService"]
        image = images.get(variant["model"], variant["model"])
        entry = {
            "VariantName": variant["name"],
            "DeployedImages": [{"SpecifiedImage": image, "ResolvedImage": image}],
            "CurrentWeight": variant["weight"],
            "DesiredWeight": variant["desired_weight"],
            "CurrentInstanceCount": len(running),
            "DesiredInstanceCount": variant["desired_count"],
        }
        if len(running) < variant["desired_count"]:
            entry["VariantStatus"] = [{"Status": "Creating" if not running else "Updating",
                                       "StatusMessage": f"{len(running)} of {variant['desired_count']} instances in service"}]  # fmt: skip
        out.append(entry)
    return out
