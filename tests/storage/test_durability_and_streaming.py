"""Big objects stream with bounded memory; a put killed mid-way leaves no trace but a
temp file, which the next start sweeps once stale; acknowledged puts survive kill -9.

These run the service in a child process: the memory probe must not count the
in-process S3 server, and a kill -9 needs a process to kill.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from storage_helpers import blob_paths, make_storage

from groundfog.core.errors import ResourceNotFound

MiB = 1 << 20
BIG = 50 * MiB

_CHILD_SETUP = """
import hashlib, json, sys, time, tracemalloc
from groundfog.core.clock import ManualClock
from groundfog.core.config import Config
from groundfog.core.state import StateStore
from groundfog.storage import StorageService

config = Config(**json.loads(sys.argv[1]))
state = StateStore(config.state_url)
state.migrate()
storage = StorageService(config=config, state=state, clock=ManualClock())
"""

_MEMORY_PROBE = _CHILD_SETUP + """
storage.create_bucket("big")
storage.put_object("big", "warm-up", b"x")  # first S3 call loads botocore's models: not per-object memory
storage.get_object_bytes("big", "warm-up")
block = bytes(range(256)) * 4096  # 1 MiB, yielded again and again: the producer allocates nothing

def body():
    for _ in range(50):
        yield block

tracemalloc.start()
info = storage.put_object("big", "blob.bin", body())
put_peak = tracemalloc.get_traced_memory()[1]
tracemalloc.reset_peak()
digest, size = hashlib.md5(), 0
for chunk in storage.get_object("big", "blob.bin").iter_chunks():
    digest.update(chunk)
    size += len(chunk)
get_peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"etag": info.etag, "size": size, "md5": digest.hexdigest(), "put_peak": put_peak, "get_peak": get_peak}))
"""

_KILLED_WRITER = _CHILD_SETUP + """
storage.create_bucket("data")
storage.put_object("data", "done.bin", b"acknowledged" * 1000)
print("ACK", flush=True)

def slow_body():
    yield b"x" * (1 << 20)
    print("STREAMING", flush=True)
    while True:
        time.sleep(0.05)
        yield b"x" * 1024

storage.put_object("data", "partial.bin", slow_body())
"""


def _config(tmp_path: Path, objects: dict) -> dict:
    return {"home": str(tmp_path / "home"), "state_url": f"sqlite:///{tmp_path / 'state.db'}", **objects}


def test_a_50_mb_object_streams_in_and_out_with_bounded_memory(tmp_path: Path, objects_backend: dict) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, json.dumps(_config(tmp_path, objects_backend))],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    expected = hashlib.md5(bytes(range(256)) * 4096 * 50).hexdigest()
    assert (result["size"], result["md5"], result["etag"]) == (BIG, expected, f'"{expected}"')
    # Well under the object's size, and set by the chunk size, not the object size: a few
    # 1 MiB chunks locally; on S3, one 5 MiB upload part or 2 MiB read-ahead window plus
    # the copies s3fs/botocore/aiohttp keep in flight.
    limit = 20 * MiB if objects_backend["objects_url"].startswith("s3://") else 8 * MiB
    assert result["put_peak"] < limit, f"put peaked at {result['put_peak'] / MiB:.1f} MiB"
    assert result["get_peak"] < limit, f"get peaked at {result['get_peak'] / MiB:.1f} MiB"


def test_a_put_that_fails_mid_stream_leaves_nothing(storage_objects: Any) -> None:
    storage_objects.create_bucket("data")
    storage_objects.put_object("data", "keep.bin", b"keep")
    before = blob_paths(storage_objects)

    def failing_body() -> Iterator[bytes]:
        for _ in range(6):  # past one 5 MiB part: on S3 a multipart upload is in flight
            yield b"x" * MiB
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        storage_objects.put_object("data", "broken.bin", failing_body())
    with pytest.raises(ResourceNotFound):
        storage_objects.head_object("data", "broken.bin")
    assert blob_paths(storage_objects) == before  # no temp file, no (aborted) upload


def test_a_put_killed_mid_stream_leaves_no_object_and_acknowledged_puts_survive(tmp_path: Path) -> None:
    # Local store: the interesting case, a temp file renamed into place (S3 uploads are
    # atomic by themselves; the failing-body test covers their abort path).
    objects_backend = {"objects_url": str(tmp_path / "objects")}
    config = _config(tmp_path, objects_backend)
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, json.dumps(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        lines = []
        deadline = time.monotonic() + 60
        while "STREAMING" not in lines and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            lines.append(line.strip())
        assert lines == ["ACK", "STREAMING"], child.stderr.read() if child.stderr else ""
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    home = Path(config.pop("home"))
    storage = make_storage(home, config.pop("state_url"), config)
    try:
        assert storage.get_object_bytes("data", "done.bin") == b"acknowledged" * 1000
        with pytest.raises(ResourceNotFound):
            storage.head_object("data", "partial.bin")
        assert [o.key for o in storage.list_objects_v2("data").contents] == ["done.bin"]
        blobs = blob_paths(storage)
        stored = [b for b in blobs if b.startswith("data/")]
        assert len(stored) == 1 and stored[0].startswith("data/done.bin")  # nothing of partial.bin
        temp = [b for b in blobs if not b.startswith("data/")]
        assert len(temp) <= 1  # at most the interrupted put's temp file
    finally:
        storage.close()

    if temp:
        # A fresh temp file might be a live put of another process: it stays until stale.
        stale = time.time() - 2 * 3600
        for name in temp:
            os.utime(storage.backend.root / name, (stale, stale))
        restarted = make_storage(home, f"sqlite:///{tmp_path / 'state.db'}", objects_backend)
        try:
            assert [b for b in blob_paths(restarted) if not b.startswith("data/")] == []
            assert restarted.get_object_bytes("data", "done.bin") == b"acknowledged" * 1000
        finally:
            restarted.close()


def test_fresh_temp_files_are_not_swept(tmp_path: Path) -> None:
    objects = {"objects_url": str(tmp_path / "objects")}
    fresh = tmp_path / "objects" / ".groundfog-tmp" / "put-live"
    fresh.parent.mkdir(parents=True)
    fresh.write_bytes(b"being written by another process")
    storage = make_storage(tmp_path / "home", f"sqlite:///{tmp_path / 'state.db'}", objects)
    storage.close()
    assert fresh.exists()
