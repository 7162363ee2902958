"""One model-server worker process: started, watched and stopped by the hosting loop.

A worker is ``python -m groundfog.serving.worker`` on a free loopback port. It tells
its port (or why it could not load the model) through a ready file, and exits when its
host does (``--parent-pid``), so no worker outlives the process that started it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from groundfog.serving.model_files import ModelFiles

STOP_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class WorkerState:
    """``Pending`` (loading), ``InService`` (port known), ``Failed`` (could not load:
    ``error``) or ``Exited`` (stopped serving after it was up)."""

    status: str
    port: int | None = None
    pid: int | None = None
    setup_seconds: float | None = None
    error: str | None = None


class Worker:
    def __init__(self, files: ModelFiles, run_dir: Path, name: str) -> None:
        self.files = files
        self.run_dir = run_dir
        self.name = name
        self.ready_file = run_dir / f"{name}.ready"
        self.log_file = run_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._state = WorkerState("Pending")

    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.ready_file.unlink(missing_ok=True)
        command = [sys.executable, "-m", "groundfog.serving.worker", *self.files.worker_arguments(),
                   "--port", "0", "--ready-file", str(self.ready_file), "--parent-pid", str(os.getpid())]  # fmt: skip
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                            start_new_session=True)  # fmt: skip
        self._state = WorkerState("Pending", pid=self.process.pid)

    def poll(self) -> WorkerState:
        """The worker's state now (cheap: a stat, and a read once it is ready)."""
        if self.process is None or self._state.status in ("Failed", "Exited"):
            return self._state
        code = self.process.poll()
        if self._state.status == "Pending":
            report = self._report()
            if report is not None and "error" in report:
                self._state = WorkerState("Failed", pid=self.process.pid, error=str(report["error"]))
            elif report is not None and code is None:
                self._state = WorkerState("InService", port=int(report["port"]), pid=self.process.pid,
                                          setup_seconds=float(report.get("setup_seconds", 0.0)))  # fmt: skip
            elif code is not None:
                self._state = WorkerState("Failed", pid=self.process.pid,
                                          error=f"the model server exited with code {code} while loading; "
                                                f"{self._log_tail()}")  # fmt: skip
        elif code is not None:
            self._state = WorkerState("Exited", pid=self.process.pid, error=f"exit code {code}")
        return self._state

    def _report(self) -> dict | None:
        try:
            return json.loads(self.ready_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def _log_tail(self) -> str:
        try:
            lines = [line for line in self.log_file.read_text(errors="replace").splitlines() if line.strip()]
        except FileNotFoundError:
            return "no log"
        return lines[-1][:500] if lines else "no output"

    def terminate(self) -> float:
        """Ask the worker to stop (SIGTERM: it finishes the request in hand); returns the
        monotonic time by which it must be gone (see ``reap``)."""
        process = self.process
        if process is not None and process.poll() is None:
            try:
                process.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                return 0.0
        return time.monotonic() + STOP_GRACE_SECONDS

    def reap(self, deadline: float) -> bool:
        """True once the process is gone; past ``deadline`` it is killed."""
        process = self.process
        if process is None or process.poll() is not None:
            return True
        if time.monotonic() < deadline:
            return False
        process.kill()
        process.wait()
        return True

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a grace period; waits until the process is reaped."""
        deadline = self.terminate()
        while not self.reap(deadline):
            time.sleep(0.01)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

