"""A real server on a real socket: uvicorn in a thread, serving a real platform."""

from __future__ import annotations

import socket

import pytest
from server_helpers import RunningServer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
