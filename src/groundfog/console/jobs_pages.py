"""Console pages for training, processing and tuning jobs: lists, a training job with its
status timeline, cost and training curve, and a tuning job with its leaderboard.

Every value shown comes from the services' public operations; every string a user could
have chosen (names, hyperparameters, failure reasons, log lines) is escaped.
"""

from __future__ import annotations

import math
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from groundfog.console.pages import template
from groundfog.core.names import name_from_arn

if TYPE_CHECKING:
    from groundfog.platform import Platform

ACTIVE = ("InProgress", "Stopping")
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
STAGE_COLOURS = {"Starting": "#8a99a8", "Downloading": "#5b8db8", "Training": "#1f5f99", "Uploading": "#4a9c6d",
                 "Completed": "#1c6b3a", "Failed": "#9b1c1c", "Stopping": "#b08a2e", "Stopped": "#6b5a1c",
                 "Interrupted": "#c2571a", "Restarting": "#7a6bb0", "MaxRuntimeExceeded": "#9b1c1c",
                 "MaxWaitTimeExceeded": "#9b1c1c"}  # fmt: skip
LOG_TAIL_LINES = 200
MARGINS = (76, 18, 12, 34)  # left, right, top, bottom of a chart's plotting area
MAX_POINTS = 2000  # per polyline; longer series are thinned evenly (the note says so)


# -- pages -------------------------------------------------------------------------------


def render_training_jobs(platform: "Platform") -> str:
    """The list of training, processing and tuning jobs (newest first)."""
    training = [platform.training.describe_training_job(s["TrainingJobName"])
                for s in platform.training.list_training_jobs()["TrainingJobSummaries"]]  # fmt: skip
    processing = [platform.processing.describe_processing_job(s["ProcessingJobName"])
                  for s in platform.processing.list_processing_jobs()["ProcessingJobSummaries"]]  # fmt: skip
    tuning = [platform.tuning.describe_hyper_parameter_tuning_job(s["HyperParameterTuningJobName"])
              for s in platform.tuning.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]]  # fmt: skip
    content = template("training_jobs.html").substitute(
        n_training=len(training), n_processing=len(processing), n_tuning=len(tuning),
        training=_table_rows([_training_row(j) for j in training], 9),
        processing=_table_rows([_processing_row(j) for j in processing], 7),
        tuning=_table_rows([_tuning_row(j) for j in tuning], 8),
    )  # fmt: skip
    running = (any(_active(j, "TrainingJobStatus") for j in training) or any(_active(j, "ProcessingJobStatus") for j in processing)
               or any(_active(j, "HyperParameterTuningJobStatus") for j in tuning))  # fmt: skip
    return _page("Training", content, refresh=running)


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
        status=_status(job["TrainingJobStatus"]),
        secondary_status=escape(str(job.get("SecondaryStatus") or "")),
        framework=escape(str(job.get("Framework") or job["AlgorithmSpecification"].get("TrainingImage", ""))),
        failure=_failure(job.get("FailureReason")),
        facts=_facts(_training_facts(job)),
        timeline_bar=_timeline_bar(transitions),
        timeline_rows=_table_rows([_transition_row(t) for t in transitions], 4),
        resources_note=escape(str((job.get("LocalResources") or {}).get("note") or "")),
        cost=_facts(_cost_facts(job)),
        curve=curve,
        hyperparameters=_table_rows([f"<td><code>{escape(k)}</code></td><td>{escape(str(v))}</td>"
                                     for k, v in sorted(job.get("HyperParameters", {}).items())], 2),  # fmt: skip
        log_note=escape(log_note),
        log=escape(log),
    )
    return _page(job["TrainingJobName"], content, refresh=_active(job, "TrainingJobStatus"))


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
        ("created", _when(job.get("CreationTime"))),
        ("ended", _when(job.get("HyperParameterTuningEndTime"))),
    ]
    content = template("tuning_job.html").substitute(
        name=escape(job["HyperParameterTuningJobName"]),
        status=_status(job["HyperParameterTuningJobStatus"]),
        strategy=escape(str(config.get("Strategy", ""))),
        objective=escape(f'{objective["Type"]} {objective["MetricName"]}'),
        objective_name=escape(objective["MetricName"]),
        failure=_failure(job.get("FailureReason")),
        facts=_facts(facts),
        scatter=scatter_chart(points, y_label=objective["MetricName"]) if points else '<p class="empty">no trial has an objective yet</p>',
        leaderboard=_table_rows(_leaderboard_rows(trials, best), 6),
    )  # fmt: skip
    return _page(job["HyperParameterTuningJobName"], content, refresh=_active(job, "HyperParameterTuningJobStatus"))


def render_not_found(message: str) -> str:
    """The page for a job name that does not exist (served with status 404)."""
    content = f'<h1>Not found</h1>\n<p class="failure">{escape(message)}</p>\n<p><a href="/console/training">All jobs</a></p>'
    return _page("Not found", content, refresh=False)


# -- charts ------------------------------------------------------------------------------


def line_chart(series: dict[str, list[float]], *, width: int = 720, height: int = 280) -> str:
    """An SVG line chart of each series by step (its position), with a legend.

    >>> svg = line_chart({"loss": [3.0, 2.0, 1.5]})
    >>> svg.count("<polyline"), 'class="y-max">3<' in svg, 'class="y-min">1.5<' in svg
    (1, True, True)
    """
    left, right, top, bottom = MARGINS
    finite = [v for values in series.values() for v in values if _finite(v)]
    y_min, y_max = _span(finite)
    steps = max((len(v) for v in series.values()), default=1)
    x_max = max(steps - 1, 1)

    def x(step: int) -> float:
        return left + (width - left - right) * step / x_max

    def y(value: float) -> float:
        return top + (height - top - bottom) * (y_max - value) / (y_max - y_min)

    lines, legend, thinned = [], [], False
    for i, (metric, values) in enumerate(sorted(series.items())):
        colour = PALETTE[i % len(PALETTE)]
        stride = max(1, math.ceil(len(values) / MAX_POINTS))
        thinned |= stride > 1
        kept = [(s, v) for s, v in enumerate(values) if _finite(v) and (s % stride == 0 or s == len(values) - 1)]
        points = " ".join(f"{x(s):.1f},{y(v):.1f}" for s, v in kept)
        lines.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.8" points="{points}"><title>{escape(metric)}</title></polyline>')
        if len(kept) == 1:  # a single value draws no line; show it as a dot
            lines.append(f'<circle cx="{x(kept[0][0]):.1f}" cy="{y(kept[0][1]):.1f}" r="3" fill="{colour}"/>')
        last = f" last {_num(values[-1])}" if values else ""
        legend.append(f'<li><i style="background:{colour}"></i>{escape(metric)} '
                      f'<span class="note">({len(values)} values,{last})</span></li>')  # fmt: skip
    note = f'<p class="note">Series longer than {MAX_POINTS} values are drawn from evenly spaced values.</p>' if thinned else ""
    return (
        f'<figure class="chart"><svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-size="11" role="img" aria-label="training curve">'
        + _axes(width, height, (y(y_min), y_min), (y(y_max), y_max), (x(0), "0"), (x(x_max), str(steps - 1)), "step")
        + "".join(lines)
        + f'</svg><ul class="legend">{"".join(legend)}</ul>{note}</figure>'
    )


def scatter_chart(points: list[tuple[int, float, str, bool, bool]], *, y_label: str, width: int = 720, height: int = 280) -> str:
    """An SVG scatter of (trial number, objective, job name, is best, early stopped):
    the best trial filled green and larger, early-stopped trials hollow."""
    left, right, top, bottom = MARGINS
    lowest, highest = _span([p[1] for p in points])
    pad = (highest - lowest) * 0.05  # so no dot sits on an axis
    y_min, y_max = lowest - pad, highest + pad
    n = max(p[0] for p in points)
    x_lo, x_hi = 0.5, n + 0.5

    def x(trial: float) -> float:
        return left + (width - left - right) * (trial - x_lo) / (x_hi - x_lo)

    def y(value: float) -> float:
        return top + (height - top - bottom) * (y_max - value) / (y_max - y_min)

    dots = []
    for trial, value, job, best, early in points:
        style = ('r="7" fill="#2ca02c" stroke="#1c6b3a" stroke-width="2" class="best"' if best
                 else 'r="4.5" fill="none" stroke="#8a99a8" stroke-width="1.5"' if early
                 else 'r="4.5" fill="#1f77b4"')  # fmt: skip
        label = f"trial {trial}: {job} = {_num(value)}{' (best)' if best else ''}{' (early stopped)' if early else ''}"
        dots.append(f'<circle cx="{x(trial):.1f}" cy="{y(value):.1f}" {style}><title>{escape(label)}</title></circle>')
    return (
        f'<figure class="chart"><svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-size="11" role="img" aria-label="objective by trial">'
        + _axes(width, height, (y(lowest), lowest), (y(highest), highest), (x(1), "1"), (x(n), str(n)), "trial")
        + "".join(dots)
        + f'</svg><ul class="legend"><li>{escape(y_label)} of each trial, in the order they started</li>'
        '<li><i style="background:#2ca02c"></i>best</li><li><i style="background:#8a99a8"></i>early stopped (hollow)</li></ul></figure>'
    )


def _axes(width: int, height: int, y_min: tuple[float, float], y_max: tuple[float, float],
          x_first: tuple[float, str], x_last: tuple[float, str], x_label: str) -> str:  # fmt: skip
    """Both axes, labelled at the lowest and highest value and the first and last x (each as
    (position, label))."""
    left, right, top, bottom = MARGINS
    base, end = height - bottom, width - right
    return (
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{base}" stroke="#8a99a8"/>'
        f'<line x1="{left}" y1="{base}" x2="{end}" y2="{base}" stroke="#8a99a8"/>'
        f'<line x1="{left}" y1="{top}" x2="{end}" y2="{top}" stroke="#eef3f7"/>'
        f'<text x="{left - 6}" y="{y_max[0] + 4:.1f}" text-anchor="end" class="y-max">{_tick(y_max[1])}</text>'
        f'<text x="{left - 6}" y="{y_min[0]:.1f}" text-anchor="end" class="y-min">{_tick(y_min[1])}</text>'
        f'<line x1="{left - 3}" y1="{y_max[0]:.1f}" x2="{left}" y2="{y_max[0]:.1f}" stroke="#8a99a8"/>'
        f'<line x1="{left - 3}" y1="{y_min[0]:.1f}" x2="{left}" y2="{y_min[0]:.1f}" stroke="#8a99a8"/>'
        f'<text x="{x_first[0]:.1f}" y="{base + 15}" text-anchor="middle">{escape(x_first[1])}</text>'
        f'<text x="{x_last[0]:.1f}" y="{base + 15}" text-anchor="middle">{escape(x_last[1])}</text>'
        f'<text x="{(left + end) / 2:.0f}" y="{base + 28}" text-anchor="middle">{escape(x_label)}</text>'
    )


def _span(values: list[float]) -> tuple[float, float]:
    """(min, max) of the values, widened when they are all equal so the chart has a height."""
    finite = [v for v in values if _finite(v)]
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    if lo == hi:
        pad = abs(lo) * 0.05 or 1.0
        return lo - pad, hi + pad
    return lo, hi


# -- rows and facts ----------------------------------------------------------------------


def _training_row(job: dict[str, Any]) -> str:
    resources = job.get("ResourceConfig", {})
    metrics = ", ".join(f"{m['MetricName']} = {_num(m['Value'])}" for m in job.get("FinalMetricDataList", []))
    tuning = job.get("TuningJobArn")
    trial_of = f'<br><span class="note">trial of {_tuning_link(name_from_arn(tuning))}</span>' if tuning else ""
    return (
        f"<td>{_job_link(job['TrainingJobName'])}{trial_of}</td><td>{_status(job['TrainingJobStatus'])}{_reason(job)}</td>"
        f"<td>{escape(str(job.get('SecondaryStatus') or ''))}</td>"
        f"<td>{escape(str(resources.get('InstanceType', '')))} &times; {escape(str(resources.get('InstanceCount', '')))}</td>"
        f"<td>{'yes' if job.get('EnableManagedSpotTraining') else 'no'}</td>"
        f'<td class="num">{_opt(job.get("TrainingTimeInSeconds"))}</td><td class="num">{_opt(job.get("BillableTimeInSeconds"))}</td>'
        f"<td>{escape(metrics)}</td><td>{_when(job.get('CreationTime'))}</td>"
    )


def _processing_row(job: dict[str, Any]) -> str:
    cluster = job.get("ProcessingResources", {}).get("ClusterConfig", {})
    message = job.get("FailureReason") or job.get("ExitMessage") or ""
    return (
        f"<td>{escape(job['ProcessingJobName'])}</td><td>{_status(job['ProcessingJobStatus'])}</td>"
        f"<td>{escape(str(job.get('Stage') or ''))}</td>"
        f"<td>{escape(str(cluster.get('InstanceType', '')))} &times; {escape(str(cluster.get('InstanceCount', '')))}</td>"
        f"<td>{_when(job.get('CreationTime'))}</td><td>{_when(job.get('ProcessingEndTime'))}</td>"
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
        f"<td>{_tuning_link(job['HyperParameterTuningJobName'])}</td><td>{_status(job['HyperParameterTuningJobStatus'])}</td>"
        f"<td>{escape(str(config.get('Strategy', '')))}</td>"
        f"<td>{escape(objective['Type'])} <code>{escape(objective['MetricName'])}</code></td>"
        f'<td class="num">{counters.get("Completed", 0)} of {escape(str(limit))} completed</td>'
        f"<td>{_job_link(best['TrainingJobName']) if best else ''}</td>"
        f'<td class="num">{"" if value is None else _num(value)}</td><td>{_when(job.get("CreationTime"))}</td>'
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
            f"<td><code>{escape(hps)}</code></td><td class=\"num\">{'' if value is None else _num(value)}</td>"
            f"<td>{_status(t['TrainingJobStatus'])}{_reason(t)}</td><td>{'yes' if t.get('EarlyStopped') else 'no'}</td>"
        )
        rows.append(f'<tr class="best">{row}</tr>' if t["TrainingJobName"] == best else row)
    return rows


def _training_facts(job: dict[str, Any]) -> list[tuple[str, str]]:
    resources = job.get("ResourceConfig", {})
    facts = [
        ("image", escape(str(job["AlgorithmSpecification"].get("TrainingImage", "")))),
        ("instances", f"{escape(str(resources.get('InstanceType', '')))} &times; {escape(str(resources.get('InstanceCount', '')))}"),
        ("managed spot", "yes" if job.get("EnableManagedSpotTraining") else "no"),
        ("created", _when(job.get("CreationTime"))),
        ("started", _when(job.get("TrainingStartTime"))),
        ("ended", _when(job.get("TrainingEndTime"))),
        ("training seconds", _opt(job.get("TrainingTimeInSeconds"))),
        ("billable seconds", _opt(job.get("BillableTimeInSeconds"))),
        ("model artifact", _code(job.get("ModelArtifacts", {}).get("S3ModelArtifacts"))),
        ("output data", _code(job.get("OutputDataUri"))),
        ("final metrics", escape(", ".join(f"{m['MetricName']} = {_num(m['Value'])}" for m in job.get("FinalMetricDataList", []))) or "none"),
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
            ("savings", f"{_usd(cost.get('savings_usd'))} ({_num(cost.get('savings_percent') or 0)}%)"),
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
        f"<td>{_status(t.get('Status', ''))}</td><td>{_when(t.get('StartTime'))}</td>"
        f'<td class="num">{_duration(t.get("StartTime"), t.get("EndTime"))}</td><td>{escape(str(t.get("StatusMessage") or ""))}</td>'
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


def _page(title: str, content: str, *, refresh: bool) -> str:
    # A running job's page reloads itself: no script needed.
    return template("layout.html").substitute(
        title=escape(title), content=content, refresh='<meta http-equiv="refresh" content="5">\n' if refresh else ""
    )


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


def _table_rows(cells: list[str], columns: int) -> str:
    if not cells:
        return f'<tr><td colspan="{columns}" class="empty">none yet</td></tr>'
    return "\n".join(c if c.startswith("<tr") else f"<tr>{c}</tr>" for c in cells)


def _facts(pairs: list[tuple[str, str]]) -> str:
    return "\n".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in pairs)


def _failure(reason: str | None) -> str:
    return f'<p class="failure"><b>Failure reason</b>\n{escape(reason)}</p>' if reason else ""


def _status(status: str) -> str:
    return f'<span class="status s-{escape(status)}">{escape(status)}</span>'


def _job_link(name: str) -> str:
    return f'<a href="/console/training/{quote(name, safe="")}">{escape(name)}</a>'


def _tuning_link(name: str) -> str:
    return f'<a href="/console/tuning/{quote(name, safe="")}">{escape(name)}</a>'


def _reason(job: dict[str, Any], limit: int = 160) -> str:
    reason = str(job.get("FailureReason") or "")
    if len(reason) > limit:
        reason = reason[: limit - 1] + "\u2026"
    return f'<br><span class="note">{escape(reason)}</span>' if reason else ""


def _code(value: Any) -> str:
    return f"<code>{escape(str(value))}</code>" if value else "none"


def _active(job: dict[str, Any], key: str) -> bool:
    return job.get(key) in ACTIVE


def _objective(summary: dict[str, Any]) -> float | None:
    value = (summary.get("FinalHyperParameterTuningJobObjectiveMetric") or {}).get("Value")
    return value if _finite(value) else None


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _num(value: Any) -> str:
    return escape(f"{value:.4g}" if isinstance(value, float) else str(value))


def _tick(value: float) -> str:
    # Short enough for the chart's left margin: 1.6e-08, -1.23e+04, 0.472.
    return escape(f"{value:.3g}")


def _opt(value: Any) -> str:
    return "" if value is None else escape(str(value))


def _usd(value: Any) -> str:
    """Dollars to the cent, or to six places for the fractions of a cent short jobs cost."""
    if not _finite(value):
        return "unknown"
    if value >= 1 or value == 0:
        return f"${value:,.2f}"
    if value < 0.000001:
        return "under $0.000001"
    whole, _, fraction = f"{value:.6f}".partition(".")
    return f"${whole}.{fraction.rstrip('0').ljust(2, '0')}"


def _when(value: Any) -> str:
    return escape(value.strftime("%Y-%m-%d %H:%M:%S")) if isinstance(value, datetime) else ""


def _duration(start: Any, end: Any) -> str:
    if not (isinstance(start, datetime) and isinstance(end, datetime)):
        return "running" if isinstance(start, datetime) else ""
    seconds = (end - start).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
