"""Where a job's process runs: the ``Executor`` interface and the local one.

The job runner owns the rows, the statuses and the supervision; an executor only
starts a job's command, says whether it has ended, and signals it. Executors are
chosen by ``Config.executor`` through a table of import paths (resolved lazily, so no
heavy backend is imported unless configured); a new backend is a module plus one
line in ``_EXECUTORS``, with no change to the runner.

>>> executor = load_executor("local", clock=Clock())                     # doctest: +SKIP
>>> handle = executor.start(job)    # a Job row the runner made           # doctest: +SKIP
>>> executor.poll(job)              # None while it runs, then an Outcome # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groundfog.core import _launcher
from groundfog.core._launcher import proc_stat
from groundfog.core.errors import ValidationError

if TYPE_CHECKING:
    from groundfog.core.clock import Clock
    from groundfog.core.job_models import Job

__all__ = [
    "BOOT_ID",
    "HOST",
    "EXIT_STATUS_FILE",
    "Executor",
    "Handle",
    "LocalExecutor",
    "Outcome",
    "load_executor",
    "process_alive",
    "process_start_ticks",
]

EXIT_STATUS_FILE = ".exit_status"
HOST = socket.gethostname()


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


BOOT_ID = _boot_id()


def process_start_ticks(pid: int) -> int | None:
    stat = proc_stat(pid)
    return stat.start_ticks if stat else None


def process_alive(pid: int, start_ticks: int | None) -> bool:
    """True if ``pid`` runs (not a zombie) and, when known, started at ``start_ticks``."""
    stat = proc_stat(pid)
    if stat is None or stat.state in "ZX":
        return False
    return start_ticks is None or stat.start_ticks == start_ticks


@dataclass(frozen=True)
class Outcome:
    """How a job's process ended. ``exit_code`` < 0 means killed by that signal."""

    exit_code: int | None = None
    ended_at: float | None = None
    lost: bool = False  # ended with no record of how
    reason: str | None = None  # why, for lost outcomes

    @property
    def signal(self) -> int | None:
        return -self.exit_code if self.exit_code is not None and self.exit_code < 0 else None


@dataclass
class Handle:
    """What ``Executor.start`` reports about the process it started."""

    pid: int | None
    started_at: float
    host: str | None = None
    boot_id: str | None = None
    process_start: int | None = None
    placement: dict[str, Any] = field(default_factory=dict)  # e.g. {"cpu_set": [0]}
    ref: dict[str, Any] = field(default_factory=dict)  # executor-specific ids, kept in the row
    # Blocks until the process ends (executors whose processes are children); the
    # runner then waits in a thread per job instead of polling.
    wait: Callable[[], Outcome] | None = None


class Executor(ABC):
    """Starts, watches and signals job processes for the ``JobRunner``."""

    name: str = ""

    def __init__(self, address: str, *, clock: "Clock") -> None:
        self.address = address
        self.clock = clock

    def check(self, resources: dict[str, Any]) -> None:
        """Raise ``ValidationError`` if this executor cannot provide ``resources``."""

    @abstractmethod
    def start(self, job: "Job") -> Handle:
        """Start the job's command; raise ``OSError`` if it cannot be started."""

    @abstractmethod
    def poll(self, job: "Job") -> Outcome | None:
        """None while the job's process runs; how it ended once it has."""

    @abstractmethod
    def signal(self, job: "Job", sig: int) -> None:
        """Deliver ``sig`` to the job's processes (quietly, if they are gone)."""

    def observes(self, job: "Job") -> bool:
        """Whether this process can tell if the job's process is alive."""
        return True


def read_exit_status(path: Path) -> Outcome | None:
    """The launcher's record of how the command ended, if it wrote one."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    code = data.get("exit_code")
    sig = data.get("signal")
    exit_code = -int(sig) if sig else int(code) if code is not None else None
    ended = data.get("ended_at")
    return Outcome(exit_code=exit_code, ended_at=float(ended) if ended is not None else None)


class LocalExecutor(Executor):
    """Each job a local process group, started through the launcher.

    The process runs in the job's working directory, in a new session, with stdout
    and stderr appended to the job's log and the environment ``os.environ`` plus
    ``PYTHONUNBUFFERED=1`` (so logs follow live) plus the job's own variables.
    ``cpus`` pins the job to that many of this process's CPUs, least used first;
    ``memory_mb`` caps its address space.
    """

    name = "local"

    def __init__(self, address: str = "local", *, clock: "Clock") -> None:
        super().__init__(address, clock=clock)
        self._lock = threading.Lock()
        self._cores_in_use: Counter[int] = Counter()

    def check(self, resources: dict[str, Any]) -> None:
        cpus = resources.get("cpus")
        available = len(os.sched_getaffinity(0))
        if cpus is not None and cpus > available:
            raise ValidationError(
                f"cpus={cpus} is more than the {available} CPU(s) available to groundfog on {HOST}",
                field="cpus",
            )

    def start(self, job: "Job") -> Handle:
        cpu_set = self._reserve(job.resources.get("cpus"))
        argv = [sys.executable, "-I", _launcher.__file__]
        if cpu_set:
            argv += ["--cpus", ",".join(map(str, cpu_set))]
        if job.resources.get("memory_mb"):
            argv += ["--memory-mb", str(job.resources["memory_mb"])]
        argv += [str(job.job_dir / EXIT_STATUS_FILE), "--", *job.command]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **job.env}
        try:
            with open(job.log_path, "ab") as log:
                proc = subprocess.Popen(
                    argv,
                    cwd=job.workdir,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        except OSError:
            self._release(cpu_set)
            raise
        exit_file = job.job_dir / EXIT_STATUS_FILE

        def wait() -> Outcome:
            returncode = proc.wait()
            self._release(cpu_set)
            return read_exit_status(exit_file) or Outcome(exit_code=returncode)

        return Handle(
            pid=proc.pid,
            started_at=self.clock.time(),
            host=HOST,
            boot_id=BOOT_ID,
            process_start=process_start_ticks(proc.pid),
            placement={"cpu_set": cpu_set} if cpu_set else {},
            wait=wait,
        )

    def observes(self, job: "Job") -> bool:
        return job.host is None or job.host == HOST

    def poll(self, job: "Job") -> Outcome | None:
        exit_file = job.job_dir / EXIT_STATUS_FILE
        outcome = read_exit_status(exit_file)
        if outcome or not self.observes(job):
            return outcome
        if job.pid is not None and job.boot_id == BOOT_ID and process_alive(job.pid, job.process_start):
            return None
        # The launcher writes the file just before it exits: look again.
        return read_exit_status(exit_file) or Outcome(lost=True)

    def signal(self, job: "Job", sig: int) -> None:
        if job.pid is None or not self.observes(job) or job.boot_id != BOOT_ID:
            return
        leader = proc_stat(job.pid)
        if leader and job.process_start is not None and leader.start_ticks != job.process_start:
            return  # the pid now belongs to another process: the job is gone
        try:
            if sig == signal.SIGKILL or leader is None or leader.state in "ZX":
                os.killpg(job.pid, sig)
            else:
                os.kill(job.pid, sig)  # the launcher relays it to the job's process group
        except (ProcessLookupError, PermissionError):
            pass

    def _reserve(self, cpus: int | None) -> list[int] | None:
        if not cpus:
            return None
        with self._lock:
            available = sorted(os.sched_getaffinity(0))
            chosen = sorted(sorted(available, key=lambda c: (self._cores_in_use[c], c))[:cpus])
            self._cores_in_use.update(chosen)
            return chosen

    def _release(self, cpu_set: list[int] | None) -> None:
        if cpu_set:
            with self._lock:
                self._cores_in_use.subtract(cpu_set)


# Executor kinds by the scheme of ``Config.executor``, as "module:Class" import paths.
_EXECUTORS: dict[str, str] = {"local": "groundfog.core.executors:LocalExecutor"}
_NOT_YET = {"ray": "the Ray executor arrives with a later issue; set GROUNDFOG_EXECUTOR=local for now"}


def executor_kind(address: str) -> str:
    """``"local"`` → local, ``"ray"`` / ``"ray://head:10001"`` → ray."""
    return address.split("://", 1)[0] if "://" in address else address


def load_executor(address: str, *, clock: "Clock") -> Executor:
    """The executor for a ``Config.executor`` value; ``ValidationError`` if unknown."""
    kind = executor_kind(address)
    if kind in _NOT_YET:
        raise ValidationError(_NOT_YET[kind], field="executor")
    if kind not in _EXECUTORS:
        raise ValidationError(
            f"executor {address!r} is not known; expected one of {', '.join(sorted(_EXECUTORS))}",
            field="executor",
        )
    module, _, cls = _EXECUTORS[kind].partition(":")
    return getattr(importlib.import_module(module), cls)(address, clock=clock)
