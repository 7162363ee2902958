"""Pieces every console page shares: the layout, tables, facts, status badges and the
formatting of values (every string a user could have chosen is escaped here).

>>> status_badge("Completed")
'<span class="status s-Completed">Completed</span>'
>>> duration(None, None), optional(None)
('', '')
"""

from __future__ import annotations

import math
from datetime import datetime
from html import escape
from typing import Any

from groundfog.console.pages import template


def layout_page(title: str, content: str, *, refresh: bool) -> str:
    # A running job's page reloads itself: no script needed.
    return template("layout.html").substitute(
        title=escape(title), content=content, refresh='<meta http-equiv="refresh" content="5">\n' if refresh else ""
    )

def table_rows(cells: list[str], columns: int) -> str:
    if not cells:
        return f'<tr><td colspan="{columns}" class="empty">none yet</td></tr>'
    return "\n".join(c if c.startswith("<tr") else f"<tr>{c}</tr>" for c in cells)

def fact_list(pairs: list[tuple[str, str]]) -> str:
    return "\n".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in pairs)

def failure(reason: str | None) -> str:
    return f'<p class="failure"><b>Failure reason</b>\n{escape(reason)}</p>' if reason else ""

def status_badge(status: str) -> str:
    return f'<span class="status s-{escape(status)}">{escape(status)}</span>'

def code(value: Any) -> str:
    return f"<code>{escape(str(value))}</code>" if value else "none"

def finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

def num(value: Any) -> str:
    return escape(f"{value:.4g}" if isinstance(value, float) else str(value))

def optional(value: Any) -> str:
    return "" if value is None else escape(str(value))

def when(value: Any) -> str:
    return escape(value.strftime("%Y-%m-%d %H:%M:%S")) if isinstance(value, datetime) else ""

def duration(start: Any, end: Any) -> str:
    if not (isinstance(start, datetime) and isinstance(end, datetime)):
        return "running" if isinstance(start, datetime) else ""
    seconds = (end - start).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"

def tick(value: float) -> str:
    # Short enough for the chart's left margin: 1.6e-08, -1.23e+04, 0.472.
    return escape(f"{value:.3g}")
