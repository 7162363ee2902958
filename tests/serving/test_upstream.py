"""The router's keep-alive client against a real uvicorn worker in a subprocess.

The worker is this file run as a script (``python test_upstream.py PORT``): a raw ASGI
app that echoes the body and answers which client port (so which connection) it saw;
``/sleep`` waits, ``/exit`` kills the process mid-request, ``/chunked`` streams,
``/close`` answers ``connection: close``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from groundfog.serving.upstream import Response, Upstreams, UpstreamError, UpstreamTimeout


async def app(scope: dict, receive, send) -> None:
    if scope["type"] != "http":
        return
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    path = scope["path"]
    if path == "/exit":
        os._exit(1)
    if path == "/sleep":
        await asyncio.sleep(float(body))
    seen = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    headers = [
        (b"content-type", b"application/octet-stream"),
        (b"x-client-port", str(scope["client"][1]).encode()),
        (b"x-request-headers", json.dumps(seen).encode()),
        (b"x-method", scope["method"].encode()),
    ]
    if path == "/chunked":
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for part in (body[:3], body[3:], b"!"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    if path == "/close":
        headers.append((b"connection", b"close"))
    status = int(path[len("/status/"):]) if path.startswith("/status/") else 200
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Worker:
    """This file's app under uvicorn in a subprocess, on a fixed port across restarts."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Worker":
        self.proc = subprocess.Popen([sys.executable, __file__, str(self.port)], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"the test worker did not listen on port {self.port}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    w = Worker().start()
    yield w
    w.kill()


@pytest.fixture
def own_worker() -> Iterator[Worker]:
    """A worker this test alone may kill."""
    w = Worker().start()
    yield w
    w.kill()


def run(coroutine):
    return asyncio.run(coroutine)


def test_round_trip_with_small_and_one_megabyte_bodies(worker: Worker) -> None:
    async def main() -> tuple[Response, Response]:
        up = Upstreams()
        small = await up.request(worker.port, "POST", "/invocations",
                                 [("Content-Type", "text/csv"), ("X-Custom", "a b")], b"1,2,3", 5)
        big_body = os.urandom(1 << 20)
        big = await up.request(worker.port, "POST", "/invocations", [], big_body, 5)
        assert big.body == big_body
        await up.aclose()
        return small, big

    small, big = run(main())
    assert small.status == 200 and small.body == b"1,2,3"
    seen = json.loads(small.headers["x-request-headers"])
    assert seen["host"] == f"127.0.0.1:{worker.port}"
    assert seen["content-length"] == "5" and seen["content-type"] == "text/csv" and seen["x-custom"] == "a b"
    assert small.headers["content-type"] == "application/octet-stream"
    assert big.headers["content-length"] == str(1 << 20)


def test_get_without_body_and_error_statuses(worker: Worker) -> None:
    async def main() -> None:
        up = Upstreams()
        ping = await up.request(worker.port, "GET", "/ping", [], b"", 5)
        assert (ping.status, ping.body, ping.headers["x-method"]) == (200, b"", "GET")
        assert json.loads(ping.headers["x-request-headers"])["content-length"] == "0"
        for status in (400, 503):
            response = await up.request(worker.port, "POST", f"/status/{status}", [], b"oops", 5)
            assert (response.status, response.body) == (status, b"oops")
        assert up.idle_count(worker.port) == 1
        await up.aclose()

    run(main())


def test_chunked_response_is_read_whole(worker: Worker) -> None:
    async def main() -> Response:
        up = Upstreams()
        response = await up.request(worker.port, "POST", "/chunked", [], b"hello world", 5)
        again = await up.request(worker.port, "POST", "/invocations", [], b"x", 5)
        assert again.headers["x-client-port"] == response.headers["x-client-port"]
        await up.aclose()
        return response

    response = run(main())
    assert response.headers["transfer-encoding"] == "chunked"
    assert response.body == b"hello world!"


def test_connections_are_kept_alive_and_reused(worker: Worker) -> None:
    async def main() -> set[str]:
        up = Upstreams()
        ports = set()
        for i in range(20):
            response = await up.request(worker.port, "POST", "/invocations", [], str(i).encode(), 5)
            assert response.body == str(i).encode()
            ports.add(response.headers["x-client-port"])
        assert up.idle_count(worker.port) == 1
        await up.aclose()
        return ports

    assert len(run(main())) == 1


def test_connection_close_from_the_worker_is_honoured(worker: Worker) -> None:
    async def main() -> None:
        up = Upstreams()
        first = await up.request(worker.port, "POST", "/close", [], b"a", 5)
        assert up.idle_count(worker.port) == 0
        second = await up.request(worker.port, "POST", "/invocations", [], b"b", 5)
        assert second.headers["x-client-port"] != first.headers["x-client-port"]
        await up.aclose()

    run(main())


def test_timeout_raises_and_the_connection_is_not_reused(worker: Worker) -> None:
    async def main() -> None:
        up = Upstreams()
        first = await up.request(worker.port, "POST", "/invocations", [], b"a", 5)
        started = time.perf_counter()
        with pytest.raises(UpstreamTimeout) as caught:
            await up.request(worker.port, "POST", "/sleep", [], b"2", 0.2)
        assert 0.15 < time.perf_counter() - started < 1.0
        assert caught.value.sent is True
        assert up.idle_count(worker.port) == 0
        after = await up.request(worker.port, "POST", "/invocations", [], b"b", 5)
        assert after.body == b"b"
        assert after.headers["x-client-port"] != first.headers["x-client-port"]
        await up.aclose()

    run(main())


def test_stale_pooled_connection_is_retried_on_the_restarted_worker(own_worker: Worker) -> None:
    async def main() -> None:
        up = Upstreams()
        before = await up.request(own_worker.port, "POST", "/invocations", [], b"a", 5)
        # Restart without yielding to the loop, so the pooled connection is not yet
        # known to be dead when the next request takes it.
        own_worker.kill()
        own_worker.start()
        assert up.idle_count(own_worker.port) == 1
        after = await up.request(own_worker.port, "POST", "/invocations", [], b"b", 5)
        assert after.body == b"b"
        assert after.headers["x-client-port"] != before.headers["x-client-port"]
        await up.aclose()

    run(main())


def test_worker_dying_mid_request_fails_fast_with_sent_true(own_worker: Worker) -> None:
    async def on_fresh_connection() -> None:
        up = Upstreams()
        started = time.perf_counter()
        with pytest.raises(UpstreamError) as caught:
            await up.request(own_worker.port, "POST", "/exit", [], b"", 30)
        assert time.perf_counter() - started < 2
        assert caught.value.sent is True and not isinstance(caught.value, UpstreamTimeout)
        await up.aclose()

    async def on_reused_connection() -> None:
        up = Upstreams()
        await up.request(own_worker.port, "GET", "/ping", [], b"", 5)
        started = time.perf_counter()
        with pytest.raises(UpstreamError) as caught:
            await up.request(own_worker.port, "POST", "/exit", [], b"", 30)
        assert time.perf_counter() - started < 2
        # The retry's connect is refused, but the dead worker may have run the request.
        assert caught.value.sent is True
        await up.aclose()

    run(on_fresh_connection())
    own_worker.kill()
    own_worker.start()
    run(on_reused_connection())


def test_connect_refused_says_nothing_was_sent() -> None:
    async def main() -> None:
        up = Upstreams()
        with pytest.raises(UpstreamError) as caught:
            await up.request(free_port(), "POST", "/invocations", [], b"x", 5)
        assert caught.value.sent is False and not isinstance(caught.value, UpstreamTimeout)
        await up.aclose()

    run(main())


def test_concurrent_requests_get_their_own_responses(worker: Worker) -> None:
    async def main() -> None:
        up = Upstreams(max_idle_per_port=16)
        bodies = [f"request-{i}-".encode() * (1 + i % 50) for i in range(200)]
        for _ in range(2):
            responses = await asyncio.gather(
                *(up.request(worker.port, "POST", "/invocations", [("x-i", str(i))], body, 10)
                  for i, body in enumerate(bodies))
            )
            assert [r.body for r in responses] == bodies
            assert [json.loads(r.headers["x-request-headers"])["x-i"] for r in responses] == [
                str(i) for i in range(200)
            ]
            assert up.idle_count(worker.port) <= 16
        await up.aclose()

    run(main())


def test_forget_closes_idle_connections_even_from_another_thread(worker: Worker) -> None:
    async def main() -> None:
        up = Upstreams()
        first = await up.request(worker.port, "POST", "/invocations", [], b"a", 5)
        assert up.idle_count(worker.port) == 1
        thread = threading.Thread(target=up.forget, args=(worker.port,))
        thread.start()
        thread.join()
        await asyncio.sleep(0.01)
        assert up.idle_count(worker.port) == 0
        second = await up.request(worker.port, "POST", "/invocations", [], b"b", 5)
        assert second.headers["x-client-port"] != first.headers["x-client-port"]
        await up.aclose()
        with pytest.raises(RuntimeError):
            await up.request(worker.port, "POST", "/invocations", [], b"c", 5)

    run(main())


def test_header_with_a_line_break_is_refused(worker: Worker) -> None:
    async def main() -> None:
        up = Upstreams()
        with pytest.raises(ValueError, match="line break"):
            await up.request(worker.port, "POST", "/invocations", [("x-a", "b\r\nx-evil: 1")], b"", 5)
        await up.aclose()

    run(main())


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), lifespan="off", log_level="error", access_log=False)
