"""A router's picture of one endpoint: which fleets and variants take how much traffic,
and which worker ports serve each variant. Built from the endpoint document; immutable,
so a request reads it without locks.

>>> doc = {"name": "e", "generation": 3, "status": "InService", "fleets": [{"id": "f1", "share": 1.0,
...     "capture": None, "variants": [{"name": "A", "weight": 0.8, "count": 1, "instances": [{"slot": 0, "status": "InService", "port": 9}]},
...                                   {"name": "B", "weight": 0.2, "count": 1, "instances": []}], "shadows": []}]}
>>> Route.build(doc).pick(0.9, 0.1).name, Route.build(doc).pick(0.9, 0.95).name
('A', 'B')
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from typing import Any

from groundfog.core.errors import ServiceUnavailable, ValidationError

SERVING_STATUSES = ("InService", "Updating", "RollingBack", "SystemUpdating")


@dataclass
class VariantRoute:
    name: str
    fleet: str
    ports: tuple[int, ...]
    instances: int
    capture: dict[str, Any] | None
    share: float = 1.0  # for a shadow: the fraction of requests copied to it
    _turn: Any = field(default_factory=itertools.count, repr=False)

    def port(self, avoid: int | None = None) -> int:
        """The next serving instance's port, round robin."""
        ports = self.ports if avoid is None else tuple(p for p in self.ports if p != avoid)
        if not ports:
            raise ServiceUnavailable(f"variant {self.name} has no instance in service right now; try again shortly")
        return ports[next(self._turn) % len(ports)]


@dataclass
class _Fleet:
    share: float
    variants: list[VariantRoute]
    cumulative: list[float]


@dataclass
class Route:
    name: str
    generation: int
    status: str
    fleets: list[_Fleet]
    cumulative: list[float]
    by_name: dict[str, VariantRoute]
    shadows: list[VariantRoute]

    @classmethod
    def build(cls, doc: dict[str, Any]) -> "Route":
        fleets, by_name, shadows = [], {}, []
        for fleet in sorted(doc["fleets"], key=lambda f: f["share"]):
            routes = [_variant(v, fleet) for v in fleet["variants"]]
            total = sum(v["weight"] for v in fleet["variants"])
            cumulative = list(itertools.accumulate(v["weight"] / total for v in fleet["variants"])) if total else []
            fleets.append(_Fleet(fleet["share"], routes, cumulative))
            for route in routes:
                by_name[route.name] = route  # the larger share's fleet wins a shared name
            for shadow in fleet["shadows"]:
                route = _variant(shadow, fleet)
                route.share = min(1.0, shadow["weight"] / total) if total else 0.0
                shadows.append(route)
        total_share = sum(f.share for f in fleets)
        cumulative = list(itertools.accumulate(f.share / total_share for f in fleets)) if total_share else []
        return cls(doc["name"], doc["generation"], doc["status"], fleets, cumulative, by_name, shadows)

    def check_serving(self) -> None:
        if self.status not in SERVING_STATUSES:
            raise ValidationError(f"endpoint {self.name} is {self.status}, not in service; "
                                  "invoke it once DescribeEndpoint shows InService", field="EndpointName")  # fmt: skip

    def pick(self, fleet_draw: float, variant_draw: float) -> VariantRoute:
        """The variant for two uniform draws in [0, 1): a fleet by share, then a variant
        by weight."""
        if not self.cumulative:
            raise ServiceUnavailable(f"endpoint {self.name} has no traffic share on any fleet")
        fleet = self.fleets[min(bisect.bisect_right(self.cumulative, fleet_draw), len(self.fleets) - 1)]
        if not fleet.cumulative:
            raise ServiceUnavailable(f"every variant of endpoint {self.name} has weight 0; "
                                     "give one a weight or name one with TargetVariant")  # fmt: skip
        return fleet.variants[min(bisect.bisect_right(fleet.cumulative, variant_draw), len(fleet.variants) - 1)]

    def variant(self, fleet: str, name: str) -> VariantRoute | None:
        """The variant ``name`` of fleet ``fleet``, if the route still has it."""
        for variants in ([v for f in self.fleets for v in f.variants], self.shadows):
            for found in variants:
                if found.fleet == fleet and found.name == name:
                    return found
        return None

    def target(self, variant: str) -> VariantRoute:
        found = self.by_name.get(variant)
        if found is None:
            raise ValidationError(f"TargetVariant {variant!r} is not a production variant of endpoint {self.name}; "
                                  f"it has {', '.join(sorted(self.by_name))}", field="TargetVariant")  # fmt: skip
        return found


def _variant(variant: dict[str, Any], fleet: dict[str, Any]) -> VariantRoute:
    # Only the slots the variant keeps: a count just lowered (a rolling step, a rollback
    # batch, scale-in) stops the workers beyond it in the same tick that routes around them.
    ports = tuple(i["port"] for i in variant["instances"]
                  if i["slot"] < variant["count"] and i["status"] == "InService" and i["port"])  # fmt: skip
    return VariantRoute(variant["name"], fleet["id"], ports, max(1, variant["count"]), fleet.get("capture"))
