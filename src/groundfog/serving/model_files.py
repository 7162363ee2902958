"""A model's files on local disk, as a worker loads them: the artifact unpacked into a
model directory, and the inference code (``SAGEMAKER_SUBMIT_DIRECTORY``) beside it.

A model's first container is SageMaker's: ``Image`` names the framework, ``ModelDataUrl``
the artifact (a ``model.tar.gz`` or any single object), and the environment's
``SAGEMAKER_PROGRAM`` / ``SAGEMAKER_SUBMIT_DIRECTORY`` the handler module. Files are
unpacked once per artifact version (its ETag) and shared by every instance.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groundfog.core.errors import ValidationError
from groundfog.training.requests import framework_of
from groundfog.training.transfer import fetch_source
from groundfog.training.uris import parse_s3_uri

if TYPE_CHECKING:
    from groundfog.storage import StorageService


@dataclass(frozen=True)
class ModelFiles:
    """Where a worker finds its model: the arguments of ``python -m groundfog.serving.worker``."""

    model_dir: Path
    framework: str
    code_dir: Path | None = None
    program: str | None = None

    def worker_arguments(self) -> list[str]:
        args = ["--model-dir", str(self.model_dir), "--framework", self.framework]
        if self.code_dir is not None:
            args += ["--code-dir", str(self.code_dir)]
        if self.program:
            args += ["--program", self.program]
        return args


def container_of(model: dict[str, Any]) -> dict[str, Any]:
    """The container an endpoint runs: the primary one, or the first of an inference pipeline."""
    return model.get("PrimaryContainer") or model["Containers"][0]


def prepare(storage: "StorageService", model: dict[str, Any], root: Path) -> ModelFiles:
    """Unpack the DescribeModel ``model``'s artifact and code under ``root`` (once)."""
    container = container_of(model)
    framework = framework_of(container.get("Image", ""), f"model {model['ModelName']}: Image")
    environment = container.get("Environment", {})
    data_url = container.get("ModelDataUrl")
    submit = environment.get("SAGEMAKER_SUBMIT_DIRECTORY")
    version = _version(storage, data_url, submit)
    target = root / model["ModelName"] / version
    model_dir, code_dir = target / "model", target / "code"
    if not (target / ".complete").exists():
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=_ensure(root)))
        try:
            (staging / "model").mkdir()
            if data_url:
                _unpack_artifact(storage, data_url, staging / "model")
            if submit:
                fetch_source(storage, submit, staging / "code")
            (staging / ".complete").touch()
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(staging, target)
            except OSError:  # another instance unpacked the same version first
                shutil.rmtree(staging, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    program = environment.get("SAGEMAKER_PROGRAM")
    return ModelFiles(model_dir=model_dir, framework=framework, code_dir=code_dir if code_dir.is_dir() else None,
                      program=program)  # fmt: skip


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _version(storage: "StorageService", data_url: str | None, submit: str | None) -> str:
    parts = []
    for uri in (data_url, submit):
        if uri and uri.startswith("s3://"):
            bucket, key = parse_s3_uri(uri, "ModelDataUrl")
            parts.append(f"{uri}@{storage.head_object(bucket, key).etag}")
        elif uri:
            parts.append(f"{uri}@{_tree_stamp(uri)}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _tree_stamp(uri: str) -> str:
    path = Path(uri.removeprefix("file://"))
    stamps = [f"{p}:{p.stat().st_mtime_ns}" for p in sorted(path.rglob("*")) if p.is_file()] if path.is_dir() else []
    return hashlib.sha256("\n".join(stamps).encode()).hexdigest()


def _unpack_artifact(storage: "StorageService", uri: str, dest: Path) -> None:
    bucket, key = parse_s3_uri(uri, "ModelDataUrl")
    data = storage.get_object_bytes(bucket, key)
    if key.endswith((".tar.gz", ".tgz", ".tar")):
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
                tar.extractall(dest, filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise ValidationError(f"ModelDataUrl {uri} is not a readable tar archive: {exc}",
                                  field="ModelDataUrl") from None  # fmt: skip
        return
    (dest / Path(key).name).write_bytes(data)
