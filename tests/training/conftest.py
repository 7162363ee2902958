"""Fixtures for training, processing and tuning: a platform with data in its object store."""

from __future__ import annotations

from pathlib import Path

import pytest
from training_helpers import make_platform


@pytest.fixture(scope="session")
def breast_cancer_csv() -> tuple[bytes, bytes]:
    """(train.csv, validation.csv) with a header and a ``label`` column."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "label"})
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    train, valid = frame.iloc[:450], frame.iloc[450:]
    return train.to_csv(index=False).encode(), valid.to_csv(index=False).encode()


@pytest.fixture
def tp(tmp_path: Path, breast_cancer_csv):
    """A platform (SQLite, local objects) with breast-cancer data at s3://data/train/ and s3://data/validation/."""
    p = make_platform(tmp_path / "home")
    train, valid = breast_cancer_csv
    p.storage.put_object("data", "train/train.csv", train)
    p.storage.put_object("data", "validation/validation.csv", valid)
    yield p
    p.close()


