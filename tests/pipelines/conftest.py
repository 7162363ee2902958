"""Fixtures for pipelines: a platform with the test handlers registered as functions."""

from __future__ import annotations

import pytest
from pipeline_helpers import register_functions


@pytest.fixture
def fns(platform) -> dict[str, str]:
    return register_functions(platform)
