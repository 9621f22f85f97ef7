"""A callback receiver that misbehaves on purpose, over raw HTTP/1.1 with keep-alive, and counts its sockets.

Each path is given a behaviour: answer (a status, extra headers, after a delay), hang until released,
reset the connection, or answer 200 and then stream a body that never ends (or stalls). The receiver records
every request and every connection (when it opened and closed, how many bytes it sent), and the
most connections it ever had open at once. It runs an asyncio loop in a thread of its own.

    with FaultReceiver() as receiver:
        receiver.behave("/slow", Answer(200, delay=0.05))
        receiver.behave("/dead", Hang())
        ...
        receiver.max_open  # the most sockets open at once
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tests.support.receiver import Recorded


@dataclass(frozen=True, slots=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True, slots=True)
class Hang:
    """Send nothing until `release()`, then answer 200 (if the sender still listens)."""


@dataclass(frozen=True, slots=True)
class Reset:
    """Read the request, then abort the connection (TCP RST)."""


@dataclass(frozen=True, slots=True)
class Endless:
    """Answer 200 with a chunked body that never ends."""


@dataclass(frozen=True, slots=True)
class Stall:
    """Answer 200 with a Content-Length of 1000, send 10 bytes of the body, then nothing more."""


Behaviour = Answer | Hang | Reset | Endless | Stall
_CHUNK = b"x" * 16384
_CHUNK_FRAME = b"%x\r\n" % len(_CHUNK) + _CHUNK + b"\r\n"
_STOP_TIMEOUT = 5.0


class _Accepted(asyncio.StreamReaderProtocol):
    """`asyncio.start_server`'s protocol, which also tells `_Sockets` when its connection is made and lost."""

    def __init__(
        self, sockets: _Sockets, serve: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
    ) -> None:
        super().__init__(asyncio.StreamReader(), serve)
        self._sockets = sockets
        sockets.accepted(self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._sockets.made(self, transport)
        super().connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._sockets.lost(self)


class _Sockets:
    """Every accepted connection until its socket is closed, including those not yet handed to a handler:
    the receiver stops only once all are closed (one left open would warn as unraisable later, in whatever
    test is running then)."""

    def __init__(self) -> None:
        self._open: dict[_Accepted, asyncio.Transport | None] = {}

    def accepted(self, protocol: _Accepted) -> None:
        self._open[protocol] = None  # its transport comes a turn or two later

    def made(self, protocol: _Accepted, transport: asyncio.Transport) -> None:
        self._open[protocol] = transport

    def lost(self, protocol: _Accepted) -> None:
        self._open.pop(protocol, None)  # asyncio closes the socket right after this call

    async def close_all(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for _ in range(2):  # a connection accepted in this turn makes its protocol in the next
            await asyncio.sleep(0)
        while self._open and time.monotonic() < deadline:
            for transport in list(self._open.values()):
                if transport is not None:
                    transport.abort()
            await asyncio.sleep(0.005)
        # A connection whose transport never came (accepted as the server closed, seen once in a loaded run)
        # has no socket of ours to close: asyncio closed it when making the transport failed.
        made = [transport for transport in self._open.values() if transport is not None]
        assert not made, f"{len(made)} connections of the receiver still open after {timeout} s"


@dataclass(slots=True)
class Connection:
    opened_at: float
    closed_at: float | None = None
    bytes_sent: int = 0


class FaultReceiver:
    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._behaviours: dict[str, Behaviour] = {}
        self._requests: list[Recorded] = []
        self.connections: list[Connection] = []
        self._open = 0
        self.max_open = 0
        self._loop = asyncio.new_event_loop()
        self._released: asyncio.Event | None = None
        self._serving: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._sockets = _Sockets()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-receiver", daemon=True)

    # lifecycle

    def __enter__(self) -> FaultReceiver:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=3 * _STOP_TIMEOUT)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        self._released = asyncio.Event()
        loop = asyncio.get_running_loop()
        sockets = self._sockets
        self._server = await loop.create_server(lambda: _Accepted(sockets, self._serve), "127.0.0.1", 0, backlog=1024)

    async def _stop(self) -> None:
        """Hung-up connections end their handlers by themselves (cancelling them would be logged as errors)."""
        assert self._server is not None and self._released is not None
        self._released.set()
        self._server.close()
        await self._sockets.close_all(_STOP_TIMEOUT)
        if self._serving:
            await asyncio.wait(set(self._serving), timeout=_STOP_TIMEOUT)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    # configuration

    def behave(self, path: str, behaviour: Behaviour) -> None:
        with self._lock:
            self._behaviours[path] = behaviour

    def release(self) -> None:
        """Hanging requests (and later ones to Hang paths) are answered 200 from now on."""
        assert self._released is not None
        self._loop.call_soon_threadsafe(self._released.set)

    # what was received

    def requests(self, path: str | None = None) -> list[Recorded]:
        with self._lock:
            return [item for item in self._requests if path is None or item.path == path]

    @property
    def open_now(self) -> int:
        with self._lock:
            return self._open

    def wait_until(self, predicate: Callable[[], bool], *, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"not within {timeout} s: {what} ({len(self._requests)} requests)")
                self._lock.wait(min(remaining, 0.05))

    # serving

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = Connection(time.monotonic())
        task = asyncio.current_task()
        assert task is not None
        self._serving[task] = writer
        with self._lock:
            self.connections.append(connection)
            self._open += 1
            self.max_open = max(self.max_open, self._open)
            self._lock.notify_all()
        try:
            while await self._one_request(reader, writer, connection):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.transport.abort()
            # The socket closes a turn after the abort: this handler ends after it, so the loop is never
            # stopped with a socket still open (which would warn of an unclosed transport later, in any test).
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            del self._serving[task]
            with self._lock:
                self._open -= 1
                connection.closed_at = time.monotonic()
                self._lock.notify_all()

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, connection: Connection
    ) -> bool:
        """Serve one request; False when the connection is to end."""
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _ = request_line.split(" ", 2)
        headers = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        path = target.split("?", 1)[0]
        with self._lock:
            self._requests.append(Recorded(method, path, "", headers, body, time.monotonic()))
            self._lock.notify_all()
            behaviour = self._behaviours.get(path, Answer())
        return await self._act(behaviour, reader, writer, connection)

    async def _act(
        self, behaviour: Behaviour, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, connection: Connection
    ) -> bool:
        assert self._released is not None
        if isinstance(behaviour, Reset):
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if isinstance(behaviour, Hang):
            await self._hang(reader)
            behaviour = Answer()
        if isinstance(behaviour, Stall):
            await self._send(writer, connection, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
            await self._hang(reader)
            return False
        if isinstance(behaviour, Endless):
            await self._send(writer, connection, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            while True:
                await self._send(writer, connection, _CHUNK_FRAME)
        await asyncio.sleep(behaviour.delay)
        extra = "".join(f"{name}: {value}\r\n" for name, value in behaviour.headers.items())
        head = f"HTTP/1.1 {behaviour.status} Whatever\r\nContent-Length: 0\r\n{extra}\r\n"
        await self._send(writer, connection, head.encode("latin-1"))
        return True

    async def _hang(self, reader: asyncio.StreamReader) -> None:
        """Until released; or until the sender hangs up (it timed out), which ends the connection."""
        assert self._released is not None
        released = asyncio.create_task(self._released.wait())
        hung_up = asyncio.create_task(reader.read(1))
        await asyncio.wait({released, hung_up}, return_when=asyncio.FIRST_COMPLETED)
        released.cancel()
        if not hung_up.done():
            hung_up.cancel()
            return
        raise ConnectionResetError("the sender hung up")

    async def _send(self, writer: asyncio.StreamWriter, connection: Connection, data: bytes) -> None:
        writer.write(data)
        await writer.drain()
        with self._lock:
            connection.bytes_sent += len(data)
