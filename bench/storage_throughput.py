"""Object put/get throughput against plain copies of the same bytes, in one run.

Peers: ``shutil.copyfile`` (kernel copy, no hashing), a Python read/write loop, and
``hashlib.md5`` over the bytes alone (S3's ETag is the MD5 of the object, so no put can
beat it). Goal: put/get within 1.5x of the plain copy for 1 MB-100 MB."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

SIZES_MB = (1, 10, 100)
REPEATS = 3


def _best(fn: Callable[[int], object], cleanup: Callable[[int], object] = lambda i: None) -> float:
    """Best of REPEATS; each repetition writes a new destination, and removing it is
    not timed (freeing an overwritten file's pages would be measured otherwise)."""
    times = []
    for i in range(REPEATS):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
        cleanup(i)
    return min(times)


def _python_copy(src: Path, dst: Path) -> None:
    with open(src, "rb") as i, open(dst, "wb") as o:
        while chunk := i.read(1 << 20):
            o.write(chunk)


def _md5(src: Path) -> None:
    h = hashlib.md5()
    with open(src, "rb") as i:
        while chunk := i.read(1 << 20):
            h.update(chunk)


def main() -> None:
    from groundfog import Platform

    table = Table(title="object store throughput, MB/s (ratios are time over the peer's time; put must hash MD5 for the ETag)")
    for col in ("size", "plain copy", "python copy", "md5 only", "put_file", "put/copy", "put/md5", "get_file", "get/copy"):
        table.add_column(col, justify="right")
    with tempfile.TemporaryDirectory(prefix="gf-bench-storage-") as tmp, Platform(home=Path(tmp) / "home") as p:
        p.storage.create_bucket("bench")
        for size_mb in SIZES_MB:
            src = Path(tmp) / f"src-{size_mb}"
            src.write_bytes(os.urandom(size_mb << 20))
            def dst(i: int) -> Path:
                return Path(tmp) / f"dst-{size_mb}-{i}"

            def remove(i: int) -> None:
                dst(i).unlink(missing_ok=True)

            copy = _best(lambda i: shutil.copyfile(src, dst(i)), remove)
            pycopy = _best(lambda i: _python_copy(src, dst(i)), remove)
            md5 = _best(lambda i: _md5(src))
            put = _best(lambda i: p.storage.put_file(bucket="bench", key=f"obj-{size_mb}-{i}", path=str(src)))
            get = _best(lambda i: p.storage.get_file(bucket="bench", key=f"obj-{size_mb}-0", path=str(dst(i))))
            assert hashlib.md5(dst(REPEATS - 1).read_bytes()).hexdigest() == hashlib.md5(src.read_bytes()).hexdigest()
            for i in range(REPEATS):
                remove(i)
                p.storage.delete_object(bucket="bench", key=f"obj-{size_mb}-{i}")
            mbps = lambda t: f"{size_mb / t:,.0f}"  # noqa: E731
            table.add_row(f"{size_mb} MB", mbps(copy), mbps(pycopy), mbps(md5), mbps(put),
                          f"{put / copy:.2f}x", f"{put / md5:.2f}x", mbps(get), f"{get / copy:.2f}x")
            src.unlink()
    Console().print(table)
