"""Fixtures for pipelines: a platform with the test handlers registered as functions."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent
FUNCTIONS = ("double", "noop", "echo", "flaky", "sleepy", "append")


def register_functions(platform) -> dict[str, str]:
    """``{name: function ARN}`` for every handler of ``pl_fns``."""
    return {name: platform.events.create_function(name=f"pl-{name}", handler=f"pl_fns:{name}",
                                                  code_path=str(HERE)).function_arn
            for name in FUNCTIONS}


@pytest.fixture
def fns(platform) -> dict[str, str]:
    return register_functions(platform)
