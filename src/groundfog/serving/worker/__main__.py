"""One instance of an endpoint's production variant: load the model, then serve it.

    python -m groundfog.serving.worker --model-dir DIR --framework sklearn|xgboost|pytorch
        [--code-dir DIR] [--program FILE] --port 0 --ready-file PATH [--parent-pid PID]

The worker binds 127.0.0.1 (port 0: any free port), loads the model, and once uvicorn
listens writes ``{"port": N, "pid": P, "setup_seconds": S}`` to the ready file
atomically (``setup_seconds``: from the process's start to the model loaded). When
the model cannot be loaded it writes ``{"error": "<one line>"}`` and exits 1; a
missing inference script exits 2.

It never outlives its host: with ``--parent-pid`` it checks every second that the
host is alive and, on Linux, also asks the kernel for SIGHUP when its parent dies.
SIGTERM stops it gracefully (the request in flight is answered), exit code 0.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import uvicorn

from groundfog.core._launcher import proc_stat
from groundfog.serving.worker.app import create_app
from groundfog.serving.worker.defaults import FRAMEWORKS, ModelLoadError
from groundfog.serving.worker.handlers import load_handler, resolve_program

_MAIN_STARTED = time.monotonic()
PARENT_CHECK_SECONDS = 1.0
# After asking itself to stop because its host is gone, the worker waits this long for
# the graceful path (a handler may be mid-request) before exiting hard.
ORPHAN_EXIT_SECONDS = 10.0
_PR_SET_PDEATHSIG = 1

logger = logging.getLogger("groundfog.serving.worker")


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m groundfog.serving.worker", description="Serve one model over SageMaker's /ping and /invocations.")
    parser.add_argument("--model-dir", required=True, help="the extracted model artifact")
    parser.add_argument("--framework", required=True, choices=FRAMEWORKS)
    parser.add_argument("--code-dir", help="the inference code (SAGEMAKER_SUBMIT_DIRECTORY, extracted)")
    parser.add_argument("--program", help="the inference script in the code dir (SAGEMAKER_PROGRAM)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 picks a free one")
    parser.add_argument("--ready-file", required=True, type=Path, help="where to report the port, or the error")
    parser.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    return parser.parse_args(argv)


def process_age() -> float:
    """Seconds since this process started (the kernel's start time on Linux, else since
    this module was imported)."""
    stat = proc_stat(os.getpid())
    if stat is not None and hasattr(time, "CLOCK_BOOTTIME"):
        return time.clock_gettime(time.CLOCK_BOOTTIME) - stat.start_ticks / os.sysconf("SC_CLK_TCK")
    return time.monotonic() - _MAIN_STARTED


def write_report(path: Path, report: dict[str, Any]) -> None:
    """Write ``report`` as JSON so that a reader sees all of it or nothing."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(report))
    os.replace(tmp, path)


def _stop_during_setup(signum: int, frame: Any) -> NoReturn:
    # Until uvicorn takes over SIGTERM there is no request to finish: stop loading now.
    # uvicorn restores this handler and re-raises the signal once it has shut down,
    # which lands here again and ends the process with 0.
    raise SystemExit(0)


def _stop_self() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


def _host_alive(pid: int, start_ticks: int | None) -> bool:
    stat = proc_stat(pid)
    if start_ticks is None:  # no /proc: only ask whether the pid exists
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    # A zombie host is gone; a different start time means the pid was reused.
    return stat is not None and stat.state not in ("Z", "X") and stat.start_ticks == start_ticks


def watch_parent(pid: int, on_gone: Callable[[], None] = _stop_self) -> threading.Thread:
    """Check every second that ``pid`` lives; when it does not, ask this process to stop
    and exit hard if that has not happened ``ORPHAN_EXIT_SECONDS`` later."""
    first = proc_stat(pid)
    start_ticks = first.start_ticks if first is not None and proc_stat(os.getpid()) is not None else None

    def watch() -> None:
        while _host_alive(pid, start_ticks):
            time.sleep(PARENT_CHECK_SECONDS)
        logger.warning("host process %d is gone: stopping", pid)
        on_gone()
        time.sleep(ORPHAN_EXIT_SECONDS)
        os._exit(1)

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread


def ask_kernel_for_parent_death_signal(parent_pid: int) -> None:
    """On Linux, have the kernel send SIGHUP when the parent dies (no second of delay).

    The kernel sends it when the *thread* that started us exits, even if the host
    process lives on; so the handler stops only when the parent is really gone, and
    the SIGTERM the host itself sends to stop a worker stays distinct.
    """
    if not sys.platform.startswith("linux") or os.getppid() != parent_pid:
        return

    def on_parent_death(signum: int, frame: Any) -> None:
        if os.getppid() != parent_pid:
            _stop_self()

    signal.signal(signal.SIGHUP, on_parent_death)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGHUP), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # it died before prctl took effect
        _stop_self()


def listen(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:``port`` (0: any free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    return sock


class _ReportingServer(uvicorn.Server):
    """uvicorn's server, writing the ready file once it listens."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._on_started()


def _one_line(message: str, limit: int = 1000) -> str:
    line = " ".join(message.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _fail(ready_file: Path, message: str, exit_code: int) -> int:
    """Report why the worker cannot serve (ready file and stderr, one line); its exit code."""
    line = _one_line(message)
    write_report(ready_file, {"error": line})
    print(line, file=sys.stderr)
    return exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the worker; the process's exit code."""
    args = _parse(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    # User code prints to a log file: line buffering puts its lines there as they happen.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    signal.signal(signal.SIGTERM, _stop_during_setup)
    if args.parent_pid is not None:
        watch_parent(args.parent_pid)
        ask_kernel_for_parent_death_signal(args.parent_pid)

    try:
        sock = listen(args.port)
    except OSError as exc:
        return _fail(args.ready_file, f"cannot listen on 127.0.0.1:{args.port}: {exc}", 1)
    try:
        program = resolve_program(args.model_dir, args.code_dir, args.program)
        handler = load_handler(args.model_dir, args.framework, program)
    except ModelLoadError as exc:
        return _fail(args.ready_file, str(exc), exc.exit_code)
    except Exception as exc:
        logger.exception("loading the model failed")
        return _fail(args.ready_file, f"loading the model failed: {type(exc).__name__}: {exc}", 1)
    setup_seconds = round(process_age(), 4)
    port = sock.getsockname()[1]

    config = uvicorn.Config(
        create_app(handler),
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
        server_header=False,
        date_header=False,
        # The host pools connections: a long keep-alive spares it reconnecting, and the
        # race of reusing a connection the worker is just closing.
        timeout_keep_alive=120,
        timeout_graceful_shutdown=30,
    )
    report = {"port": port, "pid": os.getpid(), "setup_seconds": setup_seconds}
    _ReportingServer(config, lambda: write_report(args.ready_file, report)).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
