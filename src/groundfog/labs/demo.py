"""``groundfog demo``: the end-to-end scenario, on a throwaway home directory.

It grows with each service: today it runs every lab, the seed's scenario among them
(``retrain-on-upload``: a real data set uploaded, EventBridge starting the pipeline,
preprocess → train → evaluate → register, then a corrupted upload failing with the
line at fault), and exits non-zero if any check fails.
"""

from __future__ import annotations

import typer
from rich.console import Console

from groundfog.labs import LABS, run_lab
from groundfog.labs.cli import print_checks


def run_demo() -> None:
    console = Console()
    failed = 0
    for name in LABS:
        with console.status(f"running lab {name}"):
            result = run_lab(name)
        print_checks(console, result)
        failed += not result.passed
    console.print("[green]demo passed[/green]" if not failed else f"[red]{failed} lab(s) failed[/red]")
    if failed:
        raise typer.Exit(1)
