"""The router's view of an endpoint document: which instances take traffic."""

from __future__ import annotations

from groundfog.serving.routes import Route


def _doc(count: int, instances: list[tuple[int, str, int]]) -> dict:
    variant = {"name": "AllTraffic", "model": "m", "instance_type": "ml.m5.large", "weight": 1.0,
               "desired_weight": 1.0, "count": count, "desired_count": count,
               "instances": [{"slot": s, "status": st, "port": p} for s, st, p in instances]}  # fmt: skip
    fleet = {"id": "f1", "config": "c", "share": 1.0, "capture": None, "variants": [variant], "shadows": []}
    return {"name": "e", "generation": 3, "status": "InService", "fleets": [fleet]}


def test_only_serving_instances_within_the_variants_count_take_traffic():
    route = Route.build(_doc(2, [(0, "InService", 4001), (1, "Pending", None), (2, "InService", 4003)]))
    # Slot 2 is beyond a count just lowered to 2: its worker is being stopped in this very tick.
    assert route.by_name["AllTraffic"].ports == (4001,)
    assert route.variant("f1", "AllTraffic") is route.by_name["AllTraffic"]
    assert route.variant("f2", "AllTraffic") is None
