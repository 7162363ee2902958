"""Target-tracking autoscaling of a variant's instances (Application Auto Scaling)."""

from __future__ import annotations


import pytest

from endpoint_helpers import create_model, csv_rows, deploy, variant, wait_for
from groundfog.core.errors import ValidationError
from groundfog.labs.traffic import Traffic

RESOURCE = "endpoint/e/variant/AllTraffic"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"


def _instances(platform) -> int:
    return platform.serving.describe_endpoint(endpoint_name="e")["ProductionVariants"][0]["CurrentInstanceCount"]


def test_target_tracking_adds_workers_under_load_and_removes_them_after(gfp):
    create_model(gfp, "lr")
    deploy(gfp, "e", variant("AllTraffic", "lr"))
    gfp.serving.scaling_interval_seconds = 0.5
    gfp.serving.scaling_window_seconds = 5
    gfp.serving.register_scalable_target(service_namespace="sagemaker", resource_id=RESOURCE,
                                         scalable_dimension=DIMENSION, min_capacity=1, max_capacity=3)
    gfp.serving.put_scaling_policy(
        policy_name="per-instance", service_namespace="sagemaker", resource_id=RESOURCE, scalable_dimension=DIMENSION,
        policy_type="TargetTrackingScaling", target_tracking_scaling_policy_configuration={
            "TargetValue": 2000.0, "ScaleOutCooldown": 0, "ScaleInCooldown": 0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}})
    with Traffic(gfp, "e", csv_rows(1), threads=3):
        assert wait_for(lambda: _instances(gfp) == 3, 30), gfp.serving.describe_endpoint(endpoint_name="e")
        assert len(gfp.serving.host.workers) == 3
    assert wait_for(lambda: _instances(gfp) == 1, 30)
    assert wait_for(lambda: len(gfp.serving.host.workers) == 1, 10)
    activities = gfp.serving.describe_scaling_activities(resource_id=RESOURCE)["ScalingActivities"]
    descriptions = [a["Description"] for a in reversed(activities)]
    assert descriptions[0] in ("Setting desired instance count of AllTraffic to 2.",
                               "Setting desired instance count of AllTraffic to 3.")
    assert descriptions[-1] == "Setting desired instance count of AllTraffic to 1."
    assert all(a["StatusCode"] == "Successful" for a in activities)


def test_scaling_requests_are_checked(gfp):
    create_model(gfp, "lr")
    deploy(gfp, "e", variant("AllTraffic", "lr"))
    with pytest.raises(ValidationError, match="endpoint/<endpoint name>/variant/<variant name>"):
        gfp.serving.register_scalable_target(service_namespace="sagemaker", resource_id="e/AllTraffic",
                                             scalable_dimension=DIMENSION, min_capacity=1, max_capacity=2)
    with pytest.raises(ValidationError, match="has no variant 'Other'"):
        gfp.serving.register_scalable_target(service_namespace="sagemaker", resource_id="endpoint/e/variant/Other",
                                             scalable_dimension=DIMENSION, min_capacity=1, max_capacity=2)
    with pytest.raises(ValidationError, match="must not exceed MaxCapacity"):
        gfp.serving.register_scalable_target(service_namespace="sagemaker", resource_id=RESOURCE,
                                             scalable_dimension=DIMENSION, min_capacity=3, max_capacity=2)
    with pytest.raises(ValidationError, match="register it first"):
        gfp.serving.put_scaling_policy(policy_name="p", service_namespace="sagemaker", resource_id=RESOURCE,
                                       scalable_dimension=DIMENSION, target_tracking_scaling_policy_configuration={
                                           "TargetValue": 10.0, "PredefinedMetricSpecification": {
                                               "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}})
    gfp.serving.register_scalable_target(service_namespace="sagemaker", resource_id=RESOURCE,
                                         scalable_dimension=DIMENSION, min_capacity=1, max_capacity=2)
    with pytest.raises(ValidationError, match="TargetValue must be a number above 0"):
        gfp.serving.put_scaling_policy(policy_name="p", service_namespace="sagemaker", resource_id=RESOURCE,
                                       scalable_dimension=DIMENSION, target_tracking_scaling_policy_configuration={
                                           "TargetValue": -1, "PredefinedMetricSpecification": {
                                               "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}})
    assert gfp.serving.describe_scaling_policies(resource_id=RESOURCE)["ScalingPolicies"] == []
