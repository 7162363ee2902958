"""What the serving labs share: models trained on the breast-cancer data, packed as
SageMaker packs them, deployed as endpoints, and an alarm on a variant's 5xx errors."""

from __future__ import annotations

import io
import tarfile
import tempfile
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from groundfog.platform import Platform

BUCKET = "lab-models"
CODE = Path(__file__).parent / "serving"


@cache
def dataset() -> tuple[Any, Any]:
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(return_X_y=True)


def csv_row(i: int = 0) -> str:
    X, _ = dataset()
    return ",".join(f"{v:.6g}" for v in X[i])


def trained_tarball(c: float = 1.0) -> bytes:
    """A scaled logistic regression (regularisation ``c``) as ``model.tar.gz``."""
    import joblib
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = dataset()
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=1000)).fit(X, y)
    with tempfile.TemporaryDirectory() as tmp:
        joblib.dump(model, Path(tmp) / "model.joblib")
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            tar.add(Path(tmp) / "model.joblib", arcname="model.joblib")
    return buffer.getvalue()


def put_model(p: "Platform", name: str, tarball: bytes, program: str | None = None) -> None:
    """Upload the artifact (and ``serving/<program>`` as its inference code); CreateModel."""
    if BUCKET not in {b.name for b in p.storage.list_buckets()}:
        p.storage.create_bucket(BUCKET)
    p.storage.put_object(BUCKET, f"{name}/model.tar.gz", tarball)
    container: dict[str, Any] = {"Image": "sklearn", "ModelDataUrl": f"s3://{BUCKET}/{name}/model.tar.gz"}
    if program:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            tar.add(CODE / program, arcname=program)
        p.storage.put_object(BUCKET, f"{name}/sourcedir.tar.gz", buffer.getvalue())
        container["Environment"] = {"SAGEMAKER_PROGRAM": program,
                                    "SAGEMAKER_SUBMIT_DIRECTORY": f"s3://{BUCKET}/{name}/sourcedir.tar.gz"}  # fmt: skip
    p.registry.create_model(model_name=name, primary_container=container)


def variant(name: str, model: str, weight: float = 1.0, count: int = 1) -> dict[str, Any]:
    return {"VariantName": name, "ModelName": model, "InstanceType": "ml.m5.large", "InitialInstanceCount": count,
            "InitialVariantWeight": weight}  # fmt: skip


def errors_alarm(p: "Platform", endpoint: str, variant_name: str) -> str:
    """An alarm that fires on the first 5xx the variant answers."""
    name = f"{endpoint}-{variant_name}-5xx"
    p.metrics.put_metric_alarm(
        name, "Invocation5XXErrors", "AWS/SageMaker", statistic="Sum", period=10, evaluation_periods=1,
        threshold=0.0, comparison_operator="GreaterThanThreshold", treat_missing_data="notBreaching",
        dimensions=[{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant_name}],
    )  # fmt: skip
    return name


def shifts(p: "Platform", endpoint: str) -> list[tuple[float, float]]:
    """``(time, new fleet's share)`` of every traffic shift in the endpoint's history."""
    history = p.serving.list_endpoint_history(endpoint_name=endpoint)["History"]
    return [(h["Time"].timestamp(), h["Detail"]["GreenShare"]) for h in history
            if h["Stage"] in ("TrafficShifted", "RollingBack", "RollbackShifted") and "GreenShare" in h.get("Detail", {})]  # fmt: skip
