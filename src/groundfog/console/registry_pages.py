"""The model registry in the console: each model package group with its versions, their
approval status, the headline numbers of their evaluation reports, and where each came
from (the pipeline execution or training job that made it)."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from groundfog.console.html import layout_page, status_badge, table_rows, when
from groundfog.core.paging import collect

if TYPE_CHECKING:
    from groundfog.platform import Platform

VERSIONS_SHOWN = 20  # per group, newest first


def render_registry(platform: "Platform") -> str:
    """Every group, newest versions first.

    >>> report_numbers({"metrics": {"accuracy": {"value": 0.9312}}, "rows": 143})
    [('metrics.accuracy', 0.9312), ('rows', 143)]
    """
    groups = collect(platform.registry.list_model_package_groups, "ModelPackageGroupSummaryList")
    sections = []
    for group in groups:
        name = group["ModelPackageGroupName"]
        listed = platform.registry.list_model_packages(model_package_group_name=name, max_results=VERSIONS_SHOWN)
        rows = [_version_row(platform, s["ModelPackageArn"]) for s in listed["ModelPackageSummaryList"]]
        sections.append(
            f'<h2 id="group-{escape(name)}">{escape(name)}</h2>'
            f'<p class="note">{escape(str(group.get("ModelPackageGroupDescription") or ""))}</p>'
            "<table><tr><th>version</th><th>approval</th><th>created</th><th>model data</th>"
            "<th>evaluation</th><th>made by</th><th>description</th></tr>"
            f"{table_rows(rows, 7)}</table>"
        )  # fmt: skip
    body = "".join(sections) or '<p class="empty">No model package groups yet.</p>'
    return layout_page("Model registry", f"<h1>Model registry</h1>\n<p class=\"sub\">{len(groups)} group(s)</p>\n{body}",
                       refresh=False)  # fmt: skip


def _version_row(platform: "Platform", arn: str) -> str:
    d = platform.registry.describe_model_package(model_package_name=arn)
    containers = (d.get("InferenceSpecification") or {}).get("Containers") or []
    data = "".join(f"<code>{escape(str(c.get('ModelDataUrl', '')))}</code>" for c in containers)
    numbers = [n for report in (d.get("ModelMetricsReports") or {}).values() for n in report_numbers(report)]
    shown = "<br>".join(f"{escape(k)} {escape(_short(v))}" for k, v in numbers[:4])
    return (f'<td class="num">{d.get("ModelPackageVersion", "")}</td><td>{status_badge(d.get("ModelApprovalStatus", ""))}'
            f'{_approval_note(d)}</td><td>{when(d.get("CreationTime"))}</td><td>{data}</td><td>{shown}</td>'
            f'<td>{_made_by(d.get("Lineage") or {})}</td><td>{escape(str(d.get("ModelPackageDescription") or ""))}</td>')  # fmt: skip


def report_numbers(report: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """The numbers of an evaluation report, by dotted path (``{"value": x}`` leaves folded)."""
    if isinstance(report, dict):
        if set(report) >= {"value"} and isinstance(report["value"], (int, float)) and not isinstance(report["value"], bool):
            return [(prefix, report["value"])]
        found: list[tuple[str, Any]] = []
        for key, value in report.items():
            found += report_numbers(value, f"{prefix}.{key}" if prefix else str(key))
        return found
    if isinstance(report, (int, float)) and not isinstance(report, bool):
        return [(prefix, report)]
    return []


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _approval_note(d: dict[str, Any]) -> str:
    note = d.get("ApprovalDescription")
    return f'<br><span class="note">{escape(str(note))}</span>' if note else ""


def _made_by(lineage: dict[str, Any]) -> str:
    execution = lineage.get("PipelineExecutionArn")
    if isinstance(execution, str) and "/execution/" in execution:
        execution_id = execution.rsplit("/execution/", 1)[1]
        step = escape(str(lineage.get("PipelineStepName") or ""))
        return f'<a href="/console/pipelines/executions/{quote(execution_id, safe="")}">execution {escape(execution_id)}</a> {step}'
    job = lineage.get("TrainingJobArn")
    if isinstance(job, str) and job:
        name = job.rsplit("/", 1)[-1]
        return f'<a href="/console/training/{quote(name, safe="")}">{escape(name)}</a>'
    return ""
