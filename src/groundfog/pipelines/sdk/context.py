"""Where a definition's local files go: content-addressed locations, so that the same
code gives the same step arguments (and so cache hits) and changed code gives new ones.

``s3://<default bucket>/pipelines/code/<sha256>/sourcedir.tar.gz`` holds an estimator's
packed ``source_dir``; ``.../pipelines/code/<sha256>/<file name>`` a processing script;
``.../pipelines/input/<sha256>/...`` a local processing input. The digest is of the
files' names and bytes (not of the archive, whose gzip header carries a time stamp).

>>> digest_of_archive(b"not a tarball")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
tarfile.ReadError: ...
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path
from typing import Any

from groundfog.core.errors import ResourceNotFound, ValidationError
from groundfog.training.sdk import default_bucket, parse_s3, resolve_platform, s3_join, upload_bytes

CODE_PREFIX = "pipelines/code"
INPUT_PREFIX = "pipelines/input"
_SKIPPED = ("__pycache__", ".git", ".ipynb_checkpoints")


def digest_of_archive(archive: bytes) -> str:
    """sha256 of a ``.tar.gz``'s member names and contents, in name order."""
    sha = hashlib.sha256()
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tar:
        for member in sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: m.name):
            data = tar.extractfile(member)
            _add(sha, member.name, data.read() if data is not None else b"")
    return sha.hexdigest()


def digest_of_path(path: Path) -> str:
    """sha256 of a file's name and bytes, or of a directory's files (relative names and bytes)."""
    sha = hashlib.sha256()
    if path.is_file():
        _add(sha, path.name, path.read_bytes())
    else:
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            relative = item.relative_to(path)
            if not any(part in _SKIPPED for part in relative.parts):
                _add(sha, relative.as_posix(), item.read_bytes())
    return sha.hexdigest()


def _add(sha: Any, name: str, data: bytes) -> None:
    sha.update(name.encode() + b"\0" + len(data).to_bytes(8, "big") + data)


class BuildContext:
    """What building a definition needs beyond the steps: the platform that stores the
    uploaded code (resolved only when some step has local files) and its default bucket."""

    def __init__(self, platform: Any = None) -> None:
        self._platform = platform
        self._resolved: Any = None
        self._bucket: str | None = None

    @property
    def platform(self) -> Any:
        if self._resolved is None:
            self._resolved = resolve_platform(self._platform)
        return self._resolved

    @property
    def bucket(self) -> str:
        if self._bucket is None:
            self._bucket = default_bucket(self.platform)
        return self._bucket

    def code_uploader(self, code_location: str | None = None) -> Any:
        """``upload(archive) -> uri`` for an estimator's ``sourcedir.tar.gz``."""

        def upload(archive: bytes) -> str:
            prefix = s3_join(code_location or f"s3://{self.bucket}", CODE_PREFIX, digest_of_archive(archive))
            return self._put(s3_join(prefix, "sourcedir.tar.gz"), archive)

        return upload

    def upload_path(self, path: Path, input_name: str) -> str:
        """A processing input's local file or directory, uploaded under its digest; the
        ``code`` input goes under ``pipelines/code``, others under ``pipelines/input``."""
        if not path.exists():
            raise ValidationError(f"ProcessingInput source {str(path)!r} is neither an S3 URI nor an existing local path",
                                  field="ProcessingInput.source")  # fmt: skip
        kind = CODE_PREFIX if input_name == "code" else INPUT_PREFIX
        prefix = s3_join(f"s3://{self.bucket}", kind, digest_of_path(path))
        if path.is_file():
            return self._put(s3_join(prefix, path.name), path.read_bytes())
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            relative = item.relative_to(path)
            if not any(part in _SKIPPED for part in relative.parts):
                self._put(s3_join(prefix, relative.as_posix()), item.read_bytes())
        return prefix + "/"

    def _put(self, uri: str, data: bytes) -> str:
        # Content-addressed: an object already there holds these very bytes' content.
        bucket, key = parse_s3(uri, "code_location")
        try:
            self.platform.storage.head_object(bucket, key)
        except ResourceNotFound:
            upload_bytes(self.platform, uri, data, "code_location")
        return uri
