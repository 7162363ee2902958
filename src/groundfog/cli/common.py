"""What every CLI command shares: the platform, output, and error handling.

A command is thin: parse, call one service operation, print. Errors become one line
on stderr and the error's exit code, never a traceback.

    @app.command("ls")
    @command
    def ls(bucket: str, as_json: JsonOption = False) -> None:
        output(platform().storage.list_buckets(), as_json=as_json)
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

import typer

from groundfog.core.errors import GroundfogError
from groundfog.core.serialize import to_jsonable

F = TypeVar("F", bound=Callable[..., Any])

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]

_platform: Any = None


def platform() -> Any:
    """The embedded ``Platform``, or a remote one when ``GROUNDFOG_URL`` is set."""
    global _platform
    if _platform is None:
        url = os.environ.get("GROUNDFOG_URL")
        if url:
            from groundfog.client import RemotePlatform

            _platform = RemotePlatform(url, token=os.environ.get("GROUNDFOG_API_TOKEN"))
        else:
            from groundfog.platform import Platform

            _platform = Platform()
    return _platform


def close_platform() -> None:
    global _platform
    if _platform is not None:
        _platform.close()
        _platform = None


def output(value: Any, *, as_json: bool, columns: Sequence[str] | None = None, title: str | None = None) -> None:
    """Print JSON (``--json``) or a rich table of ``columns`` for lists of records."""
    data = to_jsonable(value, by_alias=True)
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if isinstance(data, list) and columns:
        table = Table(title=title)
        for col in columns:
            table.add_column(col)
        for row in data:
            table.add_row(*(_cell(row.get(col) if isinstance(row, dict) else row) for col in columns))
        console.print(table)
    elif isinstance(data, (dict, list)):
        console.print_json(json.dumps(data, default=str))
    elif data is not None:
        console.print(data)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return str(value)


def parse_json_option(value: str | None, option: str) -> Any:
    """A JSON option's value, or a typed error naming the option and position."""
    if value is None:
        return None
    from groundfog.core.errors import ValidationError

    if value.startswith("file://"):
        path = value[len("file://"):]
        try:
            with open(path, encoding="utf-8") as f:
                value = f.read()
        except OSError as exc:
            raise ValidationError(f"{option}: cannot read {path}: {exc.strerror}", field=option) from None
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{option} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", field=option
        ) from None


def parse_pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """Repeated ``NAME=VALUE`` options as a dict; the error names the option.

    >>> parse_pairs(["a=1", "b=x=y"], "--env")
    {'a': '1', 'b': 'x=y'}
    """
    from groundfog.core.errors import ValidationError

    found: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValidationError(f"{option} expects NAME=VALUE, got {item!r}", field=option)
        found[key] = value
    return found


def fail(message: str, code: int = 1) -> None:
    sys.stderr.write(f"error: {message}\n")
    raise typer.Exit(code)


def command(fn: F) -> F:
    """Turn groundfog errors into one line on stderr and the error's exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GroundfogError as exc:
            fail(str(exc), exc.exit_code)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except OSError as exc:
            fail(str(exc), 1)
        except Exception as exc:
            # A bug, not the user's doing: one line unless they ask for the traceback.
            if os.environ.get("GROUNDFOG_DEBUG"):
                raise
            fail(f"internal error ({type(exc).__name__}: {exc}); set GROUNDFOG_DEBUG=1 for the traceback", 70)
        finally:
            close_platform()

    return wrapper  # type: ignore[return-value]
