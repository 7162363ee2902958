"""Real servers on real sockets for tests: ``groundfog up`` in a subprocess (crash tests),
or a platform's app under uvicorn in a thread (``RunningServer``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(home: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "GROUNDFOG_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from groundfog.cli.main import main; main()", "up", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(home / "server.log", "ab"),
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not come up: " + (home / "server.log").read_text()[-2000:])


class RunningServer:
    """``create_app(platform)`` under uvicorn in a thread, on a real socket."""

    def __init__(self, platform, port: int | None = None) -> None:
        import uvicorn

        from groundfog.api import create_app

        self.platform = platform
        self.url = f"http://127.0.0.1:{port or free_port()}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(platform), host="127.0.0.1",
                                                    port=int(self.url.rsplit(":", 1)[1]), log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "RunningServer":
        self.thread.start()
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code in (200, 401):
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
