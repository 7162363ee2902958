"""The instance catalog: what each family holds, what it costs, what a type becomes here."""

from __future__ import annotations

import json
import math
import os
from importlib import resources

import pydantic
import pytest

from groundfog.core.errors import ValidationError
from groundfog.training import catalog
from groundfog.training.catalog import (
    MAX_INSTANCE_COUNT,
    categories,
    families,
    family,
    instance_type,
    job_cost,
    list_instance_types,
    local_resources,
    spot_billable_seconds,
)

EXPECTED = {
    "t3": ["medium", "large", "xlarge", "2xlarge"],
    "m5": ["large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge"],
    "c5": ["large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "18xlarge"],
    "r5": ["large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge"],
    "p3": ["2xlarge", "8xlarge", "16xlarge"],
    "p4d": ["24xlarge"],
    "g4dn": ["xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"],
    "g5": ["xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"],
    "inf1": ["xlarge", "2xlarge", "6xlarge", "24xlarge"],
    "inf2": ["xlarge", "8xlarge", "24xlarge", "48xlarge"],
}


def _error(call, *args, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)
    return caught.value


# -- the data -----------------------------------------------------------------------------


def test_the_catalog_holds_every_family_of_the_note_with_its_sizes_smallest_first():
    for fam, sizes in EXPECTED.items():
        assert [t.name for t in list_instance_types(family=fam)] == [f"ml.{fam}.{s}" for s in sizes]
    assert [f.name for f in families()] == list(EXPECTED)


def test_families_sit_in_the_notes_categories():
    by_category = {c: [f.name for f in families(c)] for c in categories()}
    assert by_category == {
        "general": ["t3", "m5"], "compute": ["c5"], "memory": ["r5"],
        "accelerated": ["p3", "p4d", "g4dn", "g5"], "inference": ["inf1", "inf2"],
    }


def test_every_type_has_a_size_a_price_and_a_purpose():
    for t in list_instance_types():
        assert t.vcpus >= 2 and t.memory_gib >= 4, t.name
        assert 0 < t.on_demand_per_hour < 100, t.name
        assert t.purpose and t.category in categories(), t.name
        assert t.family == t.name.split(".")[1]
    for fam in families():
        prices = [instance_type(n).on_demand_per_hour for n in fam.instance_types]
        cpu_order = [instance_type(n).vcpus for n in fam.instance_types]
        assert cpu_order == sorted(cpu_order), fam.name
        # Bigger costs more, except g4dn/g5.16xlarge (1 GPU) after 12xlarge (4 GPUs).
        if fam.name not in ("g4dn", "g5"):
            assert prices == sorted(prices), fam.name


def test_gpus_are_counted_for_p_and_g_only_and_inferentia_chips_as_accelerators():
    assert (instance_type("ml.p3.16xlarge").gpus, instance_type("ml.p3.16xlarge").accelerator) == (8, "NVIDIA V100")
    assert instance_type("ml.p4d.24xlarge").accelerator == "NVIDIA A100"
    assert instance_type("ml.g4dn.12xlarge").gpus == 4
    inf2 = instance_type("ml.inf2.48xlarge")
    assert (inf2.gpus, inf2.accelerators, inf2.accelerator) == (0, 12, "AWS Inferentia2")
    for t in list_instance_types():
        assert (t.gpus > 0) == t.family.startswith(("p", "g")), t.name
        assert (t.accelerator is None) == (t.accelerators == 0), t.name


def test_discounts_are_plausible_and_a_longer_plan_saves_more():
    for fam in families():
        if fam.training:
            assert 0.6 <= fam.spot_discount <= 0.7, fam.name
        else:
            assert fam.spot_discount is None, fam.name  # no managed spot for hosting-only types
        assert 0 < fam.savings_plan_1yr < fam.savings_plan_3yr <= 0.64, fam.name


def test_the_data_file_says_its_prices_are_approximate_us_east_1_list_prices():
    raw = json.loads(resources.files("groundfog.training").joinpath("instances.json").read_text())
    assert "us-east-1" in raw["source"] and "pproximate" in raw["source"] and "refresh" in raw["source"]
    assert "do not stack" in raw["note"]
    assert "us-east-1" in catalog.price_source()


def test_the_catalog_is_read_once_and_its_entries_are_immutable():
    assert instance_type("ml.m5.large") is instance_type("ml.m5.large")
    with pytest.raises(pydantic.ValidationError):
        instance_type("ml.m5.large").vcpus = 64  # type: ignore[misc]


def test_spot_price_per_hour_is_the_discounted_on_demand_price():
    t = instance_type("ml.m5.xlarge")
    assert t.spot_per_hour == pytest.approx(0.23 * 0.3)
    assert instance_type("ml.inf1.xlarge").spot_per_hour is None
    assert t.model_dump()["spot_per_hour"] == t.spot_per_hour


# -- lookups and their errors ----------------------------------------------------------------


def test_an_unknown_size_of_a_known_family_lists_that_familys_types():
    err = _error(instance_type, "ml.m5.3xlarge")
    assert err.field == "InstanceType"
    assert "'ml.m5.3xlarge'" in err.message
    assert all(f"ml.m5.{s}" in err.message for s in EXPECTED["m5"])
    assert "ml.c5" not in err.message


def test_an_unknown_family_lists_the_families():
    err = _error(instance_type, "ml.x9.large", field="ResourceConfig.InstanceType")
    assert err.field == "ResourceConfig.InstanceType"
    assert "'x9'" in err.message and all(f in err.message for f in EXPECTED)


@pytest.mark.parametrize("bad", ["", "m5.large", "ml.m5", "ml.m5.large.x", " ml.m5.large", "ml..large", "a" * 5000])
def test_a_malformed_name_says_what_a_name_looks_like(bad):
    err = _error(instance_type, bad)
    assert err.field == "InstanceType" and "ml.<family>.<size>" in err.message
    assert len(err.message) < 300  # a huge value is quoted cut short


def test_a_wrongly_cased_name_gets_a_hint_not_a_silent_fix():
    err = _error(instance_type, "ML.M5.Large")
    assert "did you mean 'ml.m5.large'?" in err.message


@pytest.mark.parametrize("bad", [None, 5, 1.5, ["ml.m5.large"], {"name": "ml.m5.large"}, b"ml.m5.large"])
def test_a_name_that_is_not_a_string_is_a_validation_error(bad):
    err = _error(instance_type, bad)
    assert err.field == "InstanceType" and "must be a string" in err.message


def test_list_filters_by_family_and_category_together():
    assert [t.name for t in list_instance_types(category="memory")] == [f"ml.r5.{s}" for s in EXPECTED["r5"]]
    assert list_instance_types(family="m5", category="compute") == []
    assert len(list_instance_types()) == sum(len(v) for v in EXPECTED.values())


@pytest.mark.parametrize("kwargs, field", [
    ({"family": "p"}, "family"), ({"family": "ml.m5"}, "family"), ({"family": 3}, "family"),
    ({"category": "gpu"}, "category"), ({"category": ["general"]}, "category"),
])
def test_an_unknown_family_or_category_is_named_with_the_known_ones(kwargs, field):
    err = _error(list_instance_types, **kwargs)
    assert err.field == field
    assert ("inf2" in err.message) if field == "family" else ("accelerated" in err.message)


def test_family_lookup():
    assert family("r5").category == "memory" and "memory" in family("r5").purpose
    assert _error(family, "r6").field == "family"


# -- this machine ------------------------------------------------------------------------------


def test_a_type_bigger_than_the_machine_is_scaled_down_and_the_note_says_how():
    r = local_resources("ml.m5.4xlarge", 2, available_cpus=2, available_memory_mb=23 * 1024)
    assert (r.cpus_per_host, r.memory_mb_per_host, r.scaled_down, r.gpus_requested) == (1, 11776, True, 0)
    assert r.note == (
        "ml.m5.4xlarge has 16 vCPUs and 64 GiB; this machine has 2 CPUs and 23 GiB, "
        "so each of the 2 hosts runs on 1 CPU and 11.5 GiB"
    )


def test_a_type_that_fits_runs_at_its_own_size():
    r = local_resources("ml.m5.large", available_cpus=8, available_memory_mb=32 * 1024)
    assert (r.cpus_per_host, r.memory_mb_per_host, r.scaled_down) == (2, 8 * 1024, False)
    assert r.note.endswith("so the host runs on 2 CPUs and 8 GiB, as on SageMaker")


def test_more_hosts_than_cpus_share_them():
    r = local_resources("ml.c5.xlarge", 4, available_cpus=2, available_memory_mb=4096)
    assert r.cpus_per_host == 1 and r.memory_mb_per_host == 1024 and r.scaled_down
    assert "the 4 hosts take turns on 2 CPUs" in r.note


def test_gpus_are_requested_not_emulated():
    r = local_resources("ml.p3.8xlarge", available_cpus=64, available_memory_mb=10**6)
    assert r.gpus_requested == 4 and not r.scaled_down
    assert "4 NVIDIA V100 GPUs per host are not emulated" in r.note
    assert "16 AWS Inferentia chips" in local_resources("ml.inf1.24xlarge", available_cpus=1).note


def test_defaults_read_this_machine():
    r = local_resources("ml.m5.24xlarge")
    cpus = len(os.sched_getaffinity(0))
    memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    assert r.cpus_per_host == min(96, cpus)
    assert r.memory_mb_per_host == min(384 * 1024, memory_mb)
    assert f"this machine has {cpus} CPU" in r.note


@pytest.mark.parametrize("count", [0, -1, True, 1.5, "2", None, MAX_INSTANCE_COUNT + 1, 2**64])
def test_instance_count_must_be_a_whole_number_from_one(count):
    err = _error(local_resources, "ml.m5.large", count)
    assert err.field == "InstanceCount" and "whole number" in err.message


@pytest.mark.parametrize("kwargs, field", [
    ({"available_cpus": 0}, "available_cpus"), ({"available_cpus": 1.0}, "available_cpus"),
    ({"available_memory_mb": -5}, "available_memory_mb"), ({"available_memory_mb": False}, "available_memory_mb"),
])
def test_the_machine_override_is_validated(kwargs, field):
    assert _error(local_resources, "ml.m5.large", **kwargs).field == field


# -- cost ------------------------------------------------------------------------------------------


def test_on_demand_is_price_times_hosts_times_hours():
    c = job_cost("ml.m5.xlarge", 3, 1800)
    assert (c.on_demand_usd, c.usd, c.savings_usd, c.savings_percent, c.discount) == (0.345, 0.345, 0.0, 0.0, 0.0)
    assert c.hourly_rate == c.on_demand_per_hour == 0.23
    assert (c.instance_type, c.instance_count, c.billable_seconds, c.spot, c.savings_plan) == (
        "ml.m5.xlarge", 3, 1800.0, False, None)


def test_spot_pays_the_discounted_rate():
    c = job_cost("ml.p3.2xlarge", 2, 36_000, spot=True)
    assert c.on_demand_usd == pytest.approx(76.5)
    assert c.usd == pytest.approx(76.5 * 0.3)
    assert c.savings_usd == pytest.approx(76.5 * 0.7) and c.savings_percent == 70.0
    assert c.hourly_rate == pytest.approx(3.825 * 0.3)


def test_savings_plans_discount_on_demand_and_three_years_saves_more():
    one, three = (job_cost("ml.g5.xlarge", 1, 3600, savings_plan=p) for p in ("1yr", "3yr"))
    on_demand = job_cost("ml.g5.xlarge", 1, 3600)
    assert three.usd < one.usd < on_demand.usd
    assert one.savings_percent == 36.0 and three.savings_percent == 58.0
    assert one.on_demand_usd == three.on_demand_usd == on_demand.usd


def test_spot_billable_seconds_reproduce_sagemakers_savings_percent():
    running = 5000.0
    billable = spot_billable_seconds(running, "ml.c5.2xlarge")
    spot = job_cost("ml.c5.2xlarge", 1, running, spot=True)
    assert (1 - billable / running) * 100 == pytest.approx(spot.savings_percent)
    # Billing the billable seconds on demand is what the spot job costs.
    assert job_cost("ml.c5.2xlarge", 1, billable).usd == pytest.approx(spot.usd)


def test_zero_seconds_cost_nothing():
    assert job_cost("ml.m5.large", 1, 0).usd == 0.0


def test_spot_and_a_savings_plan_do_not_stack():
    err = _error(job_cost, "ml.m5.large", 1, 3600, spot=True, savings_plan="1yr")
    assert err.field == "savings_plan" and "do not stack" in err.message


@pytest.mark.parametrize("plan", ["2yr", "1YR", "", "1 year", 1, "3yr "])
def test_a_savings_plan_is_one_or_three_years(plan):
    err = _error(job_cost, "ml.m5.large", 1, 3600, savings_plan=plan)
    assert err.field == "savings_plan" and "'1yr' or '3yr'" in err.message


def test_hosting_only_types_have_no_managed_spot():
    err = _error(job_cost, "ml.inf2.xlarge", 1, 3600, spot=True)
    assert err.field == "spot" and "not offered for managed spot training" in err.message
    assert _error(spot_billable_seconds, 60, "ml.inf1.xlarge").field == "InstanceType"
    assert job_cost("ml.inf2.xlarge", 1, 3600, savings_plan="3yr").usd < job_cost("ml.inf2.xlarge", 1, 3600).usd


@pytest.mark.parametrize("seconds", [-1, math.nan, math.inf, -math.inf, "60", None, True, 10**12])
def test_seconds_must_be_a_finite_number_within_ten_years(seconds):
    assert _error(job_cost, "ml.m5.large", 1, seconds).field == "billable_seconds"
    assert _error(spot_billable_seconds, seconds, "ml.m5.large").field == "running_seconds"


def test_cost_errors_name_the_instance_fields():
    assert _error(job_cost, "ml.m5.huge", 1, 60).field == "InstanceType"
    assert _error(job_cost, "ml.m5.large", 0, 60).field == "InstanceCount"
    assert _error(job_cost, "ml.m5.large", 1, 60, spot="yes").field == "spot"


def test_the_largest_job_has_a_finite_cost():
    c = job_cost("ml.p4d.24xlarge", MAX_INSTANCE_COUNT, catalog.MAX_SECONDS)
    assert math.isfinite(c.usd) and c.usd > 0
