"""Helpers for training, processing and tuning tests: source tarballs, a platform with
buckets, and a script-mode job started the way the SageMaker SDK starts one."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).parent / "scripts"


def source_tarball(*files: Path | tuple[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for item in files:
            if isinstance(item, Path):
                tar.add(item, arcname=item.name)
            else:
                name, data = item
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def make_platform(home: Path, clock: Any = None, **config: Any):
    from groundfog import Platform
    from groundfog.core.config import Config

    p = Platform(Config(home=home, **config), clock=clock)
    for bucket in ("data", "models", "code"):
        p.storage.create_bucket(bucket)
    return p


def script_job(
    platform: Any,
    name: str,
    script: str,
    *,
    framework: str = "sklearn",
    hyperparameters: dict[str, str] | None = None,
    channels: dict[str, str] | None = None,
    extra_files: tuple[Path | tuple[str, bytes], ...] = (),
    **kwargs: Any,
) -> dict[str, str]:
    """CreateTrainingJob for ``scripts/<script>`` the way the SageMaker SDK sends it."""
    key = f"{name}/source/sourcedir.tar.gz"
    platform.storage.put_object("code", key, source_tarball(SCRIPTS / script, *extra_files))
    channels = {"train": "s3://data/train/"} if channels is None else channels
    return platform.training.create_training_job(
        training_job_name=name,
        algorithm_specification={"TrainingImage": framework, "TrainingInputMode": kwargs.pop("input_mode", "File"),
                                 "MetricDefinitions": kwargs.pop("metric_definitions", [])},
        hyper_parameters={"sagemaker_program": script, "sagemaker_submit_directory": f"s3://code/{key}", **(hyperparameters or {})},
        input_data_config=[
            {"ChannelName": c, "DataSource": {"S3DataSource": {"S3Uri": uri, "S3DataType": "S3Prefix"}}}
            for c, uri in channels.items()
        ],
        output_data_config={"S3OutputPath": "s3://models/out"},
        resource_config=kwargs.pop("resource_config", {"InstanceType": "ml.m5.large", "InstanceCount": 1}),
        **kwargs,
    )


def model_files(platform: Any, uri: str, dest: Path) -> Path:
    """Unpack a model.tar.gz from the object store into ``dest``."""
    bucket, _, key = uri[len("s3://"):].partition("/")
    data = platform.storage.get_object_bytes(bucket, key)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(dest, filter="data")
    return dest
