"""Moving a job's data between the object store and its directory.

- Input channels: ``File`` copies every object before the script starts; ``FastFile``
  links the object store's own files in place when the store is a local directory
  (read on demand, nothing copied) and copies otherwise.
- Checkpoints: synced up as they change while the job runs, and back down before a
  restarted attempt, as managed spot training does.
- Artifacts: a directory packed as ``model.tar.gz`` / ``output.tar.gz`` and uploaded.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from groundfog.core.errors import ValidationError
from groundfog.training.uris import join_uri, list_objects, objects_under, parse_s3_uri

if TYPE_CHECKING:
    from groundfog.storage import StorageService


def _inside(root: Path, rel: str) -> Path:
    target = (root / rel).resolve()
    if os.path.commonpath([target, root.resolve()]) != str(root.resolve()):
        raise ValidationError(f"object path {rel!r} would leave the channel directory", field="S3Uri")
    return target


def download_channel(storage: "StorageService", uri: str, dest: Path, mode: str, field: str) -> tuple[int, int]:
    """Fill ``dest`` with the objects under ``uri``; returns (files, bytes)."""
    dest.mkdir(parents=True, exist_ok=True)
    bucket, _ = parse_s3_uri(uri, field)
    count = size = 0
    for obj, rel in objects_under(storage, uri, field):
        target = _inside(dest, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        local = storage.local_file(bucket, obj.key) if mode == "FastFile" else None
        if target.is_symlink() or target.exists():
            target.unlink()
        if local is not None:
            target.symlink_to(local)
        else:
            storage.get_file(bucket, obj.key, target)
        count += 1
        size += obj.size
    return count, size


def download_prefix(storage: "StorageService", uri: str, dest: Path) -> int:
    """Copy whatever lies under ``uri`` (possibly nothing) into ``dest``; returns files."""
    bucket, prefix = parse_s3_uri(uri, "S3Uri")
    dest.mkdir(parents=True, exist_ok=True)
    count = 0
    for obj in list_objects(storage, bucket, prefix):
        rel = obj.key[len(prefix) :].lstrip("/")
        if not rel or rel.endswith("/"):
            continue
        target = _inside(dest, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        storage.get_file(bucket, obj.key, target)
        count += 1
    return count


class DirectorySync:
    """Uploads the files of a directory that are new or changed since the last pass."""

    def __init__(self, storage: "StorageService", source: Path, uri: str) -> None:
        self.storage = storage
        self.source = source
        self.bucket, prefix = parse_s3_uri(uri, "S3Uri")
        self.prefix = prefix.rstrip("/") + "/" if prefix else ""
        self._seen: dict[str, tuple[int, int]] = {}

    def sync(self) -> int:
        """One pass; returns how many files were uploaded."""
        if not self.source.is_dir():
            return 0
        uploaded = 0
        for path in sorted(self.source.rglob("*")):
            if not path.is_file() or path.name.endswith((".tmp", ".partial", ".sagemaker-ignore")):
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # replaced or removed while we looked
            rel = path.relative_to(self.source).as_posix()
            signature = (stat.st_size, stat.st_mtime_ns)
            if self._seen.get(rel) == signature:
                continue
            try:
                self.storage.put_file(self.bucket, self.prefix + rel, path)
            except (FileNotFoundError, ValidationError):
                continue  # gone before we read it; the next pass sees its successor
            self._seen[rel] = signature
            uploaded += 1
        return uploaded


def pack_directory(source: Path) -> Path:
    """``source``'s contents as a gzipped tar in a temporary file (the caller removes it)."""
    fd, name = tempfile.mkstemp(suffix=".tar.gz", dir=source.parent)
    os.close(fd)
    # Level 1: artifacts are mostly already-compressed weights; speed matters more.
    with tarfile.open(name, "w:gz", compresslevel=1) as tar:
        if source.is_dir():
            for path in sorted(source.rglob("*")):
                tar.add(path, arcname=path.relative_to(source).as_posix(), recursive=False)
    return Path(name)


def upload_archive(storage: "StorageService", source: Path, uri: str) -> str:
    """Pack ``source`` and store it at ``uri`` (an object key); returns the URI."""
    bucket, key = parse_s3_uri(uri, "S3OutputPath")
    archive = pack_directory(source)
    try:
        storage.put_file(bucket, key, archive, content_type="application/x-tar")
    finally:
        archive.unlink(missing_ok=True)
    return uri


def fetch_source(storage: "StorageService", submit: str, dest: Path) -> None:
    """Unpack (or copy) the script's source directory into ``dest``."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if submit.startswith("file://"):
        shutil.copytree(submit[len("file://") :], dest, dirs_exist_ok=True, symlinks=True)
        return
    bucket, key = parse_s3_uri(submit, "source_dir")
    data = storage.get_object_bytes(bucket, key)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        tar.extractall(dest, filter="data")


def artifact_uri(output_path: str, job_name: str, name: str) -> str:
    """``s3://out/prefix/<job>/output/model.tar.gz``, SageMaker's layout."""
    return join_uri(output_path, job_name, "output", name)
