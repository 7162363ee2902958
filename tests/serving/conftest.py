"""Fixtures of the serving tests: a platform, and a real scikit-learn model (logistic
regression on the breast-cancer data) packed as SageMaker packs one."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from endpoint_helpers import CODE_DIR, trained_model_tarball


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


def code_tarball(*names: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in names:
            tar.add(CODE_DIR / name, arcname=name)
    return buf.getvalue()
