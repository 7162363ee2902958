"""The registry's console page: groups, versions with their approval status, the
numbers of their evaluation reports and where each version came from."""

from __future__ import annotations

from fastapi.testclient import TestClient

from groundfog import Platform
from groundfog.api.app import create_app
from groundfog.labs import run_lab


def test_the_registry_page_shows_versions_reports_and_lineage(tmp_path):
    with Platform(home=tmp_path / "home") as p:
        assert run_lab("retrain-on-upload", p).passed
        group = p.registry.list_model_packages(model_package_group_name="breast-cancer")["ModelPackageSummaryList"]
        p.registry.update_model_package(model_package_arn=group[0]["ModelPackageArn"], model_approval_status="Approved",
                                        approval_description="<b>looks good</b>")
        page = TestClient(create_app(p)).get("/console/registry")
    assert page.status_code == 200
    html = page.text
    assert 'id="group-breast-cancer"' in html and "s-Approved" in html
    assert "metrics.accuracy 0.9" in html  # from the attached evaluation report
    assert "/console/pipelines/executions/" in html  # lineage back to the execution
    assert "&lt;b&gt;looks good&lt;/b&gt;" in html and "<b>looks good</b>" not in html


def test_an_empty_registry_says_so(tmp_path):
    with Platform(home=tmp_path / "home") as p:
        page = TestClient(create_app(p)).get("/console/registry")
    assert page.status_code == 200 and "No model package groups yet" in page.text
