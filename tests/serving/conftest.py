"""Fixtures of the serving tests: a platform, and a real scikit-learn model (logistic
regression on the breast-cancer data) packed as SageMaker packs one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from endpoint_helpers import trained_model_tarball


@pytest.fixture(scope="session")
def model_tarball() -> bytes:
    return trained_model_tarball()


@pytest.fixture
def gfp(tmp_path: Path, model_tarball: bytes) -> Iterator:
    """A platform on SQLite with the model in ``s3://models/lr/model.tar.gz``."""
    import groundfog as gf

    platform = gf.Platform(home=tmp_path / "home")
    platform.storage.create_bucket("models")
    platform.storage.put_object("models", "lr/model.tar.gz", model_tarball)
    try:
        yield platform
    finally:
        platform.close()

