"""Where object bytes live: a local directory, or any fsspec filesystem (s3:// ...).

The index (state store) is the truth about which objects exist; a backend only keeps
bytes at paths the service chooses through ``path_for``. A write is staged, then
published by ``commit()``, and only after that does the service commit the index row,
so an acknowledged put survives ``kill -9`` and an interrupted one leaves no row.

Two layouts, for two kinds of store:

- ``LocalBackend`` keeps ``<root>/<bucket>/<key>`` (the tree a user can browse). A
  write goes to ``<root>/.groundfog-tmp/``, then is renamed into place (fsynced
  first when ``Config.fsync`` asks for survival of power loss).
  Because overwrites reuse the path, the critical sections (publish + index commit,
  index delete + unlink, open + index read) run under a per-key lock shared by every
  process on the machine (``flock`` on striped lock files).
- ``FsspecBackend`` writes each version to its own path,
  ``<root>/<bucket>/<quoted key>@<version>``, and the index points at it. On S3 a
  "rename" is a server-side copy plus a delete (twice the bytes moved, for every
  put), while an upload is already atomic: a half-sent multipart upload never becomes
  visible. A unique path per version also makes overwrites atomic for readers (the
  old row keeps naming the old bytes until the new row commits) without any lock.
  The cost: a crash between upload and index commit leaves an unreferenced blob,
  which ``remove_bucket`` sweeps with the rest of the bucket's prefix.

>>> backend = backend_for("/tmp/gf/objects", {})
>>> type(backend).__name__
'LocalBackend'
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import logging
import os
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import quote, urlparse

from groundfog.core.errors import Conflict, ValidationError

log = logging.getLogger(__name__)

CHUNK = 1 << 20  # bytes per read/write step: memory stays bounded whatever the object size
TMP_DIR = ".groundfog-tmp"
LOCK_DIR = ".groundfog-locks"
# Objects whose key is also a folder of other keys ('a' beside 'a/b'); not a bucket
# name, since bucket names start with a letter or a digit.
ASIDE_DIR = ".groundfog-aside"
STALE_TMP_SECONDS = 3600.0


class BlobWriter(Protocol):
    def write(self, data: bytes) -> None: ...

    def commit(self) -> None:
        """Make the bytes visible at the target path (atomically)."""

    def abort(self) -> None:
        """Throw the staged bytes away; the target path is untouched."""


class BlobBackend(Protocol):
    """The small interface the storage service needs from a byte store."""

    # True when every version gets its own path (old bytes stay readable until the
    # service deletes them); False when an overwrite replaces the bytes at one path.
    versioned_paths: bool

    def path_for(self, bucket: str, key: str, version: str) -> str: ...

    def open_write(self, path: str) -> BlobWriter: ...

    def open_read(self, path: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Chunks of bytes ``[start, end)``; opens eagerly (``FileNotFoundError`` now, not later)."""
        ...

    def delete(self, path: str) -> None: ...

    def copy(self, src: str, dst: str) -> BlobWriter:
        """Stage a copy of ``src`` for ``dst``; ``commit()`` publishes it."""
        ...

    def size(self, path: str) -> int: ...

    def lock(self, bucket: str, key: str) -> contextlib.AbstractContextManager[None]: ...

    def create_bucket(self, bucket: str) -> None: ...

    def remove_bucket(self, bucket: str) -> None: ...

    def sweep(self) -> int:
        """Remove stale temporary files left by interrupted writes; returns how many."""
        ...


def backend_for(url: str, options: dict[str, Any] | None = None, *, fsync: bool = False) -> BlobBackend:
    """A plain path or ``file://`` URL is a local directory; any other scheme is fsspec."""
    parsed = urlparse(url)
    if parsed.scheme in ("", "file") or (len(parsed.scheme) == 1 and os.name == "nt"):
        return LocalBackend(parsed.path if parsed.scheme == "file" else url, fsync=fsync)
    return FsspecBackend(url, options or {})


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _Reader:
    """A byte range of an open file, read in chunks; it also offers the file itself,
    so a local-to-local download can be a kernel copy (``sendfile``)."""

    def __init__(self, f: IO[bytes], start: int, end: int | None) -> None:
        self.file, self.start, self.end = f, start, end

    def __iter__(self) -> Iterator[bytes]:
        f = self.file
        try:
            if self.start:
                f.seek(self.start)
            remaining = None if self.end is None else max(0, self.end - self.start)
            while remaining is None or remaining > 0:
                data = f.read(CHUNK if remaining is None else min(CHUNK, remaining))
                if not data:
                    break
                if remaining is not None:
                    remaining -= len(data)
                yield data
        finally:
            f.close()

    def sendfile(self, out_fd: int) -> None:
        """Copy the range into ``out_fd`` inside the kernel, then close the source."""
        try:
            try:
                in_fd = self.file.fileno()
            except (OSError, AttributeError, io.UnsupportedOperation):
                # A remote store's file has no descriptor: copy through memory instead.
                for chunk in self:
                    _write_all(out_fd, chunk)
                return
            end = os.fstat(in_fd).st_size if self.end is None else self.end
            offset = self.start
            while offset < end:
                sent = os.sendfile(out_fd, in_fd, offset, min(end - offset, 1 << 30))
                if sent == 0:
                    break
                offset += sent
        finally:
            self.file.close()

    def close(self) -> None:
        self.file.close()


def _reader(f: IO[bytes], start: int, end: int | None) -> _Reader:
    return _Reader(f, start, end)


# --------------------------------------------------------------------------- local


class _StripedLocks:
    """Per-key mutual exclusion across threads (locks) and processes (``flock``)."""

    STRIPES = 256

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._threads = [threading.Lock() for _ in range(self.STRIPES)]
        self._fds: dict[int, int] = {}
        self._fds_lock = threading.Lock()

    def _fd(self, stripe: int) -> int | None:
        try:
            import fcntl  # noqa: F401  (POSIX only; threads-only locking elsewhere)
        except ImportError:
            return None
        with self._fds_lock:
            if stripe not in self._fds:
                self._dir.mkdir(parents=True, exist_ok=True)
                self._fds[stripe] = os.open(self._dir / f"{stripe:03d}.lock", os.O_CREAT | os.O_RDWR, 0o666)
            return self._fds[stripe]

    @contextlib.contextmanager
    def hold(self, name: str) -> Iterator[None]:
        stripe = zlib.crc32(name.encode("utf-8", "surrogatepass")) % self.STRIPES
        with self._threads[stripe]:
            fd = self._fd(stripe)
            if fd is None:
                yield
                return
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._fds_lock:
            for fd in self._fds.values():
                os.close(fd)
            self._fds.clear()


class _LocalWriter:
    def __init__(self, backend: "LocalBackend", target: Path) -> None:
        self._backend = backend
        self._target = target
        backend.tmp_dir.mkdir(parents=True, exist_ok=True)
        self._tmp = backend.tmp_dir / f"put-{uuid.uuid4().hex}"
        # os.open with 0o666 lets the umask decide permissions, like any new file.
        fd = os.open(self._tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        self.file: IO[bytes] = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        self.file.write(data)

    def commit(self) -> None:
        self.file.flush()
        if self._backend.fsync:
            os.fsync(self.file.fileno())
        self.file.close()
        try:
            self._backend._publish(self._tmp, self._target)
        except BaseException:
            self._tmp.unlink(missing_ok=True)
            raise

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()
        self._tmp.unlink(missing_ok=True)


class LocalBackend:
    """Objects as plain files: ``<root>/<bucket>/<key>``."""

    versioned_paths = False  # readers keep an open file: POSIX keeps replaced bytes alive for them

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = False) -> None:
        self.root = Path(root).expanduser().resolve()
        # A rename is atomic and page-cache writes survive a killed process; fsync
        # (bytes, then the directory entry) only adds survival of power loss.
        self.fsync = fsync
        self.tmp_dir = self.root / TMP_DIR
        self._locks = _StripedLocks(self.root / LOCK_DIR)

    def __repr__(self) -> str:
        return f"LocalBackend({str(self.root)!r})"

    # paths -------------------------------------------------------------------

    def path_for(self, bucket: str, key: str, version: str) -> str:
        for segment in key.split("/"):
            if len(segment.encode("utf-8")) > 255:
                raise ValidationError(
                    f"Key {key!r} has a path segment longer than 255 bytes, which the local "
                    "object store cannot keep as a file name; shorten the segment or use an "
                    "s3:// objects_url",
                    field="Key",
                )
        natural = f"{bucket}/{key}"
        if self._placeable(natural, self._full(natural)):
            return natural
        # S3 holds 'a' and 'a/b' together; a directory tree cannot hold both as files,
        # so the one that does not fit lives aside, named by its key's hash (the index
        # keeps every object's path, so nothing else needs to know).
        return f"{ASIDE_DIR}/{bucket}/{hashlib.sha256(key.encode()).hexdigest()}"

    def local_path(self, path: str) -> Path:
        """Where the blob ``path`` lies on this machine's disk."""
        return self._full(path)

    def _full(self, path: str) -> Path:
        bucket = path.split("/", 1)[0]
        bucket_dir = os.path.realpath(self.root / bucket)
        full = os.path.realpath(self.root / path)
        # Defence in depth: keys are validated already, but a symlink or a missed rule
        # must never let a path leave its bucket's directory.
        if full == bucket_dir or os.path.commonpath([full, bucket_dir]) != bucket_dir:
            raise ValidationError(f"Key path {path!r} resolves outside its bucket directory", field="Key")
        return Path(full)

    def _placeable(self, path: str, full: Path) -> bool:
        """Whether a file can stand at ``full``: no file where a folder must be, and no
        folder of other keys where the file must be."""
        return self._blocker(path, full) is None

    def _blocker(self, path: str, full: Path) -> Path | None:
        bucket_dir = self.root / path.split("/", 1)[0]
        parent = full.parent
        while parent != bucket_dir and bucket_dir in parent.parents:
            if parent.exists() and not parent.is_dir():
                return parent
            parent = parent.parent
        return full if full.is_dir() else None

    def _check_placeable(self, path: str, full: Path) -> None:
        blocker = self._blocker(path, full)
        if blocker is not None:
            raise self._conflict(path, blocker)

    def _conflict(self, path: str, where: Path) -> Conflict:
        bucket, key = path.split("/", 1)
        other = str(where.relative_to(self.root / bucket))
        if other == key:
            detail = f"other keys start with {key + '/'!r}"
        else:
            detail = f"an object named {other!r} exists"
        return Conflict(
            f"Key {key!r} could not be stored in bucket {bucket!r}: {detail}, put at the same "
            "moment; try again",
            field="Key",
        )

    def _publish(self, tmp: Path, target: Path) -> None:
        path = str(target.relative_to(self.root))
        for attempt in range(3):
            self._check_placeable(path, target)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
                break
            except (NotADirectoryError, FileExistsError, IsADirectoryError):
                raise self._conflict(path, target) from None
            except FileNotFoundError:
                # A concurrent delete pruned the (empty) parent between mkdir and
                # rename; make it again.
                if attempt == 2:
                    raise
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
                    raise self._conflict(path, target) from None
                if exc.errno == errno.ENAMETOOLONG:
                    raise ValidationError(f"Key path {path!r} is too long for this filesystem", field="Key") from None
                raise
        if self.fsync:
            dir_fd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)  # the rename itself survives power loss
            finally:
                os.close(dir_fd)

    # bytes -------------------------------------------------------------------

    def open_write(self, path: str) -> _LocalWriter:
        full = self._full(path)
        self._check_placeable(path, full)  # fail before streaming gigabytes
        return _LocalWriter(self, full)

    def open_read(self, path: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        full = self._full(path)
        try:
            f = open(full, "rb")  # noqa: SIM115 (closed by the reader)
        except IsADirectoryError:
            raise FileNotFoundError(str(full)) from None
        return _reader(f, start, end)

    def delete(self, path: str) -> None:
        full = self._full(path)
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
            full.unlink()
        self._prune(full.parent, self.root / path.split("/", 1)[0])

    def _prune(self, directory: Path, stop: Path) -> None:
        # Empty folders would block a later put of a key equal to the folder's name.
        while directory != stop and stop in directory.parents:
            try:
                directory.rmdir()
            except OSError:
                return
            directory = directory.parent

    def copy(self, src: str, dst: str) -> _LocalWriter:
        writer = self.open_write(dst)
        try:
            with open(self._full(src), "rb") as f:
                while data := f.read(CHUNK):
                    writer.write(data)
        except BaseException:
            writer.abort()
            raise
        return writer

    def size(self, path: str) -> int:
        return self._full(path).stat().st_size

    def lock(self, bucket: str, key: str) -> contextlib.AbstractContextManager[None]:
        return self._locks.hold(f"{bucket}/{key}")

    # buckets and housekeeping ---------------------------------------------------

    def create_bucket(self, bucket: str) -> None:
        (self.root / bucket).mkdir(parents=True, exist_ok=True)

    def remove_bucket(self, bucket: str) -> None:
        # Only empty folders go: anything else was put there by hand, not by groundfog.
        for bucket_dir in (self.root / bucket, self.root / ASIDE_DIR / bucket):
            if not bucket_dir.is_dir():
                continue
            for dirpath, _dirs, _files in os.walk(bucket_dir, topdown=False):
                with contextlib.suppress(OSError):
                    os.rmdir(dirpath)

    def sweep(self, max_age: float = STALE_TMP_SECONDS) -> int:
        """Delete temp files untouched for ``max_age`` seconds (younger ones may be live puts)."""
        removed = 0
        try:
            entries = list(os.scandir(self.tmp_dir))
        except FileNotFoundError:
            return 0
        cutoff = time.time() - max_age
        for entry in entries:
            try:
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except OSError as exc:
                log.warning("could not remove stale temp file %s: %s", entry.path, exc)
        return removed

    def close(self) -> None:
        self._locks.close()


# --------------------------------------------------------------------------- fsspec

# Characters kept as they are in blob paths; everything else is percent-encoded, so
# glob characters (* ? [ ]) and s3fs's "?versionId=" never reach the filesystem layer.
_SAFE = "/-_.~!$&'()+,;=:@"
_MAX_BLOB_KEY_BYTES = 900  # S3 keys stop at 1024 bytes, the root prefix included
WRITE_BLOCK = 5 << 20  # s3fs buffers one part in memory (a few copies in flight); S3 parts are >= 5 MiB


class _FsspecWriter:
    def __init__(self, fs: Any, full: str) -> None:
        self._fs = fs
        self._full = full
        self._f = fs.open(full, "wb", block_size=WRITE_BLOCK)

    def write(self, data: bytes) -> None:
        self._f.write(data)

    def commit(self) -> None:
        self._f.close()  # completes the (multipart) upload: visible all at once

    def abort(self) -> None:
        try:
            self._f.discard()  # s3fs: abort the multipart upload
            self._f.closed = True  # and never let __del__ upload the buffer
        except Exception:  # noqa: BLE001 (best effort; the path is unreferenced anyway)
            log.debug("discard failed for %s", self._full, exc_info=True)
        with contextlib.suppress(Exception):
            self._fs.rm_file(self._full)


class _StagedCopy:
    """A server-side copy already sits at its own version path; commit has nothing to do."""

    def __init__(self, fs: Any, full: str) -> None:
        self._fs = fs
        self._full = full

    def write(self, data: bytes) -> None:
        raise TypeError("a staged copy takes no more bytes")

    def commit(self) -> None:
        pass

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._fs.rm_file(self._full)


class FsspecBackend:
    """Objects on any fsspec filesystem, one path per version (see the module docstring)."""

    versioned_paths = True

    def __init__(self, url: str, options: dict[str, Any]) -> None:
        import fsspec  # lazily: only remote stores pay for it

        try:
            self.fs, root = fsspec.core.url_to_fs(url, **options)
        except (ImportError, ValueError) as exc:
            raise ValidationError(
                f"objects_url {url!r} cannot be opened: {exc}", field="GROUNDFOG_OBJECTS_URL"
            ) from None
        self.url = url
        self.root = root.rstrip("/")

    def __repr__(self) -> str:
        return f"FsspecBackend({self.url!r})"

    def path_for(self, bucket: str, key: str, version: str) -> str:
        quoted = quote(key, safe=_SAFE)
        if len(self.root) + len(bucket) + len(quoted) + len(version) + 3 > _MAX_BLOB_KEY_BYTES:
            quoted = ".long/" + hashlib.sha256(key.encode("utf-8")).hexdigest()
        return f"{bucket}/{quoted}@{version}"

    def _full(self, path: str) -> str:
        return f"{self.root}/{path}"

    def open_write(self, path: str) -> _FsspecWriter:
        return _FsspecWriter(self.fs, self._full(path))

    def open_read(self, path: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        f = self.fs.open(self._full(path), "rb", block_size=2 * CHUNK, cache_type="readahead")
        return _reader(f, start, end)

    def delete(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self._full(path))

    def copy(self, src: str, dst: str) -> _StagedCopy:
        self.fs.copy(self._full(src), self._full(dst))
        return _StagedCopy(self.fs, self._full(dst))

    def size(self, path: str) -> int:
        return int(self.fs.size(self._full(path)))

    def lock(self, bucket: str, key: str) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def create_bucket(self, bucket: str) -> None:
        """Nothing to do: object stores have no folders to make."""

    def remove_bucket(self, bucket: str) -> None:
        # The bucket is gone from the index, so anything under its prefix is an orphan
        # of an interrupted put.
        prefix = self._full(bucket)
        try:
            if self.fs.exists(prefix):
                self.fs.rm(prefix, recursive=True)
        except FileNotFoundError:
            pass
        except Exception as exc:  # noqa: BLE001 (cleanup must not fail the delete)
            log.warning("could not remove orphaned blobs under %s: %s", prefix, exc)
        self.fs.invalidate_cache(prefix)

    def sweep(self) -> int:
        # No temp files here: an interrupted multipart upload stays invisible (S3
        # lifecycle rules abort those), and unreferenced versions go with their bucket.
        return 0

    def close(self) -> None:
        pass
