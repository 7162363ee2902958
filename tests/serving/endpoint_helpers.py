"""Building blocks of the serving tests: models, configs and endpoints in one call each."""

from __future__ import annotations

import io
import tarfile
import tempfile
import time
from functools import cache
from pathlib import Path
from collections.abc import Callable
from typing import Any

CODE_DIR = Path(__file__).parent / "code"
# The bad release of the labs (fails every second request) serves the tests too.
LAB_CODE_DIR = Path(__file__).parents[2] / "src" / "groundfog" / "labs" / "serving"


def code_file(program: str) -> Path:
    return CODE_DIR / program if (CODE_DIR / program).exists() else LAB_CODE_DIR / program


@cache
def dataset() -> tuple[Any, Any]:
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(return_X_y=True)


def csv_rows(n: int = 1, start: int = 0) -> str:
    X, _ = dataset()
    return "\n".join(",".join(f"{v:.6g}" for v in row) for row in X[start:start + n])


def trained_model_tarball() -> bytes:
    import joblib
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = dataset()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.joblib"
        joblib.dump(model, path)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            tar.add(path, arcname="model.joblib")
    return buf.getvalue()


def create_model(platform: Any, name: str, program: str | None = None) -> None:
    """A model on the LR artifact, with ``tests/serving/code/<program>`` as its inference code."""
    environment = {}
    if program is not None:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            tar.add(code_file(program), arcname=program)
        platform.storage.put_object("models", f"code/{name}/sourcedir.tar.gz", buf.getvalue())
        environment = {"SAGEMAKER_PROGRAM": program, "SAGEMAKER_SUBMIT_DIRECTORY": f"s3://models/code/{name}/sourcedir.tar.gz"}
    container = {"Image": "sklearn", "ModelDataUrl": "s3://models/lr/model.tar.gz"}
    if environment:
        container["Environment"] = environment
    platform.registry.create_model(model_name=name, primary_container=container)


def variant(name: str, model: str, *, count: int = 1, weight: float = 1.0) -> dict[str, Any]:
    return {"VariantName": name, "ModelName": model, "InstanceType": "ml.m5.large",
            "InitialInstanceCount": count, "InitialVariantWeight": weight}


def deploy(platform: Any, endpoint: str, *variants: dict[str, Any], config: str | None = None,
           timeout: float = 30, **config_args: Any) -> dict[str, Any]:
    """Create a config of ``variants`` and an endpoint on it; its description once in service."""
    config = config or f"{endpoint}-config"
    platform.serving.create_endpoint_config(endpoint_config_name=config, production_variants=list(variants),
                                            **config_args)
    platform.serving.create_endpoint(endpoint_name=endpoint, endpoint_config_name=config)
    described = platform.serving.wait_for_endpoint(endpoint_name=endpoint, timeout=timeout)
    assert described["EndpointStatus"] == "InService", described
    return described


def wait_for(predicate: Callable[[], object], timeout: float = 10) -> bool:
    """Whether ``predicate()`` holds within ``timeout`` s (checked every 50 ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())
