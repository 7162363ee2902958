"""An endpoint whose host is gone is taken over by the next one: SystemUpdating while
its workers restart there (nothing the user set changes), InService again after."""

from __future__ import annotations

import time

import pytest

from endpoint_helpers import create_model, csv_rows, deploy, variant
from groundfog.core.errors import ValidationError


def _wait_status(platform, name: str, status: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while platform.serving.describe_endpoint(endpoint_name=name)["EndpointStatus"] != status:
        assert time.monotonic() < deadline, f"the endpoint never went {status}"
        time.sleep(0.01)


def test_a_new_host_restores_an_in_service_endpoint_through_system_updating(gfp, tmp_path):
    import groundfog as gf

    create_model(gfp, "lr")
    deploy(gfp, "e", variant("AllTraffic", "lr", count=2))
    gfp.serving.create_endpoint_config(endpoint_config_name="other", production_variants=[variant("B", "lr")])
    gfp.serving.host.close()  # the first host goes away: its workers stop, its lease is released

    with gf.Platform(home=tmp_path / "home") as second:
        second.serving.host.host("e")
        _wait_status(second, "e", "SystemUpdating")
        with pytest.raises(ValidationError, match="endpoint e is SystemUpdating; it can be updated only when InService"):
            second.serving.update_endpoint(endpoint_name="e", endpoint_config_name="other")
        # No worker serves yet: the request waits for one instead of failing.
        early = second.serving.invoke_endpoint("e", csv_rows(1), content_type="text/csv")
        assert early.invoked_production_variant == "AllTraffic"
        described = second.serving.wait_for_endpoint(endpoint_name="e", timeout=30)
        assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "e-config"
        assert [v["CurrentInstanceCount"] for v in described["ProductionVariants"]] == [2]
        answer = second.serving.invoke_endpoint("e", csv_rows(1), content_type="text/csv")
        assert answer.invoked_production_variant == "AllTraffic"
        history = second.serving.list_endpoint_history(endpoint_name="e")["History"]
        stages = [h["Stage"] for h in history]
        assert stages[-2:] == ["SystemUpdating", "InService"], stages
        assert "restarting its 2 instance(s) on a new host" in history[-2]["Message"]
        assert history[-1]["Message"] == "instances restored on a new host"


def test_an_endpoint_still_creating_is_not_system_updating_when_taken_over(gfp, tmp_path):
    import groundfog as gf

    create_model(gfp, "lr")
    gfp.serving.auto_host = False  # recorded, not hosted: as the CLI leaves it for the server
    gfp.serving.create_endpoint_config(endpoint_config_name="c", production_variants=[variant("AllTraffic", "lr")])
    gfp.serving.create_endpoint(endpoint_name="e", endpoint_config_name="c")
    with gf.Platform(home=tmp_path / "home") as host:
        assert host.serving.wait_for_endpoint(endpoint_name="e", timeout=30)["EndpointStatus"] == "InService"
        stages = [h["Stage"] for h in host.serving.list_endpoint_history(endpoint_name="e")["History"]]
        assert stages == ["Creating", "InService"]
