"""The ``groundfog endpoint-configs`` / ``endpoints`` options that spell a request in a
few words: ``NAME=MODEL[:COUNT[:WEIGHT]]`` variants, ``NAME=WEIGHT[:COUNT]`` capacity
changes, and a DeploymentConfig from ``--canary`` / ``--linear`` / ``--all-at-once``."""

from __future__ import annotations

from typing import Any

from groundfog.cli.common import parse_json_option
from groundfog.core.errors import ValidationError



def _number(text: str, kind: type, what: str, option: str, spec: str) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise ValidationError(f"{option} {spec!r}: {what} must be a number, got {text!r}", field=option) from None


def parse_variant(spec: str, option: str, *, instance_type: str, count: int, weight: float) -> dict[str, Any]:
    """``NAME=MODEL[:COUNT[:WEIGHT]]`` as a ProductionVariant.

    >>> parse_variant("A=churn-v1:2:0.9", "--variant", instance_type="ml.m5.large", count=1, weight=1.0)
    {'VariantName': 'A', 'ModelName': 'churn-v1', 'InstanceType': 'ml.m5.large', 'InitialInstanceCount': 2, 'InitialVariantWeight': 0.9}
    """
    name, sep, rest = spec.partition("=")
    model, *numbers = rest.split(":")
    if not sep or not name or not model or len(numbers) > 2:
        raise ValidationError(f"{option} expects NAME=MODEL[:COUNT[:WEIGHT]], got {spec!r}", field=option)
    if numbers:
        count = _number(numbers[0], int, "COUNT", option, spec)
    if len(numbers) == 2:
        weight = _number(numbers[1], float, "WEIGHT", option, spec)
    return {"VariantName": name, "ModelName": model, "InstanceType": instance_type, "InitialInstanceCount": count,
            "InitialVariantWeight": weight}  # fmt: skip


def parse_desired(spec: str) -> dict[str, Any]:
    """``NAME=WEIGHT[:COUNT]`` (or ``NAME=:COUNT``) as a DesiredWeightsAndCapacities entry.

    >>> parse_desired("A=0.2:3")
    {'VariantName': 'A', 'DesiredWeight': 0.2, 'DesiredInstanceCount': 3}
    """
    name, sep, rest = spec.partition("=")
    weight, _, count = rest.partition(":")
    if not sep or not name or not (weight or count):
        raise ValidationError(f"--variant expects NAME=WEIGHT[:COUNT], got {spec!r}", field="--variant")
    entry: dict[str, Any] = {"VariantName": name}
    if weight:
        entry["DesiredWeight"] = _number(weight, float, "WEIGHT", "--variant", spec)
    if count:
        entry["DesiredInstanceCount"] = _number(count, int, "COUNT", "--variant", spec)
    return entry


def json_document(value: str, option: str) -> Any:
    """Inline JSON, or the path of a JSON file (``file://`` optional)."""
    if value.lstrip().startswith("{"):
        return parse_json_option(value, option)
    return parse_json_option("file://" + value.removeprefix("file://"), option)


def build_deployment_config(document: str | None, canary: int | None, linear: int | None, all_at_once: bool,
                      wait_interval: int | None, termination_wait: int | None,
                      alarms: list[str] | None) -> dict[str, Any] | None:  # fmt: skip
    """UpdateEndpoint's DeploymentConfig from the ``update`` options.

    >>> build_deployment_config(None, 10, None, False, 60, None, ["errors"])  # doctest: +NORMALIZE_WHITESPACE
    {'BlueGreenUpdatePolicy': {'TrafficRoutingConfiguration': {'Type': 'CANARY',
        'CanarySize': {'Type': 'CAPACITY_PERCENT', 'Value': 10}, 'WaitIntervalInSeconds': 60}},
     'AutoRollbackConfiguration': {'Alarms': [{'AlarmName': 'errors'}]}}
    """
    chosen = [o for o, given in (("--deployment-config", document is not None), ("--canary", canary is not None),
                                 ("--linear", linear is not None), ("--all-at-once", all_at_once)) if given]  # fmt: skip
    if len(chosen) > 1:
        raise ValidationError(f"give one of {', '.join(chosen)}", field=chosen[0])
    if document is not None:
        config = json_document(document, "--deployment-config")
        if alarms:
            config = {**config, "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": a} for a in alarms]}}
        return config
    if not chosen and (wait_interval is not None or termination_wait is not None):
        raise ValidationError("--wait-interval and --termination-wait go with --canary, --linear or --all-at-once",
                              field="--wait-interval")  # fmt: skip
    config: dict[str, Any] = {}
    if chosen:
        routing: dict[str, Any] = {"Type": "CANARY" if canary is not None else "LINEAR" if linear is not None
                                   else "ALL_AT_ONCE"}  # fmt: skip
        if canary is not None:
            routing["CanarySize"] = {"Type": "CAPACITY_PERCENT", "Value": canary}
        if linear is not None:
            routing["LinearStepSize"] = {"Type": "CAPACITY_PERCENT", "Value": linear}
        if wait_interval is not None:
            routing["WaitIntervalInSeconds"] = wait_interval
        policy: dict[str, Any] = {"TrafficRoutingConfiguration": routing}
        if termination_wait is not None:
            policy["TerminationWaitInSeconds"] = termination_wait
        config["BlueGreenUpdatePolicy"] = policy
    if alarms:
        config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": a} for a in alarms]}
    return config or None
