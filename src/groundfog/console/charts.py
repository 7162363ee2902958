"""SVG charts for the console: a line chart of metric series by step (training curves)
and a scatter of an objective by trial (tuning leaderboards). No script, no library:
the server draws them."""

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
