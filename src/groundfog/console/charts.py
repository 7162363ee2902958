"""SVG charts for the console: a line chart of metric series by step (training curves),
a scatter of an objective by trial (tuning leaderboards) and a step chart of shares over
time (an endpoint's traffic shifting). No script, no library: the server draws them."""

from __future__ import annotations

import math
from html import escape

from groundfog.console.html import finite, num, tick

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
MARGINS = (76, 18, 12, 34)  # left, right, top, bottom of a chart's plotting area
MAX_POINTS = 2000  # per polyline; longer series are thinned evenly (the note says so)


def line_chart(series: dict[str, list[float]], *, width: int = 720, height: int = 280) -> str:
    """An SVG line chart of each series by step (its position), with a legend.

    >>> svg = line_chart({"loss": [3.0, 2.0, 1.5]})
    >>> svg.count("<polyline"), 'class="y-max">3<' in svg, 'class="y-min">1.5<' in svg
    (1, True, True)
    """
    left, right, top, bottom = MARGINS
    drawn = [v for values in series.values() for v in values if finite(v)]
    y_min, y_max = _span(drawn)
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
        kept = [(s, v) for s, v in enumerate(values) if finite(v) and (s % stride == 0 or s == len(values) - 1)]
        points = " ".join(f"{x(s):.1f},{y(v):.1f}" for s, v in kept)
        lines.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.8" points="{points}"><title>{escape(metric)}</title></polyline>')
        if len(kept) == 1:  # a single value draws no line; show it as a dot
            lines.append(f'<circle cx="{x(kept[0][0]):.1f}" cy="{y(kept[0][1]):.1f}" r="3" fill="{colour}"/>')
        last = f" last {num(values[-1])}" if values else ""
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
        label = f"trial {trial}: {job} = {num(value)}{' (best)' if best else ''}{' (early stopped)' if early else ''}"
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
        f'<text x="{left - 6}" y="{y_max[0] + 4:.1f}" text-anchor="end" class="y-max">{tick(y_max[1])}</text>'
        f'<text x="{left - 6}" y="{y_min[0]:.1f}" text-anchor="end" class="y-min">{tick(y_min[1])}</text>'
        f'<line x1="{left - 3}" y1="{y_max[0]:.1f}" x2="{left}" y2="{y_max[0]:.1f}" stroke="#8a99a8"/>'
        f'<line x1="{left - 3}" y1="{y_min[0]:.1f}" x2="{left}" y2="{y_min[0]:.1f}" stroke="#8a99a8"/>'
        f'<text x="{x_first[0]:.1f}" y="{base + 15}" text-anchor="middle">{escape(x_first[1])}</text>'
        f'<text x="{x_last[0]:.1f}" y="{base + 15}" text-anchor="middle">{escape(x_last[1])}</text>'
        f'<text x="{(left + end) / 2:.0f}" y="{base + 28}" text-anchor="middle">{escape(x_label)}</text>'
    )


def _span(values: list[float]) -> tuple[float, float]:
    """(min, max) of the values, widened when they are all equal so the chart has a height."""
    drawn = [v for v in values if finite(v)]
    if not drawn:
        return 0.0, 1.0
    lo, hi = min(drawn), max(drawn)
    if lo == hi:
        pad = abs(lo) * 0.05 or 1.0
        return lo - pad, hi + pad
    return lo, hi


ROLLED_BACK = "#d62728"  # PALETTE's red, kept for lines that ended in a rollback


def step_chart(lines: list[tuple[str, list[tuple[float, float, str]], str | None]], *, x_label: str, y_label: str,
               y_max: float = 100.0, width: int = 720, height: int = 280) -> str:  # fmt: skip
    """An SVG step chart of (label, points, failure) lines, y from 0 to ``y_max``: each
    line holds a point's value until its next point's x. Points are (x, y, tooltip); a
    line with a failure is drawn red and dashed and ends in a cross whose tooltip, like
    its legend entry, gives the failure.

    >>> import re
    >>> svg = step_chart([("update 1", [(0, 0, "started"), (5, 20, "canary"), (9, 100, "all")], None)],
    ...                  x_label="seconds", y_label="% of traffic")
    >>> svg.count("<polyline"), [float(v) for v in re.findall(r'data-y="([^"]+)"', svg)]
    (1, [0.0, 20.0, 100.0])
    """
    left, right, top, bottom = MARGINS
    x_max = max((x for _, points, _ in lines for x, _, _ in points), default=0.0)
    x_max = x_max if finite(x_max) and x_max > 0 else 1.0

    def x(value: float) -> float:
        return left + (width - left - right) * value / x_max

    def y(value: float) -> float:
        return top + (height - top - bottom) * (y_max - min(max(value, 0.0), y_max)) / y_max

    grid = "".join(
        f'<line x1="{left}" y1="{y(y_max * q):.1f}" x2="{width - right}" y2="{y(y_max * q):.1f}" stroke="#eef3f7"/>'
        f'<text x="{left - 6}" y="{y(y_max * q) + 4:.1f}" text-anchor="end">{tick(y_max * q)}</text>'
        for q in (0.25, 0.5, 0.75)
    )
    colours = [c for c in PALETTE if c != ROLLED_BACK]
    drawn, legend = [], []
    for i, (label, points, failed) in enumerate(lines):
        colour = ROLLED_BACK if failed else colours[i % len(colours)]
        corners = []
        for k, (px, py, _) in enumerate(points):
            if k:  # hold the previous value up to this x, then step
                corners.append(f"{x(px):.1f},{y(points[k - 1][1]):.1f}")
            corners.append(f"{x(px):.1f},{y(py):.1f}")
        dash = ' stroke-dasharray="6 3"' if failed else ""
        tip = f"{label}: {failed}" if failed else label
        drawn.append(f'<g class="{"rolled-back" if failed else "line"}">'
                     f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{" ".join(corners)}">'
                     f"<title>{escape(tip)}</title></polyline>")  # fmt: skip
        for px, py, note in points:
            drawn.append(f'<circle cx="{x(px):.1f}" cy="{y(py):.1f}" r="3.5" fill="{colour}" data-x="{px:.3f}" '
                         f'data-y="{py:g}"><title>{escape(note)}</title></circle>')  # fmt: skip
        if failed and points:
            cx, cy = x(points[-1][0]), y(points[-1][1])
            drawn.append(f'<path class="rollback" d="M{cx - 6:.1f},{cy - 6:.1f} L{cx + 6:.1f},{cy + 6:.1f} '
                         f'M{cx - 6:.1f},{cy + 6:.1f} L{cx + 6:.1f},{cy - 6:.1f}" stroke="{ROLLED_BACK}" '
                         f'stroke-width="2.5"><title>{escape(failed)}</title></path>')  # fmt: skip
        drawn.append("</g>")
        note = f' <span class="failure-note">{escape(failed)}</span>' if failed else ""
        legend.append(f'<li><i style="background:{colour}"></i>{escape(label)}{note}</li>')
    return (
        f'<figure class="chart"><svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-size="11" role="img" aria-label="{escape(y_label)}">'
        + _axes(width, height, (y(0), 0.0), (y(y_max), y_max), (x(0), "0"), (x(x_max), f"{x_max:.3g}"), x_label)
        + grid
        + f'<text transform="translate(14 {(top + height - bottom) / 2:.0f}) rotate(-90)" text-anchor="middle">'
        f"{escape(y_label)}</text>"
        + "".join(drawn)
        + f'</svg><ul class="legend">{"".join(legend)}</ul></figure>'
    )
