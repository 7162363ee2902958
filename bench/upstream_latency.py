"""The router's hop to a worker: 2,000 sequential ``POST /invocations`` to one uvicorn
worker (a subprocess) through ``Upstreams``, and through ``httpx.AsyncClient`` for
comparison. The floor is a blocking raw socket writing the same bytes.

Goal: ``Upstreams`` costs tens of µs over the floor (httpx: 150-400 µs).
Run: ``python -m bench.upstream_latency``.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import subprocess
import sys
import time

import httpx
import uvloop
from rich.console import Console
from rich.table import Table

from groundfog.serving.upstream import Upstreams

N = 2000
WARM_UP = 200
BODY = b"1.0,2.0,3.0,4.0"


async def worker_app(scope: dict, receive, send) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/csv"), (b"content-length", b"4")]})
    await send({"type": "http.response.body", "body": b"0.5\n"})


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def _timed(call) -> list[float]:
    for _ in range(WARM_UP):
        await call()
    samples = []
    for _ in range(N):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1e6)
    return samples


async def _upstreams(port: int) -> list[float]:
    up = Upstreams()

    async def call() -> None:
        await up.request(port, "POST", "/invocations", [("content-type", "text/csv")], BODY, 5.0)

    try:
        return await _timed(call)
    finally:
        await up.aclose()


async def _httpx(port: int) -> list[float]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        async def call() -> None:
            await client.post("/invocations", content=BODY, headers={"content-type": "text/csv"})

        return await _timed(call)


def _raw_socket(port: int) -> list[float]:
    request = (f"POST /invocations HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: text/csv\r\n"
               f"content-length: {len(BODY)}\r\n\r\n").encode() + BODY
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        samples = []
        for i in range(WARM_UP + N):
            start = time.perf_counter()
            sock.sendall(request)
            data = b""
            while not data.endswith(b"0.5\n"):  # the worker's whole, fixed answer
                data += sock.recv(65536)
            if i >= WARM_UP:
                samples.append((time.perf_counter() - start) * 1e6)
    return samples


def _start_worker() -> tuple[subprocess.Popen, int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "bench.upstream_latency", "--serve", str(port)])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the benchmark worker did not start")


def main() -> None:
    proc, port = _start_worker()
    try:
        rows = [
            ("raw blocking socket (floor)", _raw_socket(port)),
            ("Upstreams, asyncio loop", asyncio.run(_upstreams(port))),
            ("Upstreams, uvloop", uvloop.run(_upstreams(port))),
            ("httpx.AsyncClient, asyncio loop", asyncio.run(_httpx(port))),
            ("httpx.AsyncClient, uvloop", uvloop.run(_httpx(port))),
        ]
    finally:
        proc.kill()
        proc.wait()
    table = Table(title=f"router → worker, {N} sequential requests, {len(BODY)}-byte body (µs)")
    for col in ("client", "p50", "p90", "p99"):
        table.add_column(col)
    for label, samples in rows:
        table.add_row(label, f"{statistics.median(samples):.0f}", f"{_percentile(samples, .9):.0f}",
                      f"{_percentile(samples, .99):.0f}")
    Console().print(table)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        import uvicorn

        uvicorn.run(worker_app, host="127.0.0.1", port=int(sys.argv[2]), lifespan="off", log_level="error",
                    access_log=False)
    else:
        main()
