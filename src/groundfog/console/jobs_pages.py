"""Console pages for training, processing and tuning jobs: lists, a training job with its
status timeline, cost and training curve, and a tuning job with its leaderboard.

Every value shown comes from the services' public operations; every string a user could
have chosen (names, hyperparameters, failure reasons, log lines) is escaped.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from groundfog.console.charts import line_chart, scatter_chart
from groundfog.console.pages import template
from groundfog.console.html import (
    code,
    duration,
    fact_list,
    failure,
    finite,
    layout_page,
    num,
    optional,
    status_badge,
    table_rows,
    when,
)
from groundfog.core.names import name_from_arn
from groundfog.core.paging import collect

if TYPE_CHECKING:
    from groundfog.platform import Platform

ACTIVE = ("InProgress", "Stopping")
STAGE_COLOURS = {"Starting": "#8a99a8", "Downloading": "#5b8db8", "Training": "#1f5f99", "Uploading": "#4a9c6d",
                 "Completed": "#1c6b3a", "Failed": "#9b1c1c", "Stopping": "#b08a2e", "Stopped": "#6b5a1c",
                 "Interrupted": "#c2571a", "Restarting": "#7a6bb0", "MaxRuntimeExceeded": "#9b1c1c",
                 "MaxWaitTimeExceeded": "#9b1c1c"}  # fmt: skip
LOG_TAIL_LINES = 200


# -- pages -------------------------------------------------------------------------------


def render_training_jobs(platform: "Platform") -> str:
    """The list of training, processing and tuning jobs (newest first)."""
    training = [platform.training.describe_training_job(s["TrainingJobName"])
                for s in collect(platform.training.list_training_jobs, "TrainingJobSummaries")]  # fmt: skip
    processing = [platform.processing.describe_processing_job(s["ProcessingJobName"])
                  for s in collect(platform.processing.list_processing_jobs, "ProcessingJobSummaries")]  # fmt: skip
    tuning = [platform.tuning.describe_hyper_parameter_tuning_job(s["HyperParameterTuningJobName"])
              for s in collect(platform.tuning.list_hyper_parameter_tuning_jobs, "HyperParameterTuningJobSummaries")]  # fmt: skip
    content = template("training_jobs.html").substitute(
        n_training=len(training), n_processing=len(processing), n_tuning=len(tuning),
        training=table_rows([_training_row(j) for j in training], 9),
        processing=table_rows([_processing_row(j) for j in processing], 7),
        tuning=table_rows([_tuning_row(j) for j in tuning], 8),
    )  # fmt: skip
    running = (any(_active(j, "TrainingJobStatus") for j in training) or any(_active(j, "ProcessingJobStatus") for j in processing)
               or any(_active(j, "HyperParameterTuningJobStatus") for j in tuning))  # fmt: skip
    return layout_page("Training", content, refresh=running)


def render_training_job(platform: "Platform", name: str) -> str:
    """One training job: description, status timeline, cost, training curve and log tail.
    Raises ``ResourceNotFound`` for a name no job has."""
    job = platform.training.describe_training_job(name)
    series = platform.training.get_training_job_metrics(name)
    log, log_note = _log_tail(lambda start: platform.training.get_training_job_logs(name, start=start))
    transitions = job.get("SecondaryStatusTransitions", [])
    if job.get("AlgorithmSpecification", {}).get("MetricDefinitions"):
        curve = line_chart(series) if series else '<p class="empty">no metric values in the log yet</p>'
    else:
        curve = '<p class="empty">this job has no metric definitions</p>'
    content = template("training_job.html").substitute(
        name=escape(job["TrainingJobName"]),
        status=status_badge(job["TrainingJobStatus"]),
        secondary_status=escape(str(job.get("SecondaryStatus") or "")),
        framework=escape(str(job.get("Framework") or job["AlgorithmSpecification"].get("TrainingImage", ""))),
        failure=failure(job.get("FailureReason")),
        facts=fact_list(_training_facts(job)),
        timeline_bar=_timeline_bar(transitions),
        timeline_rows=table_rows([_transition_row(t) for t in transitions], 4),
        resources_note=escape(str((job.get("LocalResources") or {}).get("note") or "")),
        cost=fact_list(_cost_facts(job)),
        curve=curve,
        hyperparameters=table_rows([f"<td><code>{escape(k)}</code></td><td>{escape(str(v))}</td>"
                                     for k, v in sorted(job.get("HyperParameters", {}).items())], 2),  # fmt: skip
        log_note=escape(log_note),
        log=escape(log),
    )
    return layout_page(job["TrainingJobName"], content, refresh=_active(job, "TrainingJobStatus"))


def render_tuning_job(platform: "Platform", name: str) -> str:
    """One tuning job: its leaderboard and the objective of every trial in the order they
    started, the best one highlighted. Raises ``ResourceNotFound`` for an unknown name."""
    job = platform.tuning.describe_hyper_parameter_tuning_job(name)
    trials = platform.tuning.list_training_jobs_for_hyper_parameter_tuning_job(name)["TrainingJobSummaries"]
    config = job["HyperParameterTuningJobConfig"]
    objective = config["HyperParameterTuningJobObjective"]
    best = (job.get("BestTrainingJob") or {}).get("TrainingJobName")
    in_order = sorted(trials, key=lambda t: (t.get("CreationTime") is None, t.get("CreationTime") or 0, t["TrainingJobName"]))
    points = [(i + 1, _objective(t), t["TrainingJobName"], t["TrainingJobName"] == best, t.get("EarlyStopped", False))
              for i, t in enumerate(in_order) if _objective(t) is not None]  # fmt: skip
    counters = job.get("TrainingJobStatusCounters", {})
    facts = [
        ("objective", f'{escape(objective["Type"])} <code>{escape(objective["MetricName"])}</code>'),
        ("trials", ", ".join(f"{n} {escape(k)}" for k, n in counters.items() if n) or "none yet"),
        ("limits", escape(", ".join(f"{k} {v}" for k, v in config.get("ResourceLimits", {}).items()))),
        ("best training job", _job_link(best) if best else "none yet"),
        ("created", when(job.get("CreationTime"))),
        ("ended", when(job.get("HyperParameterTuningEndTime"))),
    ]
    content = template("tuning_job.html").substitute(
        name=escape(job["HyperParameterTuningJobName"]),
        status=status_badge(job["HyperParameterTuningJobStatus"]),
        strategy=escape(str(config.get("Strategy", ""))),
        objective=escape(f'{objective["Type"]} {objective["MetricName"]}'),
        objective_name=escape(objective["MetricName"]),
        failure=failure(job.get("FailureReason")),
        facts=fact_list(facts),
        scatter=scatter_chart(points, y_label=objective["MetricName"]) if points else '<p class="empty">no trial has an objective yet</p>',
        leaderboard=table_rows(_leaderboard_rows(trials, best), 6),
    )  # fmt: skip
    return layout_page(job["HyperParameterTuningJobName"], content, refresh=_active(job, "HyperParameterTuningJobStatus"))


def render_not_found(message: str) -> str:
    """The page for a job name that does not exist (served with status 404)."""
    content = f'<h1>Not found</h1>\n<p class="failure">{escape(message)}</p>\n<p><a href="/console/training">All jobs</a></p>'
    return layout_page("Not found", content, refresh=False)


# -- rows and facts ----------------------------------------------------------------------


def _training_row(job: dict[str, Any]) -> str:
    resources = job.get("ResourceConfig", {})
    metrics = ", ".join(f"{m['MetricName']} = {num(m['Value'])}" for m in job.get("FinalMetricDataList", []))
    tuning = job.get("TuningJobArn")
    trial_of = f'<br><span class="note">trial of {_tuning_link(name_from_arn(tuning))}</span>' if tuning else ""
    return (
        f"<td>{_job_link(job['TrainingJobName'])}{trial_of}</td><td>{status_badge(job['TrainingJobStatus'])}{_reason(job)}</td>"
        f"<td>{escape(str(job.get('SecondaryStatus') or ''))}</td>"
        f"<td>{escape(str(resources.get('InstanceType', '')))} &times; {escape(str(resources.get('InstanceCount', '')))}</td>"
        f"<td>{'yes' if job.get('EnableManagedSpotTraining') else 'no'}</td>"
        f'<td class="num">{optional(job.get("TrainingTimeInSeconds"))}</td><td class="num">{optional(job.get("BillableTimeInSeconds"))}</td>'
        f"<td>{escape(metrics)}</td><td>{when(job.get('CreationTime'))}</td>"
    )


def _processing_row(job: dict[str, Any]) -> str:
    cluster = job.get("ProcessingResources", {}).get("ClusterConfig", {})
    message = job.get("FailureReason") or job.get("ExitMessage") or ""
    return (
        f"<td>{escape(job['ProcessingJobName'])}</td><td>{status_badge(job['ProcessingJobStatus'])}</td>"
        f"<td>{escape(str(job.get('Stage') or ''))}</td>"
        f"<td>{escape(str(cluster.get('InstanceType', '')))} &times; {escape(str(cluster.get('InstanceCount', '')))}</td>"
        f"<td>{when(job.get('CreationTime'))}</td><td>{when(job.get('ProcessingEndTime'))}</td>"
        f"<td>{escape(str(message))}</td>"
    )


def _tuning_row(job: dict[str, Any]) -> str:
    config = job["HyperParameterTuningJobConfig"]
    objective = config["HyperParameterTuningJobObjective"]
    counters = job.get("TrainingJobStatusCounters", {})
    limit = config.get("ResourceLimits", {}).get("MaxNumberOfTrainingJobs", "")
    best = job.get("BestTrainingJob") or {}
    value = _objective(best)
    return (
        f"<td>{_tuning_link(job['HyperParameterTuningJobName'])}</td><td>{status_badge(job['HyperParameterTuningJobStatus'])}</td>"
        f"<td>{escape(str(config.get('Strategy', '')))}</td>"
        f"<td>{escape(objective['Type'])} <code>{escape(objective['MetricName'])}</code></td>"
        f'<td class="num">{counters.get("Completed", 0)} of {escape(str(limit))} completed</td>'
        f"<td>{_job_link(best['TrainingJobName']) if best else ''}</td>"
        f'<td class="num">{"" if value is None else num(value)}</td><td>{when(job.get("CreationTime"))}</td>'
    )


def _leaderboard_rows(trials: list[dict[str, Any]], best: str | None) -> list[str]:
    # The listing puts the ranked trials (those that count for "best") first, best first.
    rows, rank = [], 0
    for t in trials:
        ranked = t.get("ObjectiveStatus") == "Succeeded" and not t.get("EarlyStopped") and t.get("TrainingJobStatus") == "Completed"
        rank += ranked
        hps = ", ".join(f"{k}={v}" for k, v in sorted(t.get("TunedHyperParameters", {}).items()))
        value = _objective(t)
        row = (
            f'<td class="num">{rank if ranked else "&ndash;"}</td><td>{_job_link(t["TrainingJobName"])}</td>'
            f"<td><code>{escape(hps)}</code></td><td class=\"num\">{'' if value is None else num(value)}</td>"
            f"<td>{status_badge(t['TrainingJobStatus'])}{_reason(t)}</td><td>{'yes' if t.get('EarlyStopped') else 'no'}</td>"
        )
        rows.append(f'<tr class="best">{row}</tr>' if t["TrainingJobName"] == best else row)
    return rows


def _training_facts(job: dict[str, Any]) -> list[tuple[str, str]]:
    resources = job.get("ResourceConfig", {})
    facts = [
        ("image", escape(str(job["AlgorithmSpecification"].get("TrainingImage", "")))),
        ("instances", f"{escape(str(resources.get('InstanceType', '')))} &times; {escape(str(resources.get('InstanceCount', '')))}"),
        ("managed spot", "yes" if job.get("EnableManagedSpotTraining") else "no"),
        ("created", when(job.get("CreationTime"))),
        ("started", when(job.get("TrainingStartTime"))),
        ("ended", when(job.get("TrainingEndTime"))),
        ("training seconds", optional(job.get("TrainingTimeInSeconds"))),
        ("billable seconds", optional(job.get("BillableTimeInSeconds"))),
        ("model artifact", code(job.get("ModelArtifacts", {}).get("S3ModelArtifacts"))),
        ("output data", code(job.get("OutputDataUri"))),
        ("final metrics", escape(", ".join(f"{m['MetricName']} = {num(m['Value'])}" for m in job.get("FinalMetricDataList", []))) or "none"),
    ]  # fmt: skip
    if job.get("TuningJobArn"):
        facts.append(("tuning job", _tuning_link(name_from_arn(job["TuningJobArn"]))))
    return facts


def _cost_facts(job: dict[str, Any]) -> list[tuple[str, str]]:
    cost = job.get("Cost")
    facts: list[tuple[str, str]] = []
    if cost:
        facts += [
            ("cost", f"{_usd(cost.get('usd'))} at {_usd(cost.get('hourly_rate'))}/hour"),
            ("on demand it would be", _usd(cost.get("on_demand_usd"))),
            ("savings", f"{_usd(cost.get('savings_usd'))} ({num(cost.get('savings_percent') or 0)}%)"),
        ]
        if cost.get("savings_plan"):
            facts.append(("savings plan", escape(str(cost["savings_plan"]))))
    else:
        facts.append(("cost", "known when the job ends"))
    interruptions = job.get("SpotInterruptions") or []
    if job.get("EnableManagedSpotTraining"):
        facts.append(("spot interruptions", str(len(interruptions))))
    return facts


def _transition_row(t: dict[str, Any]) -> str:
    return (
        f"<td>{status_badge(t.get('Status', ''))}</td><td>{when(t.get('StartTime'))}</td>"
        f'<td class="num">{duration(t.get("StartTime"), t.get("EndTime"))}</td><td>{escape(str(t.get("StatusMessage") or ""))}</td>'
    )


def _timeline_bar(transitions: list[dict[str, Any]]) -> str:
    """Each secondary status as a segment as wide as the time spent in it."""
    spans = []
    for t in transitions:
        start, end = t.get("StartTime"), t.get("EndTime")
        seconds = (end - start).total_seconds() if isinstance(start, datetime) and isinstance(end, datetime) else 0.0
        spans.append((str(t.get("Status", "")), max(seconds, 0.0)))
    total = sum(s for _, s in spans) or 1.0
    return "".join(
        f'<span style="flex:{max(s / total, 0.002):.4f};background:{STAGE_COLOURS.get(status, "#5b6b7b")}" '
        f'title="{escape(status)}: {s:.1f} s">{escape(status)}</span>'
        for status, s in spans
    )


# -- small formatters --------------------------------------------------------------------


def _log_tail(fetch: Any) -> tuple[str, str]:
    """The last lines of a log read page by page through ``fetch(start)``, and a note."""
    previous, page, start = "", fetch(0), 0
    while page["NextStart"] > start and not page["Done"]:
        start = page["NextStart"]
        previous, page = page["Text"], fetch(start)
    text = previous + page["Text"]
    lines = text.splitlines()
    total = max(page["NextStart"], start)
    if not lines:
        return "", "the log is empty so far"
    shown = lines[-LOG_TAIL_LINES:]
    return "\n".join(shown), f"last {len(shown)} lines of {total:,} bytes" + ("" if page["Done"] else " (the job is still writing)")


def _job_link(name: str) -> str:
    return f'<a href="/console/training/{quote(name, safe="")}">{escape(name)}</a>'


def _tuning_link(name: str) -> str:
    return f'<a href="/console/tuning/{quote(name, safe="")}">{escape(name)}</a>'


def _reason(job: dict[str, Any], limit: int = 160) -> str:
    reason = str(job.get("FailureReason") or "")
    if len(reason) > limit:
        reason = reason[: limit - 1] + "\u2026"
    return f'<br><span class="note">{escape(reason)}</span>' if reason else ""


def _active(job: dict[str, Any], key: str) -> bool:
    return job.get(key) in ACTIVE


def _objective(summary: dict[str, Any]) -> float | None:
    value = (summary.get("FinalHyperParameterTuningJobObjectiveMetric") or {}).get("Value")
    return value if finite(value) else None


def _usd(value: Any) -> str:
    """Dollars to the cent, or to six places for the fractions of a cent short jobs cost."""
    if not finite(value):
        return "unknown"
    if value >= 1 or value == 0:
        return f"${value:,.2f}"
    if value < 0.000001:
        return "under $0.000001"
    whole, _, fraction = f"{value:.6f}".partition(".")
    return f"${whole}.{fraction.rstrip('0').ljust(2, '0')}"


