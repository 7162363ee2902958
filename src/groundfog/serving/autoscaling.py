"""Application Auto Scaling for endpoint variants: scalable targets, target-tracking
policies, and the scaler that adds and removes instances (worker processes).

>>> serving.register_scalable_target(service_namespace="sagemaker",           # doctest: +SKIP
...     resource_id="endpoint/churn/variant/AllTraffic",
...     scalable_dimension="sagemaker:variant:DesiredInstanceCount", min_capacity=1, max_capacity=4)
>>> serving.put_scaling_policy(policy_name="ipi", service_namespace="sagemaker",  # doctest: +SKIP
...     resource_id="endpoint/churn/variant/AllTraffic",
...     scalable_dimension="sagemaker:variant:DesiredInstanceCount", policy_type="TargetTrackingScaling",
...     target_tracking_scaling_policy_configuration={"TargetValue": 600.0,
...         "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}})

Target tracking, as AWS describes it: the metric's value over the last
``scaling_window_seconds`` is compared with the target, and the variant gets
``ceil(instances x value / target)`` instances, within [MinCapacity, MaxCapacity].
``SageMakerVariantInvocationsPerInstance`` is invocations per instance per minute.
Scale-out and scale-in each wait out their cooldown after the last move of the same
kind; ``DisableScaleIn`` keeps instances once added. The scaler runs in the hosting
process every ``scaling_interval_seconds`` of the platform clock.
"""

from __future__ import annotations

import math
import re
import uuid
from typing import Any

import sqlalchemy as sa

from groundfog.core.errors import ResourceNotFound, ValidationError
from groundfog.core.names import arn
from groundfog.core.service import operation
from groundfog.core.times import utc_datetime
from groundfog.metrics.validation import parse_dimensions, parse_metric_name, parse_namespace, parse_unit
from groundfog.registry.validation import fail, parse_object, shown
from groundfog.serving.base import ServingBase
from groundfog.serving.records import append_history, load, save
from groundfog.serving.requests import MAX_INSTANCES_PER_VARIANT, finite, whole
from groundfog.serving.tables import scalable_targets, scaling_activities, scaling_policies

NAMESPACE = "sagemaker"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
PREDEFINED = "SageMakerVariantInvocationsPerInstance"
TARGET_VALUE_MIN, TARGET_VALUE_MAX = 8.515920e-109, 1.174271e108
_RESOURCE = re.compile(r"^endpoint/([a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62})/variant/([a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62})$")


def _resource(resource_id: object, service_namespace: object, scalable_dimension: object) -> tuple[str, str]:
    if service_namespace != NAMESPACE:
        raise fail("ServiceNamespace", f"must be {NAMESPACE!r} (endpoint variants), got {shown(service_namespace)}")
    if scalable_dimension != DIMENSION:
        raise fail("ScalableDimension", f"must be {DIMENSION!r}, got {shown(scalable_dimension)}")
    match = _RESOURCE.match(resource_id) if isinstance(resource_id, str) else None
    if match is None:
        raise fail("ResourceId", f"must be endpoint/<endpoint name>/variant/<variant name>, got {shown(resource_id)}")
    return match.group(1), match.group(2)


class AutoscalingOperations(ServingBase):
    scaling_interval_seconds = 10.0
    scaling_window_seconds = 60

    @operation
    def register_scalable_target(
        self,
        service_namespace: str,
        resource_id: str,
        scalable_dimension: str,
        min_capacity: int | None = None,
        max_capacity: int | None = None,
    ) -> dict[str, str]:
        """Make a variant's instance count scalable within [MinCapacity, MaxCapacity]."""
        endpoint, variant = _resource(resource_id, service_namespace, scalable_dimension)
        with self.state.read() as conn:
            doc = load(conn, endpoint)
            existing = conn.execute(sa.select(scalable_targets).where(scalable_targets.c.resource_id == resource_id)).first()
        if variant not in {v["name"] for v in doc["fleets"][0]["variants"]}:
            raise ValidationError(f"ResourceId: endpoint {endpoint} has no variant {variant!r}", field="ResourceId")
        low = whole(min_capacity if min_capacity is not None else (existing.min_capacity if existing else 1),
                    "MinCapacity", minimum=1, maximum=MAX_INSTANCES_PER_VARIANT)  # fmt: skip
        high = whole(max_capacity if max_capacity is not None else (existing.max_capacity if existing else low),
                     "MaxCapacity", minimum=1, maximum=MAX_INSTANCES_PER_VARIANT)  # fmt: skip
        if low > high:
            raise fail("MinCapacity", f"({low}) must not exceed MaxCapacity ({high})")
        with self.state.write() as conn:
            if existing:
                conn.execute(scalable_targets.update().where(scalable_targets.c.resource_id == resource_id)
                             .values(min_capacity=low, max_capacity=high))  # fmt: skip
            else:
                conn.execute(scalable_targets.insert().values(resource_id=resource_id, dimension=DIMENSION,
                             min_capacity=low, max_capacity=high, created_at=self.clock.time()))  # fmt: skip
        return {"ScalableTargetARN": arn("application-autoscaling", "scalable-target", resource_id)}

    @operation
    def describe_scalable_targets(self, service_namespace: str = NAMESPACE, resource_ids: list[str] | None = None) -> dict[str, Any]:
        """Scalable targets (DescribeScalableTargets)."""
        if service_namespace != NAMESPACE:
            raise fail("ServiceNamespace", f"must be {NAMESPACE!r}, got {shown(service_namespace)}")
        query = sa.select(scalable_targets).order_by(scalable_targets.c.resource_id)
        if resource_ids:
            query = query.where(scalable_targets.c.resource_id.in_(resource_ids))
        with self.state.read() as conn:
            rows = conn.execute(query).all()
        return {"ScalableTargets": [
            {"ServiceNamespace": NAMESPACE, "ResourceId": r.resource_id, "ScalableDimension": r.dimension,
             "MinCapacity": r.min_capacity, "MaxCapacity": r.max_capacity, "CreationTime": utc_datetime(r.created_at)}
            for r in rows
        ]}  # fmt: skip

    @operation
    def deregister_scalable_target(self, service_namespace: str, resource_id: str, scalable_dimension: str) -> None:
        """Stop scaling a variant; its policies go too."""
        _resource(resource_id, service_namespace, scalable_dimension)
        with self.state.write() as conn:
            gone = conn.execute(scalable_targets.delete().where(scalable_targets.c.resource_id == resource_id)).rowcount
            conn.execute(scaling_policies.delete().where(scaling_policies.c.resource_id == resource_id))
        if not gone:
            raise ResourceNotFound(f"no scalable target {resource_id!r}", field="ResourceId")

    @operation
    def put_scaling_policy(
        self,
        policy_name: str,
        service_namespace: str,
        resource_id: str,
        scalable_dimension: str,
        policy_type: str = "TargetTrackingScaling",
        target_tracking_scaling_policy_configuration: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create or replace a target-tracking policy on a registered variant."""
        _resource(resource_id, service_namespace, scalable_dimension)
        if not isinstance(policy_name, str) or not 1 <= len(policy_name) <= 256:
            raise fail("PolicyName", f"must be 1-256 characters, got {shown(policy_name)}")
        if policy_type != "TargetTrackingScaling":
            raise fail("PolicyType", f"must be TargetTrackingScaling (step scaling is not offered), got {shown(policy_type)}")
        spec = _parse_target_tracking(target_tracking_scaling_policy_configuration)
        with self.state.read() as conn:
            if conn.execute(sa.select(scalable_targets.c.resource_id)
                            .where(scalable_targets.c.resource_id == resource_id)).first() is None:  # fmt: skip
                raise ValidationError(f"no scalable target {resource_id!r}: register it first (RegisterScalableTarget)",
                                      field="ResourceId")  # fmt: skip
        policy_arn = arn("application-autoscaling", "scaling-policy", f"{resource_id}/{policy_name}")
        with self.state.write() as conn:
            key = (scaling_policies.c.resource_id == resource_id) & (scaling_policies.c.name == policy_name)
            conn.execute(scaling_policies.delete().where(key))
            conn.execute(scaling_policies.insert().values(resource_id=resource_id, name=policy_name, arn=policy_arn,
                                                          spec=spec, created_at=self.clock.time()))  # fmt: skip
        return {"PolicyARN": policy_arn, "Alarms": []}

    @operation
    def describe_scaling_policies(self, service_namespace: str = NAMESPACE, resource_id: str | None = None) -> dict[str, Any]:
        """Scaling policies (DescribeScalingPolicies)."""
        query = sa.select(scaling_policies).order_by(scaling_policies.c.resource_id, scaling_policies.c.name)
        if resource_id:
            query = query.where(scaling_policies.c.resource_id == resource_id)
        with self.state.read() as conn:
            rows = conn.execute(query).all()
        return {"ScalingPolicies": [
            {"PolicyARN": r.arn, "PolicyName": r.name, "ServiceNamespace": NAMESPACE, "ResourceId": r.resource_id,
             "ScalableDimension": DIMENSION, "PolicyType": "TargetTrackingScaling",
             "TargetTrackingScalingPolicyConfiguration": r.spec, "CreationTime": utc_datetime(r.created_at)}
            for r in rows
        ]}  # fmt: skip

    @operation
    def delete_scaling_policy(self, policy_name: str, service_namespace: str, resource_id: str, scalable_dimension: str) -> None:
        """Delete a scaling policy."""
        _resource(resource_id, service_namespace, scalable_dimension)
        with self.state.write() as conn:
            gone = conn.execute(scaling_policies.delete().where(
                (scaling_policies.c.resource_id == resource_id) & (scaling_policies.c.name == policy_name))).rowcount
        if not gone:
            raise ResourceNotFound(f"no scaling policy {policy_name!r} on {resource_id}", field="PolicyName")

    @operation
    def describe_scaling_activities(self, service_namespace: str = NAMESPACE, resource_id: str | None = None,
                                    max_results: int = 50) -> dict[str, Any]:  # fmt: skip
        """What the scaler did, newest first (DescribeScalingActivities)."""
        limit = whole(max_results, "MaxResults", minimum=1, maximum=50)
        query = sa.select(scaling_activities).order_by(scaling_activities.c.id.desc()).limit(limit)
        if resource_id:
            query = query.where(scaling_activities.c.resource_id == resource_id)
        with self.state.read() as conn:
            rows = conn.execute(query).all()
        return {"ScalingActivities": [
            {"ActivityId": r.activity_id, "ServiceNamespace": NAMESPACE, "ResourceId": r.resource_id,
             "ScalableDimension": DIMENSION, "Description": r.description, "Cause": r.cause,
             "StartTime": utc_datetime(r.at), "EndTime": utc_datetime(r.at), "StatusCode": r.status}
            for r in rows
        ]}  # fmt: skip

    # -- the scaler (run by the hosting loop) ------------------------------------------------

    def scale(self, owned: set[str]) -> None:
        """One pass of target tracking over the variants of the endpoints this process hosts."""
        with self.state.read() as conn:
            policies = conn.execute(sa.select(scaling_policies, scalable_targets.c.min_capacity,
                                              scalable_targets.c.max_capacity)
                                    .join(scalable_targets, scalable_targets.c.resource_id == scaling_policies.c.resource_id)
                                    ).all()  # fmt: skip
        for policy in policies:
            endpoint, variant = _RESOURCE.match(policy.resource_id).groups()  # type: ignore[union-attr]
            if endpoint in owned:
                self._track(policy, endpoint, variant)

    def _track(self, policy: Any, endpoint: str, variant_name: str) -> None:
        now = self.clock.time()
        with self.state.read() as conn:
            doc = load(conn, endpoint)
        if doc["status"] != "InService" or len(doc["fleets"]) != 1:
            return  # a deployment owns the fleet until it ends
        variant = next((v for v in doc["fleets"][0]["variants"] if v["name"] == variant_name), None)
        if variant is None:
            return
        current = variant["count"]
        value = self._metric_value(policy.spec, endpoint, variant_name, current, now)
        if value is None:
            return
        spec = policy.spec
        desired = max(policy.min_capacity, min(policy.max_capacity, math.ceil(current * value / spec["TargetValue"] - 1e-9)))
        if desired > current:
            if policy.last_scale_out_at is not None and now - policy.last_scale_out_at < spec["ScaleOutCooldown"]:
                return
            column = "last_scale_out_at"
        elif desired < current and not spec["DisableScaleIn"]:
            if policy.last_scale_in_at is not None and now - policy.last_scale_in_at < spec["ScaleInCooldown"]:
                return
            column = "last_scale_in_at"
        else:
            return
        variant["count"] = variant["desired_count"] = desired
        doc["status"] = "Updating"
        cause = (f"the metric was {value:.1f} against a target of {spec['TargetValue']:g} with {current} instance(s); "
                 f"policy {policy.name}")  # fmt: skip
        message = f"Setting desired instance count of {variant_name} to {desired}."
        with self.state.write() as conn:
            if not save(conn, doc, now):
                return
            append_history(conn, endpoint, now, "Autoscaling", f"{message} ({cause})",
                           {"Variant": variant_name, "From": current, "To": desired})  # fmt: skip
            conn.execute(scaling_policies.update().where((scaling_policies.c.resource_id == policy.resource_id)
                                                         & (scaling_policies.c.name == policy.name))
                         .values(**{column: now}))  # fmt: skip
            conn.execute(scaling_activities.insert().values(resource_id=policy.resource_id, activity_id=str(uuid.uuid4()),
                         at=now, description=message, cause=cause, status="Successful"))  # fmt: skip
        self.announce(doc, "InService", [("Autoscaling", message, {"Variant": variant_name, "From": current, "To": desired})])

    def _metric_value(self, spec: dict[str, Any], endpoint: str, variant: str, instances: int, now: float) -> float | None:
        window = int(self.scaling_window_seconds)
        dims = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
        custom = spec.get("CustomizedMetricSpecification")
        if custom is None:
            stats = self.metrics.get_metric_statistics("AWS/SageMaker", "Invocations", dims, start_time=now - window,
                                                       end_time=now, period=window, statistics=["Sum"])  # fmt: skip
            total = sum(p.sum or 0.0 for p in stats.datapoints)
            return total * (60.0 / window) / max(instances, 1)
        statistic = custom.get("Statistic", "Average")
        stats = self.metrics.get_metric_statistics(custom["Namespace"], custom["MetricName"], custom.get("Dimensions"),
                                                   start_time=now - window, end_time=now, period=window,
                                                   statistics=[statistic])  # fmt: skip
        values = [getattr(p, {"SampleCount": "sample_count"}.get(statistic, statistic.lower())) for p in stats.datapoints]
        values = [v for v in values if v is not None]
        return values[-1] if values else None


def _parse_target_tracking(value: object, field: str = "TargetTrackingScalingPolicyConfiguration") -> dict[str, Any]:
    parse_object(value, field, ("TargetValue", "PredefinedMetricSpecification", "CustomizedMetricSpecification",
                                "ScaleOutCooldown", "ScaleInCooldown", "DisableScaleIn"))  # fmt: skip
    assert isinstance(value, dict)
    target = value.get("TargetValue")
    # Application Auto Scaling's range: the scaler divides by it, so no smaller value may
    # turn a metric into an infinite instance count.
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not finite(target) \
            or not TARGET_VALUE_MIN <= target <= TARGET_VALUE_MAX:
        raise fail(f"{field}.TargetValue", f"must be a number above 0, from {TARGET_VALUE_MIN:g} to {TARGET_VALUE_MAX:g}, "
                                           f"got {shown(target)}")
    predefined, custom = value.get("PredefinedMetricSpecification"), value.get("CustomizedMetricSpecification")
    if (predefined is None) == (custom is None):
        raise fail(field, "give exactly one of PredefinedMetricSpecification or CustomizedMetricSpecification")
    out: dict[str, Any] = {
        "TargetValue": float(target),
        "ScaleOutCooldown": whole(value.get("ScaleOutCooldown", 300), f"{field}.ScaleOutCooldown", minimum=0, maximum=86400),
        "ScaleInCooldown": whole(value.get("ScaleInCooldown", 300), f"{field}.ScaleInCooldown", minimum=0, maximum=86400),
        "DisableScaleIn": bool(value.get("DisableScaleIn", False)),
    }  # fmt: skip
    if predefined is not None:
        parse_object(predefined, f"{field}.PredefinedMetricSpecification", ("PredefinedMetricType", "ResourceLabel"))
        if predefined.get("PredefinedMetricType") != PREDEFINED:
            raise fail(f"{field}.PredefinedMetricSpecification.PredefinedMetricType",
                       f"must be {PREDEFINED}, got {shown(predefined.get('PredefinedMetricType'))}")  # fmt: skip
        out["PredefinedMetricSpecification"] = {"PredefinedMetricType": PREDEFINED}
    else:
        where = f"{field}.CustomizedMetricSpecification"
        parse_object(custom, where, ("MetricName", "Namespace", "Dimensions", "Statistic", "Unit"))
        for key in ("MetricName", "Namespace"):
            if not isinstance(custom.get(key), str) or not custom.get(key):
                raise fail(f"{where}.{key}", "is required")
        # The scaler reads the metric with these on every pass: checked here, as
        # GetMetricStatistics checks them, so a stored policy cannot fail it there.
        parse_namespace(custom["Namespace"], f"{where}.Namespace", allow_reserved=True)
        parse_metric_name(custom["MetricName"], f"{where}.MetricName")
        parse_dimensions(custom.get("Dimensions"), f"{where}.Dimensions")
        if "Unit" in custom:
            parse_unit(custom["Unit"], f"{where}.Unit")
        statistic = custom.get("Statistic", "Average")
        if statistic not in ("Average", "Minimum", "Maximum", "SampleCount", "Sum"):
            raise fail(f"{where}.Statistic", f"must be Average, Minimum, Maximum, SampleCount or Sum, got {shown(statistic)}")
        out["CustomizedMetricSpecification"] = {**custom, "Statistic": statistic}
    return out
