"""What the SageMaker-style SDK classes share: the platform they talk to, the default
bucket, job names, code upload and waiting on a job while its log streams.

The classes themselves live in ``sdk_estimator`` (``Estimator``, ``SKLearn``, ...),
``sdk_processing`` (``Processor``, ``ScriptProcessor``, ...) and ``sdk_tuning``
(``HyperparameterTuner`` and the parameter ranges); ``groundfog`` re-exports them.

>>> name_from_base("sklearn", now=0.0)
'sklearn-1970-01-01-00-00-00-000'
>>> name_from_base("a-very-long-base-name-for-a-tuning-job", max_length=32, short=True, now=0.0)
'a-very-long-ba-700101-000000-000'
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import logging
import os
import re
import sys
import tarfile
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from groundfog.core.errors import AlreadyExists, GroundfogError, ResourceNotFound, ValidationError

log = logging.getLogger("groundfog.sdk")

# SageMaker's SDK names its default bucket ``sagemaker-<region>-<account>``.
DEFAULT_BUCKET = "sagemaker-local-000000000000"
TERMINAL = ("Completed", "Failed", "Stopped")
# How long one blocking wait call lasts: short enough for a remote platform's HTTP timeout.
WAIT_SLICE_SECONDS = 10.0
# Files that are never part of a training script's code, wherever they are.
_SKIPPED_IN_SOURCE = ("__pycache__", ".git", ".ipynb_checkpoints")

_default: Any = None
_default_lock = threading.Lock()


def default_platform() -> Any:
    """The platform the SDK uses when none is given: ``gf.connect($GROUNDFOG_URL)`` when
    that is set, else one embedded ``Platform()`` per process on the default config."""
    global _default
    with _default_lock:
        if _default is None:
            url = os.environ.get("GROUNDFOG_URL")
            if url:
                from groundfog import connect

                _default = connect(url, token=os.environ.get("GROUNDFOG_API_TOKEN"))
            else:
                from groundfog.platform import Platform

                _default = Platform()
                # At exit, jobs still running (fit(wait=False)) go to the job keeper.
                atexit.register(_default.close)
        return _default


def resolve_platform(platform: Any) -> Any:
    return default_platform() if platform is None else platform


def default_bucket(platform: Any) -> str:
    """``sagemaker-local-000000000000``, created on first use as the SDK's session does."""
    try:
        platform.storage.head_bucket(DEFAULT_BUCKET)
    except ResourceNotFound:
        with contextlib.suppress(AlreadyExists):  # created meanwhile by another client
            platform.storage.create_bucket(DEFAULT_BUCKET)
    return DEFAULT_BUCKET


def timestamp(now: float | None = None) -> str:
    """``2026-01-31-12-00-00-123``, as the SDK's ``sagemaker_timestamp``."""
    now = time.time() if now is None else now
    return time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime(now)) + f"-{int(now % 1 * 1000):03d}"


def short_timestamp(now: float | None = None) -> str:
    """``260131-120000-123``: the SDK's short form (``%y%m%d-%H%M``) with seconds and
    milliseconds added, so two tuning jobs started in the same minute get different names."""
    now = time.time() if now is None else now
    return time.strftime("%y%m%d-%H%M%S", time.gmtime(now)) + f"-{int(now % 1 * 1000):03d}"


def name_from_base(base: str, *, max_length: int = 63, short: bool = False, now: float | None = None) -> str:
    """``<base>-<timestamp>``, the base cut so that the whole fits ``max_length``."""
    stamp = short_timestamp(now) if short else timestamp(now)
    base = base[: max_length - len(stamp) - 1].rstrip("-")
    return f"{base}-{stamp}"


def base_name_from_image(image: str) -> str:
    """The job-name base for an image: ``.../sagemaker-scikit-learn:1.2-1`` → ``sagemaker-scikit-learn``."""
    name = image.rsplit("/", 1)[-1].split(":", 1)[0]
    name = re.sub(r"[^a-zA-Z0-9-]+", "-", name).strip("-")
    return name or "job"


def s3_join(*parts: str) -> str:
    """``s3_join("s3://b/", "job", "output")`` → ``"s3://b/job/output"``."""
    head, *rest = parts
    return "/".join([head.rstrip("/"), *(p.strip("/") for p in rest if p)])


def parse_s3(uri: str, field: str) -> tuple[str, str]:
    if not uri.startswith("s3://") or not uri[len("s3://") :].partition("/")[0]:
        raise ValidationError(f"{field} must be an s3://BUCKET/KEY URI, got {uri!r}", field=field)
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def upload_bytes(platform: Any, uri: str, data: bytes, field: str) -> str:
    bucket, key = parse_s3(uri, field)
    platform.storage.put_object(bucket, key, data)
    return uri


def upload_path(platform: Any, path: Path, prefix_uri: str, field: str) -> str:
    """A local file to ``<prefix>/<name>``, or a directory's files under ``<prefix>/``, as
    the SDK's ``S3Uploader.upload`` does; returns the URI the uploaded data lies at."""
    if path.is_file():
        uri = s3_join(prefix_uri, path.name)
        upload_bytes(platform, uri, path.read_bytes(), field)
        return uri
    if not path.is_dir():
        raise ValidationError(f"{field} {str(path)!r} is neither an S3 URI nor an existing local path", field=field)
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        upload_bytes(platform, s3_join(prefix_uri, item.relative_to(path).as_posix()), item.read_bytes(), field)
    return prefix_uri.rstrip("/") + "/"


def source_archive(entry_point: str, source_dir: str | None) -> tuple[bytes, str]:
    """``sourcedir.tar.gz`` of ``source_dir`` (or of the entry point alone) and the entry
    point's path inside it, as the SDK's ``tar_and_upload_dir`` builds them."""
    if source_dir is None:
        script = Path(entry_point)
        if not script.is_file():
            raise ValidationError(f"entry_point {entry_point!r} is not a file", field="entry_point")
        files, program = [(script, script.name)], script.name
    else:
        root = Path(source_dir.removeprefix("file://"))
        if not root.is_dir():
            raise ValidationError(f"source_dir {source_dir!r} is not a directory", field="source_dir")
        program = Path(entry_point).as_posix()
        if not (root / program).is_file():
            raise ValidationError(f"entry_point {entry_point!r} is not a file in source_dir {source_dir!r}", field="entry_point")
        files = [
            (p, p.relative_to(root).as_posix())
            for p in sorted(root.rglob("*"))
            if p.is_file() and not any(part in _SKIPPED_IN_SOURCE for part in p.relative_to(root).parts)
        ]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path, name in files:
            tar.add(path, arcname=name)
    return buffer.getvalue(), program


def json_encode(hyperparameters: dict[str, Any] | None) -> dict[str, str]:
    """Each value as JSON text, as the SDK's framework estimators send them: ``100`` → ``"100"``,
    ``"gini"`` → ``'"gini"'``; the training toolkit decodes them back."""
    return {str(k): json.dumps(v) for k, v in (hyperparameters or {}).items()}


def tags_list(tags: Any) -> list[dict[str, str]] | None:
    """Tags as the API takes them, from ``[{"Key", "Value"}]`` or a plain ``{key: value}``."""
    if tags is None:
        return None
    if isinstance(tags, dict):
        return [{"Key": str(k), "Value": str(v)} for k, v in tags.items()]
    return list(tags)


def check_ended(description: dict[str, Any], kind: str) -> dict[str, Any]:
    """Raise when a waited-for job failed, with its reason; a stopped job only warns, as in the SDK."""
    label = {"training": "TrainingJob", "processing": "ProcessingJob", "tuning": "HyperParameterTuningJob"}[kind]
    name, status = description[f"{label}Name"], description[f"{label}Status"]
    if status == "Failed":
        reason = description.get("FailureReason") or "no reason recorded"
        raise GroundfogError(f"{kind} job {name!r} failed: {reason}", job_name=name, status=status, failure_reason=reason)
    if status == "Stopped":
        log.warning("%s job %s was stopped", kind, name)
    return description


class Job:
    """A handle on one job by name: ``describe()``, ``wait()``, ``stop()``, ``logs()``.

    ``kind`` names the service and its operations (``describe_<kind>_job``, ...)."""

    kind = ""

    def __init__(self, platform: Any, name: str) -> None:
        self.platform = platform
        self.name = name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    @property
    def _service(self) -> Any:
        return getattr(self.platform, self.kind)

    def _op(self, verb: str) -> Any:
        return getattr(self._service, f"{verb}_{self.kind}_job")

    def describe(self) -> dict[str, Any]:
        return self._op("describe")(**{f"{self.kind}_job_name": self.name})

    def stop(self) -> None:
        self._op("stop")(**{f"{self.kind}_job_name": self.name})

    def logs(self) -> str:
        """The job's log so far."""
        chunks, start = [], 0
        while True:
            page = self.log_page(start)
            chunks.append(page["Text"])
            if page["NextStart"] == start:
                return "".join(chunks)
            start = page["NextStart"]

    def log_page(self, start: int) -> dict[str, Any]:
        """The log from byte ``start``: ``{"Text", "NextStart", "Done"}``."""
        return getattr(self._service, f"get_{self.kind}_job_logs")(**{f"{self.kind}_job_name": self.name, "start": start})

    def wait_briefly(self, timeout: float) -> dict[str, Any]:
        """Block up to ``timeout`` seconds (less if the job ends); returns its description."""
        return self._op("wait_for")(**{f"{self.kind}_job_name": self.name, "timeout": timeout})

    def wait(self, logs: bool = False, *, out: TextIO | None = None) -> dict[str, Any]:
        """Block until the job ends, printing its log as it grows when ``logs``; raise if it failed."""
        if logs:
            return check_ended(self._follow(out or sys.stdout), self.kind)
        description = self.wait_briefly(WAIT_SLICE_SECONDS)
        while description[self.status_key] not in TERMINAL:
            description = self.wait_briefly(WAIT_SLICE_SECONDS)
        return check_ended(description, self.kind)

    @property
    def status_key(self) -> str:
        return f"{self.kind.capitalize()}JobStatus"

    def _follow(self, out: TextIO) -> dict[str, Any]:
        start = 0
        while True:
            page = self.log_page(start)
            if page["Text"]:
                out.write(page["Text"])
                out.flush()
            start = page["NextStart"]
            if page["Done"]:
                return self.describe()
            if not page["Text"]:
                self.wait_briefly(1.0)  # returns at once when the job ends
