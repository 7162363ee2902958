"""Render console pages from the platform's public operations."""

from __future__ import annotations

import html
from importlib import resources
from string import Template
from typing import TYPE_CHECKING, Any

import groundfog
from groundfog.core.paging import collect

if TYPE_CHECKING:
    from groundfog.platform import Platform


def template(name: str) -> Template:
    return Template(resources.files("groundfog.console").joinpath("templates", name).read_text("utf-8"))


def _rows(items: list[Any], *fields: str) -> str:
    if not items:
        return '<tr><td colspan="9" class="empty">none yet</td></tr>'
    out = []
    for item in items[:50]:
        data = item.model_dump(mode="json") if hasattr(item, "model_dump") else dict(item)
        cells = "".join(f"<td>{html.escape(str(data.get(f, '')))}</td>" for f in fields)
        out.append(f"<tr>{cells}</tr>")
    return "\n".join(out)


def render_home(platform: "Platform") -> str:
    buckets = platform.storage.list_buckets()
    rules = platform.events.list_rules()
    topics = platform.topics.list_topics()
    alarms = platform.metrics.describe_alarms()
    jobs = platform.jobs.list()
    return template("home.html").substitute(
        version=html.escape(groundfog.__version__),
        state=html.escape(platform.state.safe_url),
        objects=html.escape(platform.config.objects_url),
        n_buckets=len(buckets),
        n_rules=len(rules),
        n_topics=len(topics),
        n_alarms=len(alarms),
        n_jobs=len(jobs),
        n_training=len(collect(platform.training.list_training_jobs, "TrainingJobSummaries")),
        n_processing=len(collect(platform.processing.list_processing_jobs, "ProcessingJobSummaries")),
        n_tuning=len(collect(platform.tuning.list_hyper_parameter_tuning_jobs, "HyperParameterTuningJobSummaries")),
        buckets=_rows(buckets, "name", "creation_date"),
        rules=_rows(rules, "name", "event_bus_name", "state", "event_pattern", "schedule_expression"),
        alarms=_rows(alarms, "alarm_name", "state_value", "metric_name", "threshold"),
        jobs=_rows(jobs, "kind", "name", "status", "failure_reason"),
    )
