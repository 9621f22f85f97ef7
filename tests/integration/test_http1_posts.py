"""The callbacks' HTTP/1.1 client against real servers: a connection the receiver closes while it sits idle is
not used again (nor is one closed just as it is taken: the request goes out on a new one), a name that
resolves to a refused address is never connected to, and https is verified against the given authorities."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from telroute.kit.addresses import AddressPolicy
from telroute.kit.http1_posts import Http1Posts
from telroute.kit.outbound_errors import OutboundError, TargetRefused

BODY = b'{"data": {}}'
HEADERS = {"Content-Type": "application/json"}
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
CHUNKED = b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n3\r\n!!!\r\n0\r\n\r\n"
UNTIL_CLOSE = b"HTTP/1.0 200 OK\r\n\r\nthe body ends when the connection does"


class Receiver:
    """A raw HTTP/1.1 server: answers each request with `reply` (and closes after an HTTP/1.0 one); the
    connection's `close_after`-th request (if set) is read and its connection closed without a reply. Counts
    requests and connections."""

    def __init__(self, *, close_after: int | None = None, reply: bytes = OK) -> None:
        self.close_after = close_after
        self.reply = reply
        self.requests: list[bytes] = []
        self.connections = 0
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        served = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                self.requests.append(head + await reader.readexactly(length))
                served += 1
                if served == self.close_after:
                    break
                writer.write(self.reply)
                await writer.drain()
                if self.reply.startswith(b"HTTP/1.0"):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    async def start(self, tls: ssl.SSLContext | None = None) -> int:
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0, ssl=tls)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        await asyncio.sleep(0.05)


async def until(predicate: object, *, what: str) -> None:
    for _ in range(200):
        if callable(predicate) and predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not within 2 s: {what}")


@pytest.fixture
async def posts() -> AsyncIterator[Http1Posts]:
    client = Http1Posts(AddressPolicy(allow_private=True))
    yield client
    await client.close()


async def test_a_connection_closed_while_idle_is_not_used_again(posts: Http1Posts) -> None:
    receiver = Receiver()
    port = await receiver.start()
    try:
        url = f"http://127.0.0.1:{port}/hook"
        assert (await posts.post(url, BODY, HEADERS, timeout=2, limit=100)).status == 200
        receiver.writers[0].close()  # the receiver ends the idle connection
        await until(lambda: not posts._idle, what="the idle connection dropped from the pool")
        assert (await posts.post(url, BODY, HEADERS, timeout=2, limit=100)).status == 200
        assert (len(receiver.requests), receiver.connections) == (2, 2)
    finally:
        await receiver.stop()


async def test_a_connection_closed_as_it_is_taken_sends_the_request_again_on_a_new_one(posts: Http1Posts) -> None:
    receiver = Receiver(close_after=2)  # the second request on a connection finds it closing
    port = await receiver.start()
    try:
        url = f"http://127.0.0.1:{port}/hook"
        statuses = [(await posts.post(url, BODY, HEADERS, timeout=2, limit=100)).status for _ in range(2)]
        assert statuses == [200, 200]
        assert receiver.connections == 2
    finally:
        await receiver.stop()


async def test_a_new_connection_closed_before_a_reply_is_an_error_not_retried(posts: Http1Posts) -> None:
    receiver = Receiver(close_after=1)
    port = await receiver.start()
    try:
        with pytest.raises(OutboundError, match="closed the connection before replying"):
            await posts.post(f"http://127.0.0.1:{port}/hook", BODY, HEADERS, timeout=2, limit=100)
        assert (len(receiver.requests), receiver.connections) == (1, 1)
    finally:
        await receiver.stop()


async def test_a_name_that_resolves_to_a_refused_address_is_never_connected_to() -> None:
    receiver = Receiver()
    port = await receiver.start()
    client = Http1Posts(AddressPolicy(allow_private=False))
    try:
        with pytest.raises(TargetRefused, match="localhost resolves to"):
            await client.post(f"http://localhost:{port}/hook", BODY, HEADERS, timeout=2, limit=100)
        assert receiver.connections == 0
    finally:
        await client.close()
        await receiver.stop()


def _certificate(directory: Path) -> tuple[Path, Path]:
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return key, cert


async def test_https_is_verified_against_the_given_authorities(tmp_path: Path) -> None:
    key, cert = _certificate(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    receiver = Receiver()
    port = await receiver.start(server_tls)
    trusting = Http1Posts(AddressPolicy(allow_private=True), tls=ssl.create_default_context(cafile=str(cert)))
    default = Http1Posts(AddressPolicy(allow_private=True))
    try:
        for _ in range(2):
            assert (
                await trusting.post(f"https://127.0.0.1:{port}/hook", BODY, HEADERS, timeout=5, limit=100)
            ).status == 200
        assert receiver.connections == 1  # kept alive over TLS too
        with pytest.raises(OutboundError, match="CERTIFICATE_VERIFY_FAILED"):
            await default.post(f"https://127.0.0.1:{port}/hook", BODY, HEADERS, timeout=5, limit=100)
        assert len(receiver.requests) == 2
    finally:
        await trusting.close()
        await default.close()
        await receiver.stop()


async def test_a_reply_that_is_not_http_is_an_error_and_its_connection_is_closed(posts: Http1Posts) -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
        await reader.read()  # until the client closes
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(OutboundError, match="invalid HTTP reply"):
            await posts.post(f"http://127.0.0.1:{port}/hook", BODY, HEADERS, timeout=2, limit=100)
        assert not posts._idle
    finally:
        server.close()


@pytest.mark.parametrize(
    ("reply", "status", "connections"),
    [(CHUNKED, 202, 1), (UNTIL_CLOSE, 200, 2)],
    ids=["chunked-kept-alive", "http-1.0-body-until-close"],
)
async def test_replies_of_every_framing_are_read_to_their_end(
    posts: Http1Posts, reply: bytes, status: int, connections: int
) -> None:
    receiver = Receiver(reply=reply)
    port = await receiver.start()
    try:
        url = f"http://127.0.0.1:{port}/hook"
        assert [(await posts.post(url, BODY, HEADERS, timeout=2, limit=100)).status for _ in range(2)] == [status] * 2
        assert (len(receiver.requests), receiver.connections) == (2, connections)
    finally:
        await receiver.stop()


async def test_an_ip_literal_is_not_looked_up(posts: Http1Posts, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lookups share a small thread pool that slow names can hold up: a literal needs none."""

    async def resolver_down(*args: object, **kwargs: object) -> object:
        raise OSError("the resolver is down")

    receiver = Receiver()
    port = await receiver.start()
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", resolver_down)
    try:
        assert (await posts.post(f"http://127.0.0.1:{port}/hook", BODY, HEADERS, timeout=2, limit=100)).status == 200
        with pytest.raises(OutboundError, match="cannot resolve localhost: the resolver is down"):
            await posts.post(f"http://localhost:{port}/hook", BODY, HEADERS, timeout=2, limit=100)
    finally:
        await receiver.stop()
