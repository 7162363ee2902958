"""Console pages for pipelines: the pipelines with their recent executions, and one
execution drawn as its DAG (an inline SVG: a box per step, laid out by dependency
level and coloured by status, edges from upstream to downstream steps, condition
branches labelled true/false) with its steps table and lineage.

Every value comes from the pipelines service's public operations; every string a user
could have chosen (names, parameters, failure reasons, URIs) is escaped.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from groundfog.console.html import duration, fact_list, failure, layout_page, status_badge, table_rows, when
from groundfog.console.pages import template
from groundfog.core.paging import collect
from groundfog.pipelines.cli_view import NOT_RUN, NOT_TAKEN, dependency_order, job_arn, step_levels, step_states
from groundfog.pipelines.definition import Definition, parse_definition

if TYPE_CHECKING:
    from groundfog.platform import Platform

RECENT_EXECUTIONS = 10  # per pipeline on the list page
ACTIVE = ("Executing", "Stopping")
# (fill, stroke) of a step's box by its state
BOX_COLOURS = {"Succeeded": ("#dcf2e3", "#1c6b3a"), "Failed": ("#fbe0e0", "#9b1c1c"), "Stopped": ("#f1ece0", "#6b5a1c"),
               "Executing": ("#dfeefb", "#1f5f99"), "Starting": ("#dfeefb", "#1f5f99"), "Pending": ("#ffffff", "#8a99a8"),
               NOT_TAKEN: ("#f3f5f7", "#c3ccd5"), NOT_RUN: ("#f3f5f7", "#c3ccd5")}  # fmt: skip
BOX_HEIGHT, GAP_X, GAP_Y, MARGIN = 46, 64, 18, 16
NAME_CHARS = 24  # a longer step name is cut in its box (its tooltip has all of it)
JOB_PAGES = {"TrainingJob": "/console/training/", "TuningJob": "/console/tuning/"}  # Metadata key → console page


# -- pages -------------------------------------------------------------------------------


def render_pipelines(platform: "Platform") -> str:
    """Every pipeline with its latest version, and the recent executions of each."""
    pipelines = collect(platform.pipelines.list_pipelines, "PipelineSummaries")
    rows, executions = [], []
    for summary in pipelines:
        name = summary["PipelineName"]
        described = platform.pipelines.describe_pipeline(pipeline_name=name)
        recent = platform.pipelines.list_pipeline_executions(pipeline_name=name, max_results=RECENT_EXECUTIONS)
        recent = recent["PipelineExecutionSummaries"]
        executions += [(name, e) for e in recent]
        rows.append(
            f'<td id="pipeline-{escape(name)}"><b>{escape(name)}</b></td><td>{escape(str(summary.get("PipelineDescription") or ""))}</td>'
            f'<td class="num">{described.get("PipelineVersionId", "")}</td><td class="num">{len(recent)}</td>'
            f"<td>{when(summary.get('CreationTime'))}</td><td>{when(summary.get('LastExecutionTime'))}</td>"
        )  # fmt: skip
    executions.sort(key=lambda item: _epoch(item[1].get("StartTime")), reverse=True)
    content = template("pipelines.html").substitute(
        n_pipelines=len(pipelines),
        n_executions=len(executions),
        n_running=sum(e.get("PipelineExecutionStatus") in ACTIVE for _, e in executions),
        pipelines=table_rows(rows, 6),
        executions=table_rows([_execution_row(name, e) for name, e in executions], 5),
    )
    running = any(e.get("PipelineExecutionStatus") in ACTIVE for _, e in executions)
    return layout_page("Pipelines", content, refresh=running)


def render_pipeline_execution(platform: "Platform", execution_id: str) -> str:
    """One execution: its facts, its DAG with step states, its steps and its lineage.
    Raises ``ResourceNotFound`` for an execution that does not exist."""
    execution = platform.pipelines.describe_pipeline_execution(pipeline_execution_arn=execution_id)
    arn = execution["PipelineExecutionArn"]
    document = platform.pipelines.describe_pipeline_definition_for_execution(pipeline_execution_arn=arn)
    definition = parse_definition(document["PipelineDefinition"])
    steps = platform.pipelines.list_pipeline_execution_steps(pipeline_execution_arn=arn, sort_order="Ascending")
    steps = steps["PipelineExecutionSteps"]
    lineage = platform.pipelines.list_pipeline_execution_lineage(pipeline_execution_arn=arn)["LineageEntries"]
    status = execution["PipelineExecutionStatus"]
    pipeline = _pipeline_name(arn)
    facts = [
        ("pipeline", f'<a href="/console/pipelines#pipeline-{escape(pipeline)}">{escape(pipeline)}</a> '
                     f'version {escape(str(execution.get("PipelineVersionId", "")))}'),
        ("display name", escape(str(execution.get("PipelineExecutionDisplayName") or ""))),
        ("started", when(execution.get("CreationTime"))),
        ("ended", when(execution.get("EndTime"))),
        ("duration", duration(execution.get("CreationTime"), execution.get("EndTime"))),
        ("parameters", ", ".join(f"<code>{escape(str(p.get('Name')))}={escape(str(p.get('Value')))}</code>"
                                 for p in execution.get("PipelineParameters", [])) or "none"),
        ("ARN", f"<code>{escape(arn)}</code>"),
    ]  # fmt: skip
    content = template("pipeline_execution.html").substitute(
        execution_id=escape(_execution_id(arn)),
        pipeline=escape(pipeline),
        status=status_badge(status),
        failure=failure(execution.get("FailureReason")),
        facts=fact_list(facts),
        dag=dag_svg(definition, steps, status),
        steps=table_rows([_step_row(s) for s in steps], 8),
        lineage=table_rows([_lineage_row(e) for e in lineage], 5),
    )
    return layout_page(f"{pipeline} {_execution_id(arn)}", content, refresh=status in ACTIVE)


# -- the DAG -----------------------------------------------------------------------------


def dag_svg(definition: Definition, steps: list[dict[str, Any]], execution_status: str) -> str:
    """The DAG as an SVG: one column per dependency level, a box per step coloured by
    its state (a step whose branch was not taken is greyed and dashed), and an edge from
    each upstream step to each step after it, branch edges labelled true or false.

    >>> d = parse_definition({"Steps": [{"Name": "A", "Type": "Fail"}, {"Name": "B", "Type": "Fail", "DependsOn": ["A"]}]})
    >>> svg = dag_svg(d, [], "Executing")
    >>> svg.count('class="step'), svg.count('class="edge')
    (2, 1)
    """
    levels = step_levels(definition)
    states = step_states(definition, steps, execution_status)
    listed = {s["StepName"]: s for s in steps}
    columns: dict[int, list[str]] = {}
    for name in dependency_order(definition):
        columns.setdefault(levels[name], []).append(name)
    widest = max(max(8 * min(len(n), NAME_CHARS), 6.5 * len(_box_label(definition.steps[n], states[n], listed.get(n, {}))))
                 for n in definition.steps)  # fmt: skip
    box_width = int(max(120, min(widest + 24, 260)))
    positions = {name: (MARGIN + level * (box_width + GAP_X), MARGIN + row * (BOX_HEIGHT + GAP_Y))
                 for level, names in columns.items() for row, name in enumerate(names)}  # fmt: skip
    width = MARGIN * 2 + len(columns) * box_width + (len(columns) - 1) * GAP_X
    height = MARGIN * 2 + max(len(n) for n in columns.values()) * (BOX_HEIGHT + GAP_Y) - GAP_Y
    edges, boxes = [], []
    for name, step in definition.steps.items():
        x, y = positions[name]
        for up in sorted(step.upstream, key=list(definition.steps).index):
            ux, uy = positions[up]
            label = ("true" if step.branch[1] else "false") if step.branch and step.branch[0] == up else None
            taken = states[name] not in (NOT_TAKEN, NOT_RUN)
            edges.append(_edge((ux + box_width, uy + BOX_HEIGHT / 2), (x, y + BOX_HEIGHT / 2), label, taken, up, name))
        boxes.append(_box(step, states[name], listed.get(name, {}), x, y, box_width))
    return (
        f'<figure class="dag"><svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-size="12" role="img" aria-label="pipeline DAG">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#8a99a8"/></marker></defs>'
        + "".join(edges) + "".join(boxes)
        + "</svg></figure>"
    )  # fmt: skip


def _edge(start: tuple[float, float], end: tuple[float, float], label: str | None, taken: bool,
          upstream: str, downstream: str) -> str:  # fmt: skip
    (x1, y1), (x2, y2) = start, end
    bend = (x2 - x1) / 2
    # An edge that skips a level arcs over the boxes between instead of running behind them.
    lift = (BOX_HEIGHT / 2 + 8) * 4 / 3 if x2 - x1 > GAP_X + 1 else 0.0
    c1y, c2y = y1 - lift, y2 - lift
    dash = "" if taken else ' stroke-dasharray="4 3"'
    path = (f'<path class="edge" d="M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{c1y:.1f} {x2 - bend:.1f},{c2y:.1f} {x2:.1f},{y2:.1f}" '
            f'fill="none" stroke="#8a99a8" stroke-width="1.4"{dash} marker-end="url(#arrow)">'
            f"<title>{escape(upstream)} \u2192 {escape(downstream)}</title></path>")  # fmt: skip
    if label is None:
        return path
    colour = "#1c6b3a" if label == "true" else "#9b1c1c"
    # on the curve, past its bend, so labels of edges leaving the same box do not collide
    t = 0.72
    mx = (1 - t) ** 3 * x1 + 3 * (1 - t) ** 2 * t * (x1 + bend) + 3 * (1 - t) * t**2 * (x2 - bend) + t**3 * x2
    my = (1 - t) ** 3 * y1 + 3 * (1 - t) ** 2 * t * c1y + 3 * (1 - t) * t**2 * c2y + t**3 * y2
    return path + (f'<text class="edge-label" x="{mx:.1f}" y="{my - 5:.1f}" text-anchor="middle" fill="{colour}" '
                   f'font-size="11" font-weight="600">{label}</text>')  # fmt: skip


def _box(step: Any, state: str, entry: dict[str, Any], x: float, y: float, width: float) -> str:
    fill, stroke = BOX_COLOURS.get(state, ("#ffffff", "#8a99a8"))
    dash = ' stroke-dasharray="5 3"' if state in (NOT_TAKEN, NOT_RUN) else ""
    name = step.name if len(step.name) <= NAME_CHARS else step.name[: NAME_CHARS - 1] + "\u2026"
    label = _box_label(step, state, entry)
    tip = f"{step.name}: {label}"
    if entry.get("FailureReason") and state != "Succeeded":
        tip += f"\n{entry['FailureReason']}"
    box = (
        f'<g class="step s-{escape(state)}" data-step="{escape(step.name)}"><title>{escape(tip)}</title>'
        f'<rect x="{x}" y="{y}" width="{width}" height="{BOX_HEIGHT}" rx="7" fill="{fill}" stroke="{stroke}" '
        f'stroke-width="1.6"{dash}/>'
        f'<text x="{x + 10}" y="{y + 19}" font-weight="600" fill="#1d2733">{escape(name)}</text>'
        f'<text x="{x + 10}" y="{y + 36}" font-size="11" fill="{stroke}">{escape(label)}</text></g>'
    )  # fmt: skip
    link = _job_href(entry.get("Metadata") or {})
    return f'<a href="{link}">{box}</a>' if link else box


def _box_label(step: Any, state: str, entry: dict[str, Any]) -> str:
    label = {NOT_TAKEN: "not taken", NOT_RUN: "not run"}.get(state, state)
    if state == "Succeeded" and entry.get("CacheHitResult"):
        label += " (cached)"
    return f"{step.type} \u00b7 {label}"


# -- rows --------------------------------------------------------------------------------


def _execution_row(pipeline: str, e: dict[str, Any]) -> str:
    execution_id = _execution_id(e["PipelineExecutionArn"])
    reason = str(e.get("PipelineExecutionFailureReason") or "")
    return (
        f'<td><a href="/console/pipelines/executions/{quote(execution_id, safe="")}">{escape(execution_id)}</a>'
        f'{_display_name(e.get("PipelineExecutionDisplayName"), execution_id)}</td>'
        f"<td>{escape(pipeline)}</td><td>{status_badge(str(e.get('PipelineExecutionStatus', '')))}</td>"
        f"<td>{when(e.get('StartTime'))}</td><td>{escape(reason)}</td>"
    )


def _step_row(s: dict[str, Any]) -> str:
    status = str(s.get("StepStatus", ""))
    cached = s.get("CacheHitResult", {}).get("SourcePipelineExecutionArn")
    cache_note = ""
    if cached:
        source = _execution_id(cached)
        cache_note = (f'<br><span class="note">cached from <a href="/console/pipelines/executions/{quote(source, safe="")}">'
                      f"{escape(source)}</a></span>")  # fmt: skip
    return (
        f"<td><b>{escape(s['StepName'])}</b></td><td>{escape(str(s.get('StepType', '')))}</td>"
        f"<td>{status_badge(status)}{cache_note}</td><td class=\"num\">{escape(str(s.get('AttemptCount', '')))}</td>"
        f"<td>{_job_cell(s.get('Metadata') or {})}</td><td>{when(s.get('StartTime'))}</td>"
        f'<td class="num">{duration(s.get("StartTime"), s.get("EndTime"))}</td>'
        f"<td>{escape(str(s.get('FailureReason') or ''))}</td>"
    )


def _lineage_row(e: dict[str, Any]) -> str:
    return (
        f"<td>{escape(str(e.get('StepName') or '(parameters)'))}</td><td>{escape(str(e.get('Direction', '')))}</td>"
        f"<td>{escape(str(e.get('Kind', '')))}</td><td><code>{escape(str(e.get('Uri', '')))}</code></td>"
        f"<td>{escape(str(e.get('ETag') or ''))}</td>"
    )


def _job_cell(metadata: dict[str, Any]) -> str:
    """The step's job (a link to its page for training and tuning jobs), or its callback token."""
    arn = job_arn(metadata)
    if arn is None:
        token = (metadata.get("Callback") or {}).get("CallbackToken")
        return f'<span class="note">callback token</span> <code>{escape(token)}</code>' if token else ""
    name = arn.rsplit("/", 1)[-1]
    href = _job_href(metadata)
    return f'<a href="{href}">{escape(name)}</a>' if href else f'<code title="{escape(arn)}">{escape(name)}</code>'


def _job_href(metadata: dict[str, Any]) -> str | None:
    for key, page in JOB_PAGES.items():
        arn = (metadata.get(key) or {}).get("Arn")
        if isinstance(arn, str):
            return page + quote(arn.rsplit("/", 1)[-1], safe="")
    return None


def _display_name(display: Any, execution_id: str) -> str:
    if not display or display == execution_id:
        return ""
    return f'<br><span class="note">{escape(str(display))}</span>'


def _epoch(value: Any) -> float:
    return value.timestamp() if hasattr(value, "timestamp") else 0.0


def _pipeline_name(arn: str) -> str:
    return arn.split(":pipeline/", 1)[-1].split("/execution/", 1)[0]


def _execution_id(arn: str) -> str:
    return arn.rsplit("/execution/", 1)[-1]
