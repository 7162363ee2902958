"""The command line's promises: every command has --help and --json, and errors are
one line on stderr with a non-zero exit code."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from groundfog.cli.main import app

runner = CliRunner()
ROOT = typer.main.get_command(app)
EXEMPT_FROM_JSON = {("up",), ("demo",)}  # a server and a narrated demo print no records


def _leaves(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if hasattr(group, "commands"):
        return [leaf for name, cmd in group.commands.items() for leaf in _leaves(cmd, path + (name,))]
    return [path]


COMMANDS = _leaves(ROOT)


def test_the_command_tree_has_every_service():
    groups = {path[0] for path in COMMANDS}
    assert {"storage", "events", "topics", "metrics", "alarms", "instances", "training", "processing", "tuning",
            "lab", "up"} <= groups


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_has_help_and_json(path):
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    if path not in EXEMPT_FROM_JSON:
        assert "--json" in result.output, f"{' '.join(path)} has no --json"


def test_errors_are_one_line_and_non_zero(tmp_path):
    env = {"GROUNDFOG_HOME": str(tmp_path)}
    cases = [
        ["storage", "mb", "s3://Bad_Name"],
        ["events", "put-rule", "--name", "r", "--event-pattern", '{"source": "aws.s3"}'],
        ["events", "put-rule", "--name", "r", "--schedule-expression", "cron(0 25 * * ? *)"],
        ["events", "test-event-pattern", "--event-pattern", "{nope", "--event", "{}"],
    ]
    for args in cases:
        proc = subprocess.run(
            [sys.executable, "-c", "from groundfog.cli.main import main; main()", *args],
            capture_output=True, text=True, env={**__import__("os").environ, **env}, timeout=60,
        )
        assert proc.returncode != 0, args
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, proc.stderr)
        assert "Traceback" not in proc.stderr + proc.stdout


def test_help_does_not_import_heavy_engines():
    code = (
        "import sys; from groundfog.cli.main import app;"
        "heavy = [m for m in ('sqlalchemy', 'fastapi', 'uvicorn', 's3fs', 'torch', 'ray') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"imported at --help time: {out.stdout.strip()}"
