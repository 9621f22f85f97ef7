"""POSTs over kept-alive HTTP/1.1 connections: the client of the callbacks (`OutboundHttp.post`).

aiohttp spent about 160 µs of CPU on a callback POST (its request, response and timeout objects), two per
message; this client writes the request itself and reads the reply with httptools (the parser uvicorn
serves with): about 40 µs. It keeps the idle connections of each origin (closed after `keep_idle` seconds,
or at once when the receiver closes one), resolves names itself and connects only to addresses the
`AddressPolicy` permits (the checked address is the one connected to), speaks TLS for https, follows no
redirect and reads at most `limit` bytes of a reply: past that, or when the body stalls until the timeout,
the connection is closed and the status counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import cast
from urllib.parse import urlsplit

import httptools

from telroute.kit.addresses import AddressPolicy, refuse_resolved
from telroute.kit.origin_slots import origin_of
from telroute.kit.outbound_errors import OutboundError

KEEP_IDLE_SECONDS = 15.0


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    location: str | None  # of a redirect, which is not followed


class _Closed(OutboundError):
    """The connection ended before any byte of a reply: on a reused connection, worth one more try."""


class _Connection(asyncio.Protocol):
    """One connection; one exchange at a time. Between exchanges it waits in its origin's idle list."""

    def __init__(self, limit: int, on_lost: Callable[[_Connection], None]) -> None:
        self._limit = limit
        self._on_lost = on_lost
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._reply: asyncio.Future[Answer] | None = None
        self._status: int | None = None
        self._location: str | None = None
        self._received = 0  # bytes of the current reply
        self._body_bytes = 0
        self.reusable = False
        self.idle_timer: asyncio.TimerHandle | None = None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass asyncio's

    def data_received(self, data: bytes) -> None:
        if self._reply is None or self._reply.done():  # nothing was asked: the receiver misbehaves
            self.close()
            return
        self._received += len(data)
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:  # a 101 or CONNECT reply
            self._end_with(OutboundError(f"invalid HTTP reply: {type(exc).__name__}: {exc}"))

    def eof_received(self) -> bool:
        if self._status is not None:  # a body that lasts until the connection closes
            self._answer(reusable=False)
        self.close()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self.reusable = False
        if self._reply is not None and not self._reply.done():
            if self._status is not None:
                self._answer(reusable=False)
            elif exc is None:
                self._reply.set_exception(_Closed("the receiver closed the connection before replying"))
            else:
                self._reply.set_exception(_Closed(f"{type(exc).__name__}: {exc}"))
        self._on_lost(self)

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"location":
            self._location = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self._status = self._parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        if self._body_bytes > self._limit:
            self._answer(reusable=False)
            self.close()

    def on_message_complete(self) -> None:
        if self._status is not None and 100 <= self._status < 200:  # an interim reply: the final one follows
            self._status, self._location = None, None
            return
        self._answer(reusable=self._parser.should_keep_alive())

    # the exchange

    @property
    def open(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    def send(self, request: bytes) -> asyncio.Future[Answer]:
        assert self._transport is not None
        self._reply = asyncio.get_running_loop().create_future()
        self._status, self._location, self._received, self._body_bytes, self.reusable = None, None, 0, 0, False
        self._transport.write(request)
        return self._reply

    def expire(self) -> None:
        """The timeout: a reply whose status arrived counts (its body stalled); one without is an error."""
        if self._reply is None or self._reply.done():
            return
        if self._status is not None:
            self._answer(reusable=False)
        else:
            self._reply.set_exception(OutboundError("timed out"))
        self.close()

    @property
    def heard_nothing(self) -> bool:
        """Not one byte of a reply to the current request arrived."""
        return self._received == 0

    def _answer(self, *, reusable: bool) -> None:
        if self._reply is not None and not self._reply.done() and self._status is not None:
            self.reusable = reusable
            self._reply.set_result(Answer(self._status, self._location))

    def _end_with(self, error: OutboundError) -> None:
        if self._reply is not None and not self._reply.done():
            self._reply.set_exception(error)
        self.close()

    def close(self) -> None:
        self.reusable = False
        if self._transport is not None:
            self._transport.close()


@lru_cache(maxsize=4096)  # callbacks go to the same few URLs over and over
def _split(url: str) -> tuple[Origin, str]:
    """The URL's origin and its request target (path and query)."""
    parts = urlsplit(url)
    return Origin(*origin_of(url)), (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _request(origin: Origin, target: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {target} HTTP/1.1", f"Host: {origin.host_header}", "User-Agent: telroute"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Http1Posts:
    def __init__(
        self, policy: AddressPolicy, *, keep_idle: float = KEEP_IDLE_SECONDS, tls: ssl.SSLContext | None = None
    ) -> None:
        """`tls`: the context https connections verify with (default: the system's certificate authorities)."""
        self._policy = policy
        self._keep_idle = keep_idle
        self._idle: dict[Origin, list[_Connection]] = {}
        self._busy: set[_Connection] = set()
        self._tls = tls

    async def post(self, url: str, body: bytes, headers: dict[str, str], *, timeout: float, limit: int) -> Answer:
        """The reply's status (and Location). Raises TargetRefused (`kit.addresses.refuse_resolved`), or
        OutboundError ("timed out" when no status arrived within `timeout` seconds)."""
        origin, target = _split(url)
        request = _request(origin, target, body, headers)
        deadline = asyncio.get_running_loop().time() + timeout
        connection = self._reuse(origin)
        if connection is not None:
            try:
                return await self._exchange(connection, origin, request, deadline)
            except _Closed:
                if not connection.heard_nothing:
                    raise
                # It closed as it was taken (the receiver ended it while idle): a new connection.
        try:
            async with asyncio.timeout_at(deadline):
                connection = await self._connect(origin, limit)
        except TimeoutError:
            raise OutboundError("timed out") from None
        return await self._exchange(connection, origin, request, deadline)

    async def _exchange(self, connection: _Connection, origin: Origin, request: bytes, deadline: float) -> Answer:
        reply = connection.send(request)
        timer = asyncio.get_running_loop().call_at(deadline, connection.expire)
        self._busy.add(connection)
        try:
            return await reply
        finally:
            timer.cancel()
            self._busy.discard(connection)
            self._keep_or_close(connection, origin)

    def _reuse(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if connection.idle_timer is not None:
                connection.idle_timer.cancel()
            if connection.open:
                return connection
        return None

    def _keep_or_close(self, connection: _Connection, origin: Origin) -> None:
        if not (connection.reusable and connection.open):
            connection.close()
            return
        self._idle.setdefault(origin, []).append(connection)
        connection.idle_timer = asyncio.get_running_loop().call_later(self._keep_idle, connection.close)

    def _lost(self, origin: Origin, connection: _Connection) -> None:
        idle = self._idle.get(origin)
        if idle and connection in idle:
            idle.remove(connection)
        if idle == []:
            del self._idle[origin]

    async def _connect(self, origin: Origin, limit: int) -> _Connection:
        loop = asyncio.get_running_loop()
        addresses = await self._permitted_addresses(origin)
        tls = self._tls_context() if origin.scheme == "https" else None
        failure: OSError | None = None
        for family, address in addresses:
            try:
                _, connection = await loop.create_connection(
                    lambda: _Connection(limit, lambda lost: self._lost(origin, lost)),
                    host=address,
                    port=origin.port,
                    family=family,
                    ssl=tls,
                    server_hostname=origin.host if tls is not None else None,
                )
                return connection
            except OSError as exc:
                failure = exc
        raise OutboundError(f"cannot connect to {origin.host}:{origin.port}: {failure}")

    async def _permitted_addresses(self, origin: Origin) -> list[tuple[int, str]]:
        """Every address the name resolves to must be permitted (as a resolver guard would check). An IP
        literal is not resolved: lookups share a small thread pool, where slow names would hold it up."""
        try:
            literal = ipaddress.ip_address(origin.host)
        except ValueError:
            addresses = await self._resolve(origin)
        else:
            addresses = [(socket.AF_INET6 if literal.version == 6 else socket.AF_INET, origin.host)]
        refuse_resolved(origin.host, (address for _, address in addresses), self._policy)
        return list(dict.fromkeys(addresses))

    @staticmethod
    async def _resolve(origin: Origin) -> list[tuple[int, str]]:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(origin.host, origin.port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise OutboundError(f"cannot resolve {origin.host}: {exc}") from exc
        return [(family, str(sockaddr[0])) for family, _, _, _, sockaddr in found]

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    async def close(self) -> None:
        for connection in [*self._busy, *(each for idle in self._idle.values() for each in idle)]:
            with contextlib.suppress(Exception):
                connection.close()
        self._idle.clear()
        await asyncio.sleep(0)  # the transports close on the next turn of the loop
