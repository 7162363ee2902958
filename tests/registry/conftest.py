"""Registry fixtures: a platform whose object store holds a model and its evaluation
report, on SQLite (``rp``) or on every state store (``any_rp``: SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from registry_helpers import make_platform


@pytest.fixture
def rp(tmp_path: Path) -> Iterator[Any]:
    """The embedded default: SQLite, local objects."""
    p = make_platform(tmp_path / "home")
    yield p
    p.close()


@pytest.fixture
def any_rp(tmp_path: Path, state_url: str) -> Iterator[Any]:
    """The same on each state store (the root conftest's ``state_url``)."""
    p = make_platform(tmp_path / "home", state_url=state_url)
    yield p
    p.close()


@pytest.fixture
def churn(rp: Any) -> Any:
    """``rp`` with an empty ``churn`` model package group."""
    rp.registry.create_model_package_group(model_package_group_name="churn", model_package_group_description="Churn")
    return rp
