"""Runs one job's command as a child and records how it ended, even if groundfog is gone.

    python -m groundfog.core._launcher [--cpus 0,1] [--memory-mb N] <exit-file> -- argv...

The job executor starts this tiny program as the leader of a new session and process
group, with the job's log as stdout/stderr. It

- pins itself (and so the command) to ``--cpus`` and caps the command's address
  space at ``--memory-mb`` (``RLIMIT_AS``);
- runs ``argv`` as its child and relays SIGTERM/SIGINT to the whole process group,
  so the command and whatever it spawned hear a stop once each;
- when the command ends, kills what it left behind in the group (as a SageMaker
  instance is torn down), then writes ``{"exit_code": ..., "signal": ..., "ended_at":
  ...}`` to the exit file atomically (temp file, fsync, rename): the outcome survives
  the platform dying, and a reader sees the whole file or none of it.

It uses the standard library only, so it runs as ``python -I <this file>`` from any
environment; the executor also reads processes through ``proc_stat`` here.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import NamedTuple

RELAYED = (signal.SIGTERM, signal.SIGINT)


class ProcStat(NamedTuple):
    state: str
    pgrp: int
    session: int
    start_ticks: int  # clock ticks after boot: tells a reused pid apart


def proc_stat(pid: int) -> ProcStat | None:
    """The few fields of ``/proc/<pid>/stat`` a supervisor needs; None if no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode("utf-8", "replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = raw[raw.rfind(")") + 2 :].split()
    try:
        return ProcStat(fields[0], int(fields[2]), int(fields[3]), int(fields[19]))
    except (IndexError, ValueError):
        return None


def write_exit_status(path: str, status: dict) -> None:
    """Write ``status`` as JSON so that readers see all of it or nothing."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(status, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _signal_group(signum: int) -> None:
    # Ignored at generation, the signal is dropped for this process only, so the
    # launcher does not hear its own relay.
    previous = signal.signal(signum, signal.SIG_IGN)
    try:
        os.killpg(os.getpgrp(), signum)
    except ProcessLookupError:
        pass
    finally:
        signal.signal(signum, previous)


def _kill_stragglers() -> None:
    me, group = os.getpid(), os.getpgrp()
    for _ in range(200):
        left = []
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != me:
                stat = proc_stat(int(entry))
                if stat and stat.pgrp == group and stat.state not in "ZX":
                    left.append(int(entry))
        if not left:
            return
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.01)


def _parse(args: list[str]) -> tuple[list[int] | None, int | None, str, list[str]]:
    if "--" not in args:
        raise SystemExit("usage: _launcher [--cpus 0,1] [--memory-mb N] <exit-file> -- argv...")
    split = args.index("--")
    head, argv = args[:split], args[split + 1 :]
    cpus: list[int] | None = None
    memory_mb: int | None = None
    positional: list[str] = []
    it = iter(head)
    for arg in it:
        if arg == "--cpus":
            cpus = [int(c) for c in next(it).split(",")]
        elif arg == "--memory-mb":
            memory_mb = int(next(it))
        else:
            positional.append(arg)
    if len(positional) != 1 or not argv:
        raise SystemExit("usage: _launcher [--cpus 0,1] [--memory-mb N] <exit-file> -- argv...")
    return cpus, memory_mb, positional[0], argv


def main(args: list[str]) -> int:
    cpus, memory_mb, exit_file, argv = _parse(args)
    if cpus:
        os.sched_setaffinity(0, cpus)
    child: subprocess.Popen[bytes] | None = None
    pending: list[int] = []

    def relay(signum: int, _frame: object) -> None:
        if child is None:
            pending.append(signum)  # not spawned yet: relay once it is
        else:
            _signal_group(signum)

    for signum in RELAYED:
        signal.signal(signum, relay)

    def limit_memory() -> None:  # runs in the child; the launcher is single-threaded
        import resource

        size = memory_mb * 1024 * 1024  # type: ignore[operator]
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    try:
        child = subprocess.Popen(argv, preexec_fn=limit_memory if memory_mb else None)
    except OSError as exc:
        code = 126 if isinstance(exc, PermissionError) else 127
        print(f"{type(exc).__name__}: cannot run {argv[0]!r}: {exc.strerror or exc}", file=sys.stderr, flush=True)
        write_exit_status(exit_file, {"exit_code": code, "signal": None, "ended_at": time.time()})
        return code
    for signum in pending:
        _signal_group(signum)
    returncode = child.wait()
    _kill_stragglers()
    write_exit_status(
        exit_file,
        {
            "exit_code": returncode if returncode >= 0 else None,
            "signal": -returncode if returncode < 0 else None,
            "ended_at": time.time(),
        },
    )
    return returncode if returncode >= 0 else 128 - returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
