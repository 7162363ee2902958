"""Pipe input mode: a channel's objects streamed through named pipes, as SageMaker does.

For a channel ``train`` in Pipe mode the algorithm reads ``/opt/ml/input/data/train_0``,
then ``train_1`` for a second pass (epoch), and so on: each is a FIFO that a feeder in
the platform fills with every object under the channel's URI, one after another, and
closes. The next FIFO appears once the previous one has been read to its end. Nothing
is written to disk, which is the point of Pipe mode.

A feeder is one thread per host and channel; it waits for a reader without blocking
(so a job that never opens its pipe, or ends, does not hold the thread), and stops when
the job's attempt ends. A platform that resumes a job after a crash starts the feeders
again at the last epoch's FIFO.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from groundfog.training.uris import objects_under, parse_s3_uri

if TYPE_CHECKING:
    from groundfog.storage import StorageService

log = logging.getLogger("groundfog.training")
WAIT_FOR_READER = 0.05  # seconds between looks for a reader of the next FIFO


def fifo_path(data_dir: Path, channel: str, epoch: int) -> Path:
    return data_dir / f"{channel}_{epoch}"


def _last_epoch(data_dir: Path, channel: str) -> int:
    epochs = [int(p.name.rsplit("_", 1)[1]) for p in data_dir.glob(f"{channel}_*")
              if p.name.rsplit("_", 1)[1].isdigit()]  # fmt: skip
    return max(epochs, default=0)


class PipeFeeder:
    """Feeds ``<data_dir>/<channel>_<epoch>`` FIFOs with the objects under ``uri``."""

    def __init__(self, storage: "StorageService", uri: str, data_dir: Path, channel: str) -> None:
        self.storage, self.uri, self.data_dir, self.channel = storage, uri, data_dir, channel
        self.stopped = threading.Event()
        self.epochs_fed = 0
        self._thread = threading.Thread(target=self._run, name=f"groundfog-pipe-{channel}", daemon=True)

    def start(self) -> "PipeFeeder":
        self._thread.start()
        return self

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        self.stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        epoch = _last_epoch(self.data_dir, self.channel)
        try:
            self._make(epoch)
            while not self.stopped.is_set():
                fd = self._open_for_reader(fifo_path(self.data_dir, self.channel, epoch))
                if fd is None:
                    return
                try:
                    self._feed(fd)
                    # The next epoch's pipe exists before this one ends, so a reader that
                    # goes straight on to it finds it.
                    self._make(epoch + 1)
                finally:
                    os.close(fd)
                self.epochs_fed += 1
                epoch += 1
        except Exception:  # noqa: BLE001 - the reader sees the pipe end early; the job says why
            log.exception("pipe feeder for channel %s stopped", self.channel)

    def _make(self, epoch: int) -> None:
        path = fifo_path(self.data_dir, self.channel, epoch)
        if not (path.exists() and stat.S_ISFIFO(path.stat().st_mode)):
            path.unlink(missing_ok=True)
            os.mkfifo(path, 0o644)

    def _open_for_reader(self, path: Path) -> int | None:
        """The FIFO opened for writing once a reader has it open; None when stopped first."""
        while not self.stopped.is_set():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # ENXIO: no reader yet
                    raise
                self.stopped.wait(WAIT_FOR_READER)
                continue
            os.set_blocking(fd, True)
            return fd
        return None

    def _feed(self, fd: int) -> None:
        bucket, _ = parse_s3_uri(self.uri, "S3Uri")
        for obj, _rel in objects_under(self.storage, self.uri, "S3Uri"):
            for chunk in self.storage.get_object(bucket, obj.key).iter_chunks():
                view = memoryview(chunk)
                while view:
                    if self.stopped.is_set():
                        return
                    try:
                        written = os.write(fd, view)
                    except BrokenPipeError:
                        return  # the reader closed early: this epoch is over for it
                    view = view[written:]
