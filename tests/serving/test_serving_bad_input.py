"""What fuzzing the serving service over HTTP (tests/api/test_api_fuzz.py) turned up.

Requests it answered with a 500, or that were stored and then broke its autoscaler on
every pass: each is now a ``ValidationError`` naming the field, and nothing is stored.
And a race the fuzzer's harness ran into: an endpoint deleted and at once created again
could vanish under its hosting loop."""

from __future__ import annotations


import pytest

from endpoint_helpers import create_model, csv_rows, deploy, variant, wait_for
from groundfog.core.errors import ValidationError

RESOURCE = "endpoint/e/variant/AllTraffic"
SCALING = {"service_namespace": "sagemaker", "scalable_dimension": "sagemaker:variant:DesiredInstanceCount"}
POLICY = "TargetTrackingScalingPolicyConfiguration"
PREDEFINED = {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}


def _deployed(platform) -> None:
    create_model(platform, "lr")
    deploy(platform, "e", variant("AllTraffic", "lr"))


def _instances(platform) -> int:
    return platform.serving.describe_endpoint(endpoint_name="e")["ProductionVariants"][0]["CurrentInstanceCount"]


def test_a_variant_name_that_is_not_a_string_in_desired_weights_is_named(gfp):
    # Was a TypeError (unhashable type: 'list') from the membership test, a 500 over HTTP.
    _deployed(gfp)
    for name in ([], {}, ["AllTraffic"], 1, None):
        with pytest.raises(ValidationError) as caught:
            gfp.serving.update_endpoint_weights_and_capacities(
                endpoint_name="e", desired_weights_and_capacities=[{"VariantName": name, "DesiredWeight": 2.0}])
        assert caught.value.field == "DesiredWeightsAndCapacities[0].VariantName", name
    described = gfp.serving.describe_endpoint(endpoint_name="e")
    assert described["EndpointStatus"] == "InService"
    assert described["ProductionVariants"][0]["DesiredWeight"] == 1.0


def test_a_weight_beyond_any_float_is_named(gfp):
    # An integer such as 10**400 (JSON can spell it) made math.isfinite raise OverflowError.
    create_model(gfp, "lr")
    with pytest.raises(ValidationError) as caught:
        gfp.serving.create_endpoint_config(endpoint_config_name="c", production_variants=[
            {**variant("AllTraffic", "lr"), "InitialVariantWeight": 10**400}])
    assert caught.value.field == "ProductionVariants[0].InitialVariantWeight"
    assert gfp.serving.list_endpoint_configs()["EndpointConfigs"] == []
    deploy(gfp, "e", variant("AllTraffic", "lr"))
    with pytest.raises(ValidationError) as caught:
        gfp.serving.update_endpoint_weights_and_capacities(
            endpoint_name="e", desired_weights_and_capacities=[{"VariantName": "AllTraffic", "DesiredWeight": 10**400}])
    assert caught.value.field == "DesiredWeightsAndCapacities[0].DesiredWeight"


@pytest.mark.parametrize("target", [10**400, 5e-324, 1e-200, 1e200], ids=["10**400", "5e-324", "1e-200", "1e200"])
def test_a_target_value_outside_application_auto_scaling_range_is_named(gfp, target):
    # 10**400 overflowed math.isfinite; a target as small as 5e-324 was stored, and the
    # scaler's instances x value / target became infinite: math.ceil raised OverflowError on
    # every pass, so no policy of any endpoint was applied again.
    with pytest.raises(ValidationError) as caught:
        gfp.serving.put_scaling_policy(policy_name="p", resource_id=RESOURCE, **SCALING,
                                       target_tracking_scaling_policy_configuration={
                                           "TargetValue": target, "PredefinedMetricSpecification": PREDEFINED})
    assert caught.value.field == f"{POLICY}.TargetValue"
    assert gfp.serving.describe_scaling_policies(resource_id=RESOURCE)["ScalingPolicies"] == []


def test_the_smallest_target_value_scales_to_the_maximum(gfp):
    _deployed(gfp)
    gfp.serving.invoke_endpoint("e", csv_rows(1), content_type="text/csv")
    gfp.serving.metrics_sink.flush()
    gfp.serving.register_scalable_target(resource_id=RESOURCE, min_capacity=1, max_capacity=2, **SCALING)
    gfp.serving.put_scaling_policy(policy_name="p", resource_id=RESOURCE, **SCALING,
                                   target_tracking_scaling_policy_configuration={
                                       "TargetValue": 8.515920e-109, "PredefinedMetricSpecification": PREDEFINED})
    gfp.serving.scaling_interval_seconds = 0.2
    assert wait_for(lambda: _instances(gfp) == 2, 30), gfp.serving.describe_endpoint(endpoint_name="e")


@pytest.mark.parametrize(("member", "value", "field"), [
    ("Dimensions", [{"Name": "EndpointName"}], "Dimensions[0].Value"),
    ("Dimensions", "EndpointName=e", "Dimensions"),
    ("Dimensions", [{"Name": "EndpointName", "Value": "e"}, {"Name": "EndpointName", "Value": "f"}], "Dimensions[1].Name"),
    ("Namespace", "no|pipes", "Namespace"),
    ("MetricName", " ", "MetricName"),
    ("Unit", "Parsecs", "Unit"),
    ("Unit", ["Count"], "Unit"),
])
def test_a_customized_metric_the_scaler_could_not_read_is_named(gfp, member, value, field):
    # Dimensions (and Unit) were stored unchecked: the scaler's GetMetricStatistics then
    # raised on every pass, and stopped the policies of every endpoint after this one.
    custom = {"MetricName": "Invocations", "Namespace": "AWS/SageMaker", "Statistic": "Sum", member: value}
    with pytest.raises(ValidationError) as caught:
        gfp.serving.put_scaling_policy(policy_name="p", resource_id=RESOURCE, **SCALING,
                                       target_tracking_scaling_policy_configuration={
                                           "TargetValue": 0.5, "CustomizedMetricSpecification": custom})
    assert caught.value.field == f"{POLICY}.CustomizedMetricSpecification.{field}"
    assert gfp.serving.describe_scaling_policies(resource_id=RESOURCE)["ScalingPolicies"] == []


def test_a_customized_metric_with_dimensions_is_tracked(gfp):
    _deployed(gfp)
    gfp.serving.invoke_endpoint("e", csv_rows(1), content_type="text/csv")
    gfp.serving.metrics_sink.flush()
    gfp.serving.register_scalable_target(resource_id=RESOURCE, min_capacity=1, max_capacity=2, **SCALING)
    gfp.serving.put_scaling_policy(policy_name="p", resource_id=RESOURCE, **SCALING,
                                   target_tracking_scaling_policy_configuration={
                                       "TargetValue": 0.5, "ScaleOutCooldown": 0, "CustomizedMetricSpecification": {
                                           "MetricName": "Invocations", "Namespace": "AWS/SageMaker", "Statistic": "Sum",
                                           "Unit": "Count", "Dimensions": [{"Name": "EndpointName", "Value": "e"},
                                                                           {"Name": "VariantName", "Value": "AllTraffic"}]}})
    gfp.serving.scaling_interval_seconds = 0.2
    assert wait_for(lambda: _instances(gfp) == 2, 30), gfp.serving.describe_endpoint(endpoint_name="e")


def test_an_endpoint_created_again_at_once_outlives_its_hosts_late_delete(gfp):
    # The fuzzer's harness deletes an endpoint stuck in a long deployment and creates it
    # again at once. The hosting loop could claim the old row back while the delete was
    # under way, find it Deleting, and delete by name a moment later: the new endpoint.
    _deployed(gfp)
    gfp.serving.delete_endpoint(endpoint_name="e")
    gfp.serving.create_endpoint(endpoint_name="e", endpoint_config_name="e-config")
    gfp.serving.finish_delete("e")  # what that late hosting tick does
    described = gfp.serving.wait_for_endpoint(endpoint_name="e", timeout=30)
    assert described["EndpointStatus"] == "InService"
    stages = [h["Stage"] for h in gfp.serving.list_endpoint_history(endpoint_name="e")["History"]]
    assert stages[0] == "Creating" and "Deleting" not in stages


def test_a_hosting_tick_that_read_an_endpoint_before_its_delete_cannot_save_it_back(gfp):
    # Deleting did not move the generation, so a tick holding an older read saved its
    # status over Deleting; the delete (now only of a row still Deleting) would be lost.
    from groundfog.core.owners import owner_token
    from groundfog.serving.records import load, save
    from groundfog.serving.tables import endpoints

    _deployed(gfp)
    with gfp.serving.state.write() as conn:  # hosted by another (live) process: its host finishes the delete
        conn.execute(endpoints.update().where(endpoints.c.name == "e").values(
            owner=owner_token(), heartbeat_at=gfp.serving.clock.time()))
    with gfp.serving.state.read() as conn:
        stale = load(conn, "e")
    gfp.serving.delete_endpoint(endpoint_name="e")
    with gfp.serving.state.write() as conn:
        assert not save(conn, stale, gfp.serving.clock.time())
    assert gfp.serving.describe_endpoint(endpoint_name="e")["EndpointStatus"] == "Deleting"
