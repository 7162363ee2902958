"""A keep-alive HTTP/1.1 client from the router to its worker processes.

General-purpose clients (httpx, aiohttp) spend 150-400 µs of Python per request; the
router's hop must stay well under a millisecond, so this one is an ``asyncio.Protocol``
per connection around httptools' C parser (uvicorn's), with one future and one timer
per request and idle connections pooled per worker port.

    UpstreamError         the worker could not be reached or dropped the connection
    └── UpstreamTimeout   no complete response within the timeout

``UpstreamError.sent`` says whether the request may have reached the worker: when it
is False the caller may safely send it to another worker.

>>> upstreams = Upstreams()                                                   # doctest: +SKIP
>>> r = await upstreams.request(8081, "POST", "/invocations",                 # doctest: +SKIP
...     [("content-type", "text/csv")], b"1,2", timeout=60.0)
>>> r.status, r.headers["content-type"], r.body                               # doctest: +SKIP
(200, 'text/csv', b'0.5\\n')
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

import httptools

# Framing is this client's job: a caller's values for these would contradict it.
_OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade"})


class UpstreamError(Exception):
    """The worker could not be reached or dropped the connection.

    ``sent`` is False when nothing reached the worker (the connection was refused, or a
    pooled connection was found dead before the request was written): the caller may
    retry elsewhere. When True the worker may have processed the request.
    """

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


class UpstreamTimeout(UpstreamError):
    """The worker did not answer completely within the request's timeout."""


@dataclass(slots=True)
class Response:
    """A worker's response; header names are lower-cased, repeated headers joined by ", "."""

    status: int
    headers: dict[str, str]
    body: bytes


class _Dropped(Exception):
    """The connection closed before any byte of the response arrived."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection; carries one request at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, generation: int) -> None:
        self.loop = loop
        self.generation = generation  # of its port's pool when connected; see Upstreams.forget
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_in: list[_Connection] | None = None  # the pool holding it while idle
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[Response] | None = None
        self.head = False
        self.status = 0  # set once the response's headers are complete
        self.received = False
        self.keep_alive = False
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []

    # -- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        if self.waiter is None:
            # Bytes nobody asked for: the connection's framing can no longer be trusted.
            self.abort()
            return
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamError(f"the worker sent a malformed response: {exc}", sent=True))
            self.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.idle_in is not None:
            self.idle_in.remove(self)
            self.idle_in = None
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        if not self.received:
            self._fail(_Dropped())
        elif self.status and "content-length" not in self.headers and "transfer-encoding" not in self.headers:
            # HTTP/1.1 lets a response without framing end where the connection ends.
            self.keep_alive = False
            self._resolve()
        else:
            reason = f": {exc}" if exc else ""
            self._fail(UpstreamError(f"the worker closed the connection mid-response{reason}", sent=True))

    # -- httptools callbacks -----------------------------------------------------------

    def on_message_begin(self) -> None:
        self.headers = {}
        self.body = []
        self.status = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        previous = self.headers.get(key)
        self.headers[key] = text if previous is None else f"{previous}, {text}"

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        if self.head:
            # httptools cannot be told a HEAD response has no body: finish here, never reuse.
            self.keep_alive = False
            self._resolve()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        if self.waiter is None or self.waiter.done():
            self.abort()  # a response nobody waits for (any more): don't reuse the connection
            return
        self.keep_alive = self.parser.should_keep_alive()
        self._resolve()

    # -- requests ----------------------------------------------------------------------

    def send(self, data: bytes, head: bool) -> asyncio.Future[Response]:
        self.waiter = waiter = self.loop.create_future()
        self.head = head
        self.received = False
        self.keep_alive = False
        self.status = 0
        self.transport.write(data)  # type: ignore[union-attr]
        return waiter

    def expire(self, timeout: float) -> None:
        if self.waiter is not None and not self.waiter.done():
            self._fail(UpstreamTimeout(f"no complete response within {timeout:g} s", sent=True))
            self.abort()

    def done(self) -> None:
        self.waiter = None

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _resolve(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            body = self.body[0] if len(self.body) == 1 else b"".join(self.body)
            waiter.set_result(Response(self.status, self.headers, body))

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)


class Upstreams:
    """Pools of idle keep-alive connections, one pool per worker port, for ONE event loop.

    ``request`` must be called from that loop; ``forget`` may be called from any thread.
    A request that finds its pooled connection stale (the worker restarted) is retried
    once on a fresh connection.
    """

    def __init__(self, host: str = "127.0.0.1", *, max_idle_per_port: int = 64) -> None:
        self.host = host
        self.max_idle_per_port = max_idle_per_port
        self._idle: dict[int, list[_Connection]] = {}
        self._generation: dict[int, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    async def request(
        self, port: int, method: str, path: str, headers: list[tuple[str, str]], body: bytes, timeout: float
    ) -> Response:
        """Send one request to the worker on ``port`` and return its complete response.

        Raises ``UpstreamTimeout`` when connect, send and response take longer than
        ``timeout`` seconds, ``UpstreamError`` when the worker cannot be reached or
        drops the connection, ``ValueError`` for a header containing CR or LF.
        """
        if self._closed:
            raise RuntimeError("these upstream connections are closed")
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        data = self._encode(port, method, path, headers, body)
        head = method == "HEAD"
        conn = self._take(port)
        written = False
        if conn is not None:
            try:
                return await self._exchange(port, conn, data, head, deadline, timeout)
            except _Dropped:
                # Stale (the worker restarted, or closed it as idle), or the worker died on
                # this very request: a fresh connection tells which. In the second case the
                # request may have been processed, so a failure from here on says sent=True.
                written = True
        conn = await self._connect(port, deadline, timeout, sent=written)
        try:
            return await self._exchange(port, conn, data, head, deadline, timeout)
        except _Dropped:
            raise UpstreamError(f"the worker on port {port} closed the connection without answering",
                                sent=True) from None

    def idle_count(self, port: int) -> int:
        """How many idle connections to ``port`` are pooled."""
        return len(self._idle.get(port, ()))

    def forget(self, port: int) -> None:
        """Close the idle connections to ``port`` (its worker died or was stopped); those
        in use are closed when their request ends. Safe from any thread."""
        loop = self._loop
        if loop is None or _running_loop() is loop:
            self._forget(port)
            return
        try:
            loop.call_soon_threadsafe(self._forget, port)
        except RuntimeError:
            self._forget(port)  # the loop is closed: nothing else touches the pools

    async def aclose(self) -> None:
        """Close every idle connection; connections in use close when their request ends."""
        self._closed = True
        for port in list(self._idle):
            self._forget(port)

    # -- internals -----------------------------------------------------------------------

    def _encode(self, port: int, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
        lines = [f"{method} {path} HTTP/1.1\r\nhost: {self.host}:{port}\r\ncontent-length: {len(body)}\r\n"]
        for name, value in headers:
            if name.lower() in _OWN_HEADERS:
                continue
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise ValueError(f"header {name!r} contains a line break")
            lines.append(f"{name}: {value}\r\n")
        lines.append("\r\n")
        return b"".join(("".join(lines).encode("latin-1"), body))

    def _take(self, port: int) -> _Connection | None:
        idle = self._idle.get(port)
        while idle:
            conn = idle.pop()
            conn.idle_in = None
            if not conn.closed and not conn.transport.is_closing():  # type: ignore[union-attr]
                return conn
        return None

    def _give_back(self, port: int, conn: _Connection) -> None:
        idle = self._idle.get(port)
        if idle is None:
            idle = self._idle[port] = []
        if (
            self._closed
            or conn.generation != self._generation.get(port, 0)
            or len(idle) >= self.max_idle_per_port
            or conn.transport.is_closing()  # type: ignore[union-attr]
        ):
            conn.abort()
            return
        conn.idle_in = idle
        idle.append(conn)

    async def _connect(self, port: int, deadline: float, timeout: float, *, sent: bool) -> _Connection:
        loop = self._loop
        generation = self._generation.get(port, 0)
        try:
            async with asyncio.timeout_at(deadline):
                _, conn = await loop.create_connection(  # type: ignore[union-attr]
                    lambda: _Connection(loop, generation), self.host, port  # type: ignore[arg-type]
                )
        except TimeoutError:
            raise UpstreamTimeout(f"could not connect to the worker on port {port} within {timeout:g} s",
                                  sent=sent) from None
        except OSError as exc:
            raise UpstreamError(f"could not connect to the worker on port {port}: {exc.strerror or exc}",
                                sent=sent) from None
        return conn

    async def _exchange(
        self, port: int, conn: _Connection, data: bytes, head: bool, deadline: float, timeout: float
    ) -> Response:
        waiter = conn.send(data, head)
        timer = self._loop.call_at(deadline, conn.expire, timeout)  # type: ignore[union-attr]
        try:
            response = await waiter
        except BaseException:
            # A timeout, a drop, or the caller cancelled: the connection's state is unknown.
            conn.abort()
            raise
        finally:
            timer.cancel()
            conn.done()
        if conn.keep_alive and not conn.closed:
            self._give_back(port, conn)
        else:
            conn.abort()
        return response

    def _forget(self, port: int) -> None:
        self._generation[port] = self._generation.get(port, 0) + 1
        for conn in self._idle.pop(port, []):
            conn.idle_in = None
            conn.abort()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
