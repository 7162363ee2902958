"""Checks of the serving requests: production variants, data capture, deployment configs.

Each parser takes the request as SageMaker's API shapes it (PascalCase) and returns it
normalised (defaults filled in), or raises a ``ValidationError`` naming the field.

>>> parse_traffic_routing({"Type": "CANARY", "WaitIntervalInSeconds": 5,
...     "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10}}, "TrafficRoutingConfiguration")["CanarySize"]
{'Type': 'CAPACITY_PERCENT', 'Value': 10}
"""

from __future__ import annotations

import math
from typing import Any

from groundfog.core.errors import ValidationError
from groundfog.core.names import validate_name
from groundfog.registry.validation import fail, parse_flag, parse_object, parse_s3, parse_string_list, shown

MAX_VARIANTS = 10
MAX_INSTANCES_PER_VARIANT = 10  # one worker process each: a bound for one machine
CAPTURE_MODES = ("Input", "Output")
ROUTING_TYPES = ("ALL_AT_ONCE", "CANARY", "LINEAR")
SIZE_TYPES = ("INSTANCE_COUNT", "CAPACITY_PERCENT")
_VARIANT_KEYS = ("VariantName", "ModelName", "InitialInstanceCount", "InstanceType", "InitialVariantWeight",
                 "AcceleratorType", "ContainerStartupHealthCheckTimeoutInSeconds", "ModelDataDownloadTimeoutInSeconds",
                 "VolumeSizeInGB", "EnableSSMAccess", "ManagedInstanceScaling", "RoutingConfig")  # fmt: skip


def whole(value: object, field: str, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise fail(field, f"must be a whole number from {minimum} to {maximum}, got {shown(value)}")
    return value


def finite(value: int | float) -> bool:
    """Whether a JSON number is a finite float: an integer beyond any float (10**400) is not."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def weight(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not finite(value) or value < 0:
        raise fail(field, f"must be a number of at least 0, got {shown(value)}")
    return float(value)


def parse_variants(value: object, field: str, *, minimum: int = 1, maximum: int = MAX_VARIANTS) -> list[dict[str, Any]]:
    """ProductionVariants (or ShadowProductionVariants): names unique, counts and
    weights in range. Whether each model exists is checked by the caller."""
    if value is None and minimum == 0:
        return []
    if not isinstance(value, list) or not minimum <= len(value) <= maximum:
        raise fail(field, f"must be a list of {minimum} to {maximum} variants, got {shown(value)}")
    out, seen = [], set()
    for i, item in enumerate(value):
        where = f"{field}[{i}]"
        parse_object(item, where, _VARIANT_KEYS)
        for key in ("VariantName", "ModelName"):
            if key not in item:
                raise fail(f"{where}.{key}", "is required")
        name = validate_name(item["VariantName"], f"{where}.VariantName")
        if name in seen:
            raise fail(f"{where}.VariantName", f"{name!r} is given twice; variant names must be unique")
        seen.add(name)
        variant = {
            "VariantName": name,
            "ModelName": validate_name(item["ModelName"], f"{where}.ModelName"),
            "InitialInstanceCount": whole(item.get("InitialInstanceCount", 1), f"{where}.InitialInstanceCount",
                                          minimum=1, maximum=MAX_INSTANCES_PER_VARIANT),
            "InstanceType": item.get("InstanceType", "ml.m5.large"),
            "InitialVariantWeight": weight(item.get("InitialVariantWeight", 1.0), f"{where}.InitialVariantWeight"),
        }  # fmt: skip
        _check_instance_type(variant["InstanceType"], f"{where}.InstanceType")
        out.append(variant)
    return out


def _check_instance_type(value: object, field: str) -> None:
    from groundfog.training.catalog import instance_type

    instance_type(value, field)  # type: ignore[arg-type]


def parse_data_capture(value: object, field: str = "DataCaptureConfig") -> dict[str, Any] | None:
    """DataCaptureConfig, with SageMaker's defaults: capture on, CSV and JSON content types."""
    if value is None:
        return None
    parse_object(value, field, ("EnableCapture", "InitialSamplingPercentage", "DestinationS3Uri", "KmsKeyId",
                                "CaptureOptions", "CaptureContentTypeHeader"))  # fmt: skip
    assert isinstance(value, dict)
    for key in ("InitialSamplingPercentage", "DestinationS3Uri", "CaptureOptions"):
        if key not in value:
            raise fail(f"{field}.{key}", "is required")
    options = value["CaptureOptions"]
    if not isinstance(options, list) or not 1 <= len(options) <= 2:
        raise fail(f"{field}.CaptureOptions", f"must be a list of 1 or 2 {{CaptureMode}} objects, got {shown(options)}")
    modes = []
    for i, option in enumerate(options):
        where = f"{field}.CaptureOptions[{i}]"
        parse_object(option, where, ("CaptureMode",))
        mode = option.get("CaptureMode")
        if mode not in CAPTURE_MODES:
            raise fail(f"{where}.CaptureMode", f"must be Input or Output, got {shown(mode)}")
        if mode in modes:
            raise fail(f"{where}.CaptureMode", f"{mode} is given twice")
        modes.append(mode)
    header = value.get("CaptureContentTypeHeader") or {}
    parse_object(header, f"{field}.CaptureContentTypeHeader", ("CsvContentTypes", "JsonContentTypes"))
    types = {
        key: parse_string_list(header[key], f"{field}.CaptureContentTypeHeader.{key}", max_items=10, item_max=256)
        for key in ("CsvContentTypes", "JsonContentTypes") if key in header
    }  # fmt: skip
    return {
        "EnableCapture": parse_flag(value.get("EnableCapture", True), f"{field}.EnableCapture"),
        "InitialSamplingPercentage": whole(value["InitialSamplingPercentage"], f"{field}.InitialSamplingPercentage",
                                           minimum=0, maximum=100),
        "DestinationS3Uri": parse_s3(value["DestinationS3Uri"], f"{field}.DestinationS3Uri"),
        "CaptureOptions": [{"CaptureMode": m} for m in modes],
        "CaptureContentTypeHeader": {
            "CsvContentTypes": types.get("CsvContentTypes", ["text/csv"]),
            "JsonContentTypes": types.get("JsonContentTypes", ["application/json"]),
        },
    }  # fmt: skip


def parse_size(value: object, field: str) -> dict[str, Any]:
    """A CanarySize, LinearStepSize or MaximumBatchSize: {Type, Value}."""
    parse_object(value, field, ("Type", "Value"))
    assert isinstance(value, dict)
    if value.get("Type") not in SIZE_TYPES:
        raise fail(f"{field}.Type", f"must be INSTANCE_COUNT or CAPACITY_PERCENT, got {shown(value.get('Type'))}")
    top = 100 if value["Type"] == "CAPACITY_PERCENT" else 1000
    return {"Type": value["Type"], "Value": whole(value.get("Value"), f"{field}.Value", minimum=1, maximum=top)}


def parse_traffic_routing(value: object, field: str) -> dict[str, Any]:
    parse_object(value, field, ("Type", "WaitIntervalInSeconds", "CanarySize", "LinearStepSize"))
    assert isinstance(value, dict)
    kind = value.get("Type")
    if kind not in ROUTING_TYPES:
        raise fail(f"{field}.Type", f"must be one of {', '.join(ROUTING_TYPES)}, got {shown(kind)}")
    out: dict[str, Any] = {"Type": kind, "WaitIntervalInSeconds": whole(
        value.get("WaitIntervalInSeconds", 0), f"{field}.WaitIntervalInSeconds", minimum=0, maximum=3600)}
    needs = {"CANARY": "CanarySize", "LINEAR": "LinearStepSize"}.get(kind)
    for key in ("CanarySize", "LinearStepSize"):
        if key in value and key != needs:
            raise fail(f"{field}.{key}", f"is not used by {kind} routing")
    if needs:
        if needs not in value:
            raise fail(f"{field}.{needs}", f"is required for {kind} routing")
        out[needs] = parse_size(value[needs], f"{field}.{needs}")
    return out


def parse_deployment_config(value: object, field: str = "DeploymentConfig") -> dict[str, Any] | None:
    """DeploymentConfig: one of BlueGreenUpdatePolicy or RollingUpdatePolicy, and
    AutoRollbackConfiguration's alarms (whose existence the caller checks)."""
    if value is None:
        return None
    parse_object(value, field, ("BlueGreenUpdatePolicy", "RollingUpdatePolicy", "AutoRollbackConfiguration"))
    assert isinstance(value, dict)
    if "BlueGreenUpdatePolicy" in value and "RollingUpdatePolicy" in value:
        raise fail(field, "may name BlueGreenUpdatePolicy or RollingUpdatePolicy, not both")
    out: dict[str, Any] = {}
    if "BlueGreenUpdatePolicy" in value:
        where = f"{field}.BlueGreenUpdatePolicy"
        policy = value["BlueGreenUpdatePolicy"]
        parse_object(policy, where, ("TrafficRoutingConfiguration", "TerminationWaitInSeconds",
                                     "MaximumExecutionTimeoutInSeconds"))  # fmt: skip
        if "TrafficRoutingConfiguration" not in policy:
            raise fail(f"{where}.TrafficRoutingConfiguration", "is required")
        out["BlueGreenUpdatePolicy"] = {
            "TrafficRoutingConfiguration": parse_traffic_routing(policy["TrafficRoutingConfiguration"],
                                                                 f"{where}.TrafficRoutingConfiguration"),
            "TerminationWaitInSeconds": whole(policy.get("TerminationWaitInSeconds", 0),
                                              f"{where}.TerminationWaitInSeconds", minimum=0, maximum=3600),
            "MaximumExecutionTimeoutInSeconds": whole(policy.get("MaximumExecutionTimeoutInSeconds", 3600),
                                                      f"{where}.MaximumExecutionTimeoutInSeconds", minimum=1,
                                                      maximum=28800),
        }  # fmt: skip
    if "RollingUpdatePolicy" in value:
        where = f"{field}.RollingUpdatePolicy"
        policy = value["RollingUpdatePolicy"]
        parse_object(policy, where, ("MaximumBatchSize", "WaitIntervalInSeconds", "MaximumExecutionTimeoutInSeconds",
                                     "RollbackMaximumBatchSize"))  # fmt: skip
        for key in ("MaximumBatchSize", "WaitIntervalInSeconds"):
            if key not in policy:
                raise fail(f"{where}.{key}", "is required")
        rolling = {
            "MaximumBatchSize": parse_size(policy["MaximumBatchSize"], f"{where}.MaximumBatchSize"),
            "WaitIntervalInSeconds": whole(policy["WaitIntervalInSeconds"], f"{where}.WaitIntervalInSeconds",
                                           minimum=0, maximum=3600),
            "MaximumExecutionTimeoutInSeconds": whole(policy.get("MaximumExecutionTimeoutInSeconds", 3600),
                                                      f"{where}.MaximumExecutionTimeoutInSeconds", minimum=1,
                                                      maximum=28800),
        }  # fmt: skip
        if "RollbackMaximumBatchSize" in policy:
            rolling["RollbackMaximumBatchSize"] = parse_size(policy["RollbackMaximumBatchSize"],
                                                             f"{where}.RollbackMaximumBatchSize")
        out["RollingUpdatePolicy"] = rolling
    if "AutoRollbackConfiguration" in value:
        where = f"{field}.AutoRollbackConfiguration"
        rollback = value["AutoRollbackConfiguration"]
        parse_object(rollback, where, ("Alarms",))
        alarms = rollback.get("Alarms", [])
        if not isinstance(alarms, list) or len(alarms) > 10:
            raise fail(f"{where}.Alarms", f"must be a list of at most 10 {{AlarmName}} objects, got {shown(alarms)}")
        names = []
        for i, alarm in enumerate(alarms):
            parse_object(alarm, f"{where}.Alarms[{i}]", ("AlarmName",))
            name = alarm.get("AlarmName")
            if not isinstance(name, str) or not 1 <= len(name) <= 255:
                raise fail(f"{where}.Alarms[{i}].AlarmName", f"must be an alarm's name, got {shown(name)}")
            names.append({"AlarmName": name})
        out["AutoRollbackConfiguration"] = {"Alarms": names}
    return out


def parse_desired(value: object, known: set[str], field: str = "DesiredWeightsAndCapacities") -> list[dict[str, Any]]:
    """UpdateEndpointWeightsAndCapacities' list: each names a variant of the endpoint and
    a new weight and/or instance count."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_VARIANTS:
        raise fail(field, f"must be a list of 1 to {MAX_VARIANTS} entries, got {shown(value)}")
    out = []
    for i, item in enumerate(value):
        where = f"{field}[{i}]"
        parse_object(item, where, ("VariantName", "DesiredWeight", "DesiredInstanceCount"))
        name = item.get("VariantName")
        if not isinstance(name, str) or name not in known:
            raise ValidationError(f"{where}.VariantName {shown(name)} is not a variant of the endpoint; "
                                  f"it has {', '.join(sorted(known))}", field=f"{where}.VariantName")  # fmt: skip
        entry: dict[str, Any] = {"VariantName": name}
        if "DesiredWeight" in item:
            entry["DesiredWeight"] = weight(item["DesiredWeight"], f"{where}.DesiredWeight")
        if "DesiredInstanceCount" in item:
            entry["DesiredInstanceCount"] = whole(item["DesiredInstanceCount"], f"{where}.DesiredInstanceCount",
                                                  minimum=0, maximum=MAX_INSTANCES_PER_VARIANT)
        if len(entry) == 1:
            raise fail(where, "must give DesiredWeight or DesiredInstanceCount")
        out.append(entry)
    return out
