"""``groundfog lab [NAME]``: list the labs, or run one and show its checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from groundfog.cli.common import JsonOption, command, output

if TYPE_CHECKING:
    from rich.console import Console

    from groundfog.labs import LabResult


@command
def lab(
    name: Annotated[str | None, typer.Argument(help="The lab to run; omit to list them.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Run a seed note as a self-checking lab (no NAME: list the labs)."""
    from groundfog.labs import LABS, run_lab

    if name is None:
        output([{"name": lab.name, "note": lab.note} for lab in LABS.values()], as_json=as_json, columns=["name", "note"])
        return
    result = run_lab(name)
    _show(result, as_json)
    if not result.passed:
        raise typer.Exit(1)


def _show(result: "LabResult", as_json: bool) -> None:
    from dataclasses import asdict

    if as_json:
        output({**asdict(result), "passed": result.passed}, as_json=True)
    else:
        from rich.console import Console

        console = Console()
        print_checks(console, result)
        console.print("[green]lab passed[/green]" if result.passed else "[red]lab FAILED[/red]")


def print_checks(console: "Console", result: "LabResult") -> None:
    """The lab's note, then each check with what it saw (escaped: details quote alarm
    reasons and data, whose brackets are not markup)."""
    from rich.markup import escape

    console.print(f"[bold]{escape(result.name)}[/bold]: [italic]{escape(result.note)}[/italic]")
    for check in result.checks:
        mark = "[green]✓[/green]" if check.passed else "[red]✗[/red]"
        console.print(f" {mark} {escape(check.claim)}" + (f" [dim]— {escape(check.detail)}[/dim]" if check.detail else ""))
