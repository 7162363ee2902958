"""The deployment controller: moves an endpoint's traffic from its blue fleet to the
green one as the deployment config says, watching the rollback alarms while it bakes.

``advance(endpoint, now, alarm_in_alarm)`` is called on every tick of the hosting
process for an endpoint that is not yet steady. It changes the endpoint document in
place (status, fleets' shares and counts, the deployment's phase) and returns the steps
it took, each a line of the endpoint's deployment history.

Phases of an update: ``Provisioning`` (the green fleet starts) -> ``Baking`` after each
traffic step (CANARY: the canary, then the rest; LINEAR: equal steps; ALL_AT_ONCE and
no DeploymentConfig: one step; rolling updates: one step per batch, the blue fleet
shrinking as the green one takes traffic) -> ``TerminationWait`` -> done, the green
fleet is the endpoint's only fleet. An alarm in ``ALARM``, a green fleet that fails
to start, or the execution timeout sends it to ``RollingBack``: all traffic returns
to the blue fleet at once, the green fleet is removed, and the endpoint ends
``InService`` on its old config with the reason in ``FailureReason``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from groundfog.serving.fleets import (
    Fleet,
    fleet_capacity,
    fleet_failure,
    fleet_ready,
    fleet_settled,
    shrink_counts,
    size_fraction,
    step_shares,
)


@dataclass
class Step:
    """One line of the deployment history."""

    stage: str
    message: str
    detail: dict[str, Any] = field(default_factory=dict)


def plan(policy: dict[str, Any] | None, green: Fleet, now: float) -> dict[str, Any]:
    """The deployment document for an update to ``green`` under ``policy`` (a
    DeploymentConfig, or None for SageMaker's default: all at once, no baking)."""
    policy = policy or {}
    capacity = fleet_capacity(green)
    if "RollingUpdatePolicy" in policy:
        rolling = policy["RollingUpdatePolicy"]
        shares = step_shares(size_fraction(rolling["MaximumBatchSize"], capacity))
        kind, wait, termination = "ROLLING", rolling["WaitIntervalInSeconds"], 0
        timeout = rolling["MaximumExecutionTimeoutInSeconds"]
    else:
        blue_green = policy.get("BlueGreenUpdatePolicy") or {}
        routing = blue_green.get("TrafficRoutingConfiguration") or {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}
        kind, wait = routing["Type"], routing["WaitIntervalInSeconds"]
        termination = blue_green.get("TerminationWaitInSeconds", 0)
        timeout = blue_green.get("MaximumExecutionTimeoutInSeconds", 3600)
        if kind == "CANARY":
            shares = [size_fraction(routing["CanarySize"], capacity), 1.0]
        elif kind == "LINEAR":
            shares = step_shares(size_fraction(routing["LinearStepSize"], capacity))
        else:
            shares = [1.0]
    alarms = [a["AlarmName"] for a in (policy.get("AutoRollbackConfiguration") or {}).get("Alarms", [])]
    return {
        "config": green["config"], "green": green["id"], "policy": policy, "type": kind, "shares": shares,
        "step": -1, "wait": wait, "termination_wait": termination, "phase": "Provisioning", "alarms": alarms,
        "started_at": now, "deadline": now + timeout, "next_at": None, "blue_counts": {},
    }  # fmt: skip


def advance(endpoint: dict[str, Any], now: float, alarm_in_alarm: Callable[[list[str]], str | None]) -> list[Step]:
    """One tick of the controller for ``endpoint`` (a dict with ``status``, ``fleets``,
    ``deployment``, ``config_name``, ``failure_reason``, ``last_deployment_config``)."""
    deployment = endpoint.get("deployment")
    if endpoint["status"] == "RollingBack":
        if deployment is not None:
            return _rollback_batch(endpoint)
        return _finish_rollback(endpoint)
    if deployment is None:
        return _settle(endpoint)
    blue, green = _blue(endpoint), _green(endpoint)
    phase = deployment["phase"]
    if phase == "Provisioning":
        failure = fleet_failure(green)
        if failure:
            return _roll_back(endpoint, f"the new fleet could not start: {failure}")
        if now > deployment["deadline"]:
            return _roll_back(endpoint, "the deployment exceeded MaximumExecutionTimeoutInSeconds")
        if not fleet_ready(green):
            return []
        deployment["blue_counts"] = {v["name"]: v["count"] for v in blue["variants"]}
        return [Step("Provisioned", f"new fleet for {deployment['config']} is in service"), *_shift(endpoint, now)]
    reason = alarm_in_alarm(deployment["alarms"]) if deployment["alarms"] else None
    if reason:
        return _roll_back(endpoint, reason)
    if now > deployment["deadline"]:
        return _roll_back(endpoint, "the deployment exceeded MaximumExecutionTimeoutInSeconds")
    if now < deployment["next_at"]:
        return []
    if phase == "Baking":
        if deployment["step"] + 1 < len(deployment["shares"]):
            return _shift(endpoint, now)
        deployment["phase"] = "TerminationWait"
        deployment["next_at"] = now + deployment["termination_wait"]
        return [Step("TerminationWait", f"all traffic on the new fleet; the old fleet stays for "
                                        f"{deployment['termination_wait']} s")]  # fmt: skip
    return _complete(endpoint)


def _blue(endpoint: dict[str, Any]) -> Fleet:
    return endpoint["fleets"][0]


def _green(endpoint: dict[str, Any]) -> Fleet:
    green_id = endpoint["deployment"]["green"]
    return next(f for f in endpoint["fleets"] if f["id"] == green_id)


def _shift(endpoint: dict[str, Any], now: float) -> list[Step]:
    deployment = endpoint["deployment"]
    deployment["step"] += 1
    share = deployment["shares"][deployment["step"]]
    blue, green = _blue(endpoint), _green(endpoint)
    green["share"], blue["share"] = share, round(1.0 - share, 6)
    if deployment["type"] == "ROLLING":
        shrink_counts(blue, deployment["blue_counts"], share)
    deployment["phase"] = "Baking"
    deployment["next_at"] = now + deployment["wait"]
    steps = len(deployment["shares"])
    return [Step("TrafficShifted", f"{share:.0%} of traffic on the new fleet (step {deployment['step'] + 1} of {steps});"
                                   f" baking for {deployment['wait']} s",
                 {"GreenShare": share, "BlueShare": blue["share"], "Step": deployment["step"] + 1})]  # fmt: skip


def _roll_back(endpoint: dict[str, Any], reason: str) -> list[Step]:
    deployment = endpoint["deployment"]
    blue, green = _blue(endpoint), _green(endpoint)
    batch = (deployment["policy"].get("RollingUpdatePolicy") or {}).get("RollbackMaximumBatchSize")
    if batch and green["share"] > 0:
        return _start_batched_rollback(endpoint, batch, reason)
    green["share"], blue["share"] = 0.0, 1.0
    endpoint["fleets"] = [blue]
    for variant in blue["variants"]:
        original = deployment["blue_counts"].get(variant["name"])
        if original is not None:
            variant["count"] = variant["desired_count"] = original
    endpoint["status"] = "RollingBack"
    endpoint["failure_reason"] = f"Update to {deployment['config']} was rolled back: {reason}"
    endpoint["deployment"] = None
    return [Step("RollingBack", f"all traffic back on the old fleet ({blue['config']}): {reason}",
                 {"GreenShare": 0.0, "BlueShare": 1.0, "Reason": reason})]  # fmt: skip


def _start_batched_rollback(endpoint: dict[str, Any], batch: dict[str, Any], reason: str) -> list[Step]:
    """A rolling update's rollback in batches of ``RollbackMaximumBatchSize``: each batch
    brings old-fleet capacity back, moves that much traffic to it, and lets the new fleet
    give up as many instances, so the endpoint never serves on less than its capacity."""
    deployment = endpoint["deployment"]
    blue, green = _blue(endpoint), _green(endpoint)
    capacity = sum(deployment["blue_counts"].values()) or fleet_capacity(blue)
    fraction = size_fraction(batch, capacity)
    share, shares = green["share"], []
    while share > 1e-9:
        share = round(max(0.0, share - fraction), 6)
        shares.append(share)
    deployment.update(phase="RollingBack", rollback_shares=shares, rollback_step=-1,
                      green_counts={v["name"]: v["count"] for v in green["variants"]})  # fmt: skip
    endpoint["status"] = "RollingBack"
    endpoint["failure_reason"] = f"Update to {deployment['config']} was rolled back: {reason}"
    return [Step("RollingBack", f"rolling back to the old fleet ({blue['config']}) in {len(shares)} batch(es): {reason}",
                 {"GreenShare": green["share"], "BlueShare": blue["share"], "Reason": reason, "Batches": len(shares)})]  # fmt: skip


def _rollback_batch(endpoint: dict[str, Any]) -> list[Step]:
    """The next batch of a batched rollback, once the old fleet's capacity for it serves;
    after the last one the new fleet is removed."""
    deployment = endpoint["deployment"]
    blue, green = _blue(endpoint), _green(endpoint)
    shares, step = deployment["rollback_shares"], deployment["rollback_step"] + 1
    if step == len(shares):
        endpoint["fleets"] = [blue]
        endpoint["deployment"] = None
        return _finish_rollback(endpoint)
    target = shares[step]
    shrink_counts(blue, deployment["blue_counts"], target)  # its capacity for 1 - target of the traffic
    if not fleet_ready(blue):
        return []
    green["share"], blue["share"] = target, round(1.0 - target, 6)
    if target > 0:
        shrink_counts(green, deployment["green_counts"], round(1.0 - target, 6))
    deployment["rollback_step"] = step
    return [Step("RollbackShifted", f"{blue['share']:.0%} of traffic back on the old fleet "
                                    f"(batch {step + 1} of {len(shares)})",
                 {"GreenShare": target, "BlueShare": blue["share"], "Step": step + 1})]  # fmt: skip


def _finish_rollback(endpoint: dict[str, Any]) -> list[Step]:
    if not fleet_ready(_blue(endpoint)):
        return []
    endpoint["status"] = "InService"
    return [Step("RolledBack", f"endpoint in service on {endpoint['config_name']} again")]


def _complete(endpoint: dict[str, Any]) -> list[Step]:
    deployment = endpoint["deployment"]
    green = _green(endpoint)
    green["share"] = 1.0
    endpoint["fleets"] = [green]
    endpoint["config_name"] = deployment["config"]
    endpoint["last_deployment_config"] = deployment["policy"] or None
    endpoint["deployment"] = None
    endpoint["status"] = "InService"
    endpoint["failure_reason"] = None
    return [Step("Completed", f"endpoint in service on {deployment['config']}; the old fleet is retired",
                 {"GreenShare": 1.0, "BlueShare": 0.0})]  # fmt: skip


def _settle(endpoint: dict[str, Any]) -> list[Step]:
    """Creating, Updating weights and capacities, or SystemUpdating (a new host restarts
    the workers): in service once every instance is."""
    fleet = _blue(endpoint)
    if endpoint["status"] == "SystemUpdating":
        if not fleet_settled(fleet):
            return []
        endpoint["status"] = "InService"
        failure = fleet_failure(fleet)
        return [Step("InService", "instances restored on a new host" + (f"; {failure}" if failure else ""))]
    if endpoint["status"] == "Creating":
        failure = fleet_failure(fleet)
        if failure:
            endpoint["status"] = "Failed"
            endpoint["failure_reason"] = failure
            return [Step("Failed", failure)]
    if endpoint["status"] in ("Creating", "Updating") and fleet_ready(fleet):
        was = endpoint["status"]
        endpoint["status"] = "InService"
        for variant in fleet["variants"] + fleet["shadows"]:
            variant["weight"] = variant["desired_weight"]
        return [Step("InService", "endpoint in service" if was == "Creating" else "capacity and weights updated")]
    return []
