"""A real server on a real socket: uvicorn in a thread, serving a real platform."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunningServer:
    def __init__(self, platform, port: int) -> None:
        import uvicorn

        from groundfog.api import create_app

        self.platform = platform
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(platform), host="127.0.0.1", port=port, log_level="warning"))
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


@pytest.fixture
def server(platform):
    with RunningServer(platform, _free_port()) as running:
        yield running


@pytest.fixture
def token_server(tmp_path):
    from groundfog import Platform
    from groundfog.core.config import Config

    p = Platform(Config(home=tmp_path / "home", api_token="s3cret"))
    with RunningServer(p, _free_port()) as running:
        yield running
    p.close()


@pytest.fixture(scope="module")
def module_server(tmp_path_factory):
    """One server for a whole module, on SQLite: for tests that send thousands of requests."""
    from groundfog import Platform
    from groundfog.core.config import Config

    home = tmp_path_factory.mktemp("server")
    p = Platform(Config(home=home / "home", state_url=f"sqlite:///{home / 'state.db'}"))
    with RunningServer(p, _free_port()) as running:
        yield running
    p.close()
