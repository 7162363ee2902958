"""Console pages for real-time endpoints: every endpoint with its variants and any
deployment under way, and one endpoint with its variants, the traffic-shifting timeline
of its deployments (an SVG step chart of the new fleet's share of traffic, a rollback in
red with its reason), its history, and each variant's invocations, errors and latency
over the last hour.

Every value comes from the serving and metrics services' public operations; every
string a user could have chosen (names, history messages, alarm reasons, failure
reasons) is escaped.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from groundfog.console.charts import line_chart, step_chart
from groundfog.console.html import fact_list, failure, finite, layout_page, num, status_badge, table_rows, when
from groundfog.console.pages import template
from groundfog.core.errors import ResourceNotFound, ValidationError
from groundfog.core.paging import collect
from groundfog.serving.base import MOVING

if TYPE_CHECKING:
    from groundfog.platform import Platform

Line = tuple[str, list[tuple[float, float, str]], str | None]  # a step_chart line

HISTORY_ROWS = 200  # newest first; older lines are left off the page
NAMESPACE = "AWS/SageMaker"
WINDOW_MINUTES = 60
COUNTS = (("invocations", "Invocations"), ("4XX errors", "Invocation4XXErrors"), ("5XX errors", "Invocation5XXErrors"))
LATENCIES = (("model latency", "ModelLatency"), ("overhead latency", "OverheadLatency"))


# -- pages -------------------------------------------------------------------------------


def render_endpoints(platform: "Platform") -> str:
    """Every endpoint, newest first: status, config, variants, a deployment under way."""
    described = []
    for summary in collect(platform.serving.list_endpoints, "Endpoints"):
        try:
            described.append(platform.serving.describe_endpoint(endpoint_name=summary["EndpointName"]))
        except ResourceNotFound:  # deleted since it was listed
            continue
    statuses = [d["EndpointStatus"] for d in described]
    content = template("endpoints.html").substitute(
        n_endpoints=len(described),
        n_in_service=statuses.count("InService"),
        n_moving=sum(s in MOVING for s in statuses),
        n_failed=statuses.count("Failed"),
        endpoints=table_rows([_endpoint_row(d) for d in described], 6),
    )
    return layout_page("Endpoints", content, refresh=any(s in MOVING for s in statuses))


def render_endpoint(platform: "Platform", name: str) -> str:
    """One endpoint: facts, variants, traffic-shifting timeline, history and metrics.
    Raises ``ResourceNotFound`` for a name no endpoint has (or could have)."""
    try:
        endpoint = platform.serving.describe_endpoint(endpoint_name=name)
    except ValidationError:  # a name no endpoint can have is not found, to a person reading
        raise ResourceNotFound(f"endpoint {name!r} does not exist", field="EndpointName") from None
    history = platform.serving.list_endpoint_history(endpoint_name=name)["History"]
    status = endpoint["EndpointStatus"]
    now = platform.clock.time()
    lines = deployment_lines(history, now=datetime.fromtimestamp(now, timezone.utc) if status == "Updating" else None)
    timeline = (step_chart(lines, x_label="seconds since the update started", y_label="% of traffic on the new fleet")
                if lines else '<p class="empty">no deployments yet: traffic shifts when the endpoint is updated '
                              "to another config</p>")  # fmt: skip
    shown = list(reversed(history))[:HISTORY_ROWS]
    history_note = (f'<p class="note">The newest {HISTORY_ROWS} of {len(history)} lines, newest first.</p>'
                    if len(history) > HISTORY_ROWS else '<p class="note">Newest first.</p>')  # fmt: skip
    window_end = (math.floor(now / 60) + 1) * 60  # the current minute is the last value
    window_start = window_end - WINDOW_MINUTES * 60
    content = template("endpoint.html").substitute(
        name=escape(endpoint["EndpointName"]),
        status=status_badge(status),
        config=escape(str(endpoint.get("EndpointConfigName", ""))),
        failure=failure(endpoint.get("FailureReason")),
        facts=fact_list(_facts(endpoint)),
        variants=table_rows(_variant_rows(endpoint, _model_names(platform, endpoint)), 8),
        timeline=timeline,
        history_note=history_note,
        history=table_rows([_history_row(h) for h in shown], 4),
        window_start=_minute(window_start),
        window_end=_minute(window_end),
        metrics=_metrics(platform, endpoint, window_start),
    )
    return layout_page(endpoint["EndpointName"], content, refresh=status in MOVING)


# -- the traffic-shifting timeline -------------------------------------------------------


def deployment_lines(history: list[dict[str, Any]], *, now: datetime | None = None) -> list[Line]:
    """One step_chart line per deployment in ``history`` (oldest first): the new fleet's
    share in percent by seconds since its UpdateStarted, each traffic shift a step, ending
    at Completed or at the rollback (drawn red, the reason its failure). A deployment still
    under way is drawn up to ``now`` when it is given.

    >>> from datetime import timedelta
    >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> at = lambda s: t0 + timedelta(seconds=s)
    >>> lines = deployment_lines([
    ...     {"Time": at(0), "Stage": "UpdateStarted", "Message": "updating to v2 (CANARY)", "Detail": {"Type": "CANARY"}},
    ...     {"Time": at(2), "Stage": "TrafficShifted", "Message": "20%", "Detail": {"GreenShare": 0.2}},
    ...     {"Time": at(5), "Stage": "RollingBack", "Message": "back", "Detail": {"GreenShare": 0.0, "Reason": "5XX"}},
    ...     {"Time": at(6), "Stage": "RolledBack", "Message": "in service on v1 again"}])
    >>> [(x, y) for x, y, _ in lines[0][1]], lines[0][2]
    ([(0.0, 0.0), (2.0, 20.0), (5.0, 0.0)], '5XX')
    """
    lines: list[Line] = []
    current: dict[str, Any] | None = None

    def close(outcome: str, failed: str | None = None) -> None:
        nonlocal current
        assert current is not None
        label = f"{current['start'].strftime('%H:%M:%S')} {current['message']}: {outcome}"
        lines.append((label, current["points"], failed))
        current = None

    for entry in history:
        stage, at, message = entry["Stage"], entry["Time"], str(entry.get("Message", ""))
        detail = entry.get("Detail") or {}
        if stage == "UpdateStarted":
            if current is not None:
                close("superseded")
            # "updating to v2 (CANARY); starting the new fleet": the part before ";" names it
            current = {"start": at, "message": message.split(";")[0], "points": [(0.0, 0.0, f"0 s: {message}")]}
            continue
        if current is None:
            continue
        seconds = (at - current["start"]).total_seconds()
        share = _percent(detail.get("GreenShare"))
        if stage == "TrafficShifted" and share is not None:
            current["points"].append((seconds, share, f"{seconds:.1f} s: {message}"))
        elif stage == "Completed":
            current["points"].append((seconds, 100.0 if share is None else share, f"{seconds:.1f} s: {message}"))
            close(f"completed in {seconds:.1f} s")
        elif stage == "RollingBack" and share:  # a rolling update's rollback, batch by batch
            current["reason"] = str(detail.get("Reason") or message)
            current["points"].append((seconds, share, f"{seconds:.1f} s: {stage}: {current['reason']}"))
        elif stage == "RollbackShifted" and share is not None:
            current["points"].append((seconds, share, f"{seconds:.1f} s: {message}"))
        elif stage in ("RollingBack", "RolledBack"):
            reason = current.get("reason") or str(detail.get("Reason") or message)
            current["points"].append((seconds, 0.0, f"{seconds:.1f} s: {stage}: {reason}"))
            close(f"rolled back after {seconds:.1f} s", reason)
        elif stage == "Deleting":
            close(f"ended by the endpoint's deletion after {seconds:.1f} s")
    if current is not None:
        if now is not None:
            seconds = max((now - current["start"]).total_seconds(), current["points"][-1][0])
            current["points"].append((seconds, current["points"][-1][1], f"{seconds:.1f} s: now"))
        close("under way")
    return lines


def deployment_progress(endpoint: dict[str, Any]) -> str:
    """A deployment under way in a few words (plain text), or "".

    >>> deployment_progress({"DeploymentProgress": {"Type": "CANARY", "Phase": "Baking", "Step": 1, "Steps": 2,
    ...                                             "NewFleetShare": 0.1}})
    'CANARY step 1/2, new fleet 10%'
    """
    progress = endpoint.get("DeploymentProgress")
    if not progress:
        return ""
    share = _percent(progress.get("NewFleetShare")) or 0.0
    return f"{progress.get('Type', '')} step {progress.get('Step', '')}/{progress.get('Steps', '')}, new fleet {share:.3g}%"


def _percent(share: Any) -> float | None:
    return round(float(share) * 100, 6) if finite(share) else None


# -- rows and facts ----------------------------------------------------------------------


def _endpoint_row(d: dict[str, Any]) -> str:
    name = d["EndpointName"]
    variants = [_variant_summary(v) for v in d.get("ProductionVariants", [])]
    variants += [_variant_summary(v, shadow=True) for v in d.get("ShadowProductionVariants", [])]
    return (
        f'<td><a href="/console/endpoints/{quote(name, safe="")}">{escape(name)}</a></td>'
        f"<td>{status_badge(d['EndpointStatus'])}</td><td>{escape(str(d.get('EndpointConfigName', '')))}</td>"
        f"<td>{'<br>'.join(variants)}</td><td>{_pending(d)}</td><td>{when(d.get('LastModifiedTime'))}</td>"
    )


def _variant_summary(v: dict[str, Any], *, shadow: bool = False) -> str:
    mark = ' <span class="note">shadow</span>' if shadow else ""
    return (f"<b>{escape(str(v.get('VariantName', '')))}</b>{mark} weight {num(v.get('CurrentWeight', ''))}, "
            f"{num(v.get('CurrentInstanceCount', 0))}/{num(v.get('DesiredInstanceCount', 0))} instances")  # fmt: skip


def _pending(d: dict[str, Any]) -> str:
    progress = deployment_progress(d)
    if not progress:
        return ""
    pending = d.get("PendingDeploymentSummary") or {}
    phase = (d.get("DeploymentProgress") or {}).get("Phase")
    return (f"{escape(progress)} <span class=\"note\">({escape(str(phase))}) to "
            f"{escape(str(pending.get('EndpointConfigName', '')))}</span>")  # fmt: skip


def _facts(d: dict[str, Any]) -> list[tuple[str, str]]:
    pending = d.get("PendingDeploymentSummary")
    under_way = "none"
    if pending:
        under_way = f"{_pending(d)}, started {when(pending.get('StartTime'))}"
    return [
        ("status", status_badge(d["EndpointStatus"])),
        ("config", escape(str(d.get("EndpointConfigName", "")))),
        ("deployment under way", under_way),
        ("last deployment config", _policy(d.get("LastDeploymentConfig"))),
        ("data capture", _capture(d.get("DataCaptureConfig"))),
        ("created", when(d.get("CreationTime"))),
        ("last modified", when(d.get("LastModifiedTime"))),
        ("ARN", f"<code>{escape(str(d.get('EndpointArn', '')))}</code>"),
    ]


def _policy(policy: dict[str, Any] | None) -> str:
    """A DeploymentConfig in a line: its kind, step size and waits, and its alarms."""
    if not policy:
        return "none"
    if "RollingUpdatePolicy" in policy:
        rolling = policy["RollingUpdatePolicy"]
        text = f"ROLLING, batches of {_size(rolling.get('MaximumBatchSize'))}, wait {rolling.get('WaitIntervalInSeconds')} s"
    else:
        routing = (policy.get("BlueGreenUpdatePolicy") or {}).get("TrafficRoutingConfiguration") or {}
        size = routing.get("CanarySize") or routing.get("LinearStepSize")
        text = str(routing.get("Type", "ALL_AT_ONCE")) + (f" {_size(size)}" if size else "")
        text += f", wait {routing.get('WaitIntervalInSeconds', 0)} s"
    alarms = [str(a.get("AlarmName")) for a in (policy.get("AutoRollbackConfiguration") or {}).get("Alarms", [])]
    if alarms:
        text += f", rolls back on {', '.join(alarms)}"
    return escape(text)


def _size(size: dict[str, Any] | None) -> str:
    if not size:
        return ""
    return f"{size.get('Value')}%" if size.get("Type") == "CAPACITY_PERCENT" else f"{size.get('Value')} instance(s)"


def _capture(capture: dict[str, Any] | None) -> str:
    if not capture or not capture.get("EnableCapture"):
        return "off"
    return (f"{num(capture.get('CurrentSamplingPercentage', ''))}% of requests to "
            f"<code>{escape(str(capture.get('DestinationS3Uri', '')))}</code> "
            f"({escape(str(capture.get('CaptureStatus', '')))})")  # fmt: skip


def _model_names(platform: "Platform", d: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(config, variant) → model name, from the endpoint's current and pending configs:
    DescribeEndpoint names only each variant's image, but a person thinks in models."""
    configs = {d.get("EndpointConfigName"), (d.get("PendingDeploymentSummary") or {}).get("EndpointConfigName")}
    names: dict[tuple[str, str], str] = {}
    for config in filter(None, configs):
        try:
            described = platform.serving.describe_endpoint_config(endpoint_config_name=config)
        except ResourceNotFound:  # deleted since: the row shows the image instead
            continue
        for v in described.get("ProductionVariants", []) + described.get("ShadowProductionVariants", []):
            names[(config, v["VariantName"])] = v["ModelName"]
    return names


def _variant_rows(d: dict[str, Any], models: dict[tuple[str, str], str]) -> list[str]:
    current, new = f"current ({d.get('EndpointConfigName', '')})", ""
    pending = d.get("PendingDeploymentSummary") or {}
    if pending:  # while traffic shifts, each fleet's share says how much its weights carry
        share = _percent((d.get("DeploymentProgress") or {}).get("NewFleetShare")) or 0.0
        new = f"new ({pending.get('EndpointConfigName', '')}), {share:.3g}% of traffic"
        current += f", {100 - share:.3g}% of traffic"
    config, pending_config = d.get("EndpointConfigName", ""), pending.get("EndpointConfigName", "")
    rows = [_variant_row(v, current, "", models.get((config, v["VariantName"])))
            for v in d.get("ProductionVariants", [])]
    rows += [_variant_row(v, f"{current}, shadow", "shadow", models.get((config, v["VariantName"])))
             for v in d.get("ShadowProductionVariants", [])]
    rows += [_variant_row(v, new, "pending", models.get((pending_config, v["VariantName"])))
             for v in pending.get("ProductionVariants", [])]
    return rows


def _variant_row(v: dict[str, Any], fleet: str, kind: str, model: str | None) -> str:
    images = model or ", ".join(str(i.get("SpecifiedImage", "")) for i in v.get("DeployedImages", []))
    status = "<br>".join(f"{escape(str(s.get('Status', '')))} <span class=\"note\">{escape(str(s.get('StatusMessage', '')))}</span>"
                         for s in v.get("VariantStatus", []))  # fmt: skip
    mark = ' <span class="status s-shadow">shadow</span>' if kind == "shadow" else ""
    row_class = f' class="{kind}"' if kind else ""
    return (
        f'<tr{row_class}><td><b>{escape(str(v.get("VariantName", "")))}</b>{mark}</td><td>{escape(fleet)}</td>'
        f"<td>{escape(images)}</td><td class=\"num\">{num(v.get('CurrentWeight', ''))}</td>"
        f"<td class=\"num\">{num(v.get('DesiredWeight', ''))}</td><td class=\"num\">{num(v.get('CurrentInstanceCount', 0))}</td>"
        f"<td class=\"num\">{num(v.get('DesiredInstanceCount', 0))}</td><td>{status or 'in service'}</td></tr>"
    )


def _history_row(h: dict[str, Any]) -> str:
    detail = h.get("Detail")
    shown = f"<code>{escape(json.dumps(detail, sort_keys=True, default=str))}</code>" if detail else ""
    return (f"<td>{when(h.get('Time'))}</td><td>{status_badge(str(h.get('Stage', '')))}</td>"
            f"<td>{escape(str(h.get('Message', '')))}</td><td>{shown}</td>")  # fmt: skip


# -- metrics -----------------------------------------------------------------------------


def _metrics(platform: "Platform", d: dict[str, Any], start: float) -> str:
    """Per variant: invocations and errors per minute, and average latency per minute. A
    variant the endpoint no longer has is shown only when it served in the window."""
    name = d["EndpointName"]
    current = [str(v["VariantName"]) for key in ("ProductionVariants", "ShadowProductionVariants")
               for v in d.get(key, [])]  # fmt: skip
    current += [str(v["VariantName"]) for v in (d.get("PendingDeploymentSummary") or {}).get("ProductionVariants", [])]
    published = platform.metrics.list_metrics(namespace=NAMESPACE, metric_name="Invocations",
                                              dimensions=[{"Name": "EndpointName", "Value": name}])  # fmt: skip
    earlier = sorted({dim.value for m in published for dim in m.dimensions if dim.name == "VariantName"} - set(current))
    blocks = []
    for variant in dict.fromkeys(current + earlier):
        counts = {label: _per_minute(platform, name, variant, metric, "Sum", start) for label, metric in COUNTS}
        if not any(finite(v) for values in counts.values() for v in values):
            if variant in current:
                blocks.append(f'<h3>{escape(variant)}</h3><p class="empty">no invocations in the last hour</p>')
            continue
        counts = {label: [v if finite(v) else 0.0 for v in values] for label, values in counts.items()}
        latency = {label: _per_minute(platform, name, variant, metric, "Average", start) for label, metric in LATENCIES}
        served = [i for values in latency.values() for i, v in enumerate(values) if finite(v)]
        # up to the last minute with a latency, so the legend's "last" is a measured value
        latency = {label: values[: max(served) + 1] for label, values in latency.items()} if served else {}
        retired = "" if variant in current else ' <span class="note">(no longer on the endpoint)</span>'
        blocks.append(
            f"<h3>{escape(variant)}{retired}</h3><h4>Invocations and errors per minute</h4>{line_chart(counts)}"
            "<h4>Latency, average per minute (microseconds)</h4>"
            + (line_chart(latency) if latency else '<p class="empty">no latency recorded</p>')
        )
    return "".join(blocks) or '<p class="empty">this endpoint has no variants yet</p>'


def _per_minute(platform: "Platform", endpoint: str, variant: str, metric: str, statistic: str, start: float) -> list[float]:
    """The statistic of each minute of the window (NaN where nothing was published)."""
    found = platform.metrics.get_metric_statistics(
        NAMESPACE, metric, [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}],
        start_time=start, end_time=start + WINDOW_MINUTES * 60, period=60, statistics=[statistic],
    )
    values = [math.nan] * WINDOW_MINUTES
    for point in found.datapoints:
        minute = int((point.timestamp.timestamp() - start) // 60)
        value = point.sum if statistic == "Sum" else point.average
        if 0 <= minute < WINDOW_MINUTES and value is not None:
            values[minute] = value
    return values


def _minute(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%H:%M")
