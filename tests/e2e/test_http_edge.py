"""Hostile clients at the HTTP edge, against a real `telroute serve` over raw sockets: request heads over
the size limit (431), heads and bodies that do not arrive in time (408, or a silent close when nothing was
sent), idle keep-alive connections, hundreds of half-open connections, and more connections than the cap
(503 at once). Every answer the server writes itself is a JSON:API error and closes the connection, and
`/healthz` keeps answering. The servers run with short limits so that each test takes a second or two."""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from tests.e2e.conftest import assert_error
from tests.support import loopback
from tests.support.isolated import Deployment, deployment, eventually
from tests.support.messaging import new_account
from tests.support.server import Server

# the edge answers before any route or query: once, on the cheaper pass
pytestmark = [pytest.mark.one_database, pytest.mark.sqlite_only]

HEAD_LIMIT = 16_384
SHORT = {
    "TELROUTE_HTTP_HEAD_TIMEOUT": "1",
    "TELROUTE_HTTP_BODY_IDLE_TIMEOUT": "1",
    "TELROUTE_HTTP_BODY_TIMEOUT": "2",
    "TELROUTE_HTTP_KEEP_ALIVE_TIMEOUT": "1",
}
CAP = 50
HALF_OPEN = 300
PARTIAL_HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deployment(tmp_path_factory.mktemp("edge")) as deployed:
        yield deployed


@pytest.fixture(scope="module")
def edge(site: Deployment) -> Iterator[Server]:
    """A server with second-long timeouts and room for the half-open connections."""
    server = site.server("--no-worker", **SHORT, TELROUTE_HTTP_MAX_CONNECTIONS=str(HALF_OPEN + 50)).start()
    try:
        yield server
    finally:
        server.terminate()


@pytest.fixture(scope="module")
def capped(site: Deployment) -> Iterator[Server]:
    """A server that keeps at most CAP connections and lets them wait 5 s for a head."""
    server = site.server("--no-worker", TELROUTE_HTTP_MAX_CONNECTIONS=str(CAP), TELROUTE_HTTP_HEAD_TIMEOUT="5").start()
    try:
        yield server
    finally:
        server.terminate()


def connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def read_until_close(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (socket.timeout if it never does)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def answer_of(raw: bytes) -> httpx.Response:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    version, status, _ = status_line.split(" ", 2)
    assert version == "HTTP/1.1", raw[:200]
    headers = [(name.strip(), value.strip()) for name, _, value in (line.partition(":") for line in lines)]
    response = httpx.Response(int(status), headers=headers, content=body)
    assert response.headers.get("content-length") == str(len(body)), raw[:500]
    return response


def assert_closing_error(raw: bytes, status: int, code: str) -> dict[str, object]:
    """`raw` is one JSON:API error response of `status` announcing the close that followed it."""
    response = answer_of(raw)
    assert response.headers["connection"] == "close"
    error = assert_error(response, status)
    assert error["code"] == code, error
    return error


def exchange(server: Server, request: bytes) -> bytes:
    with connect(server) as sock:
        sock.sendall(request)
        return read_until_close(sock)


def head_of_size(size: int) -> bytes:
    """A complete GET /healthz head (request line and headers) of exactly `size` bytes, asking for the close."""
    start, end = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Pad: ", b"\r\n\r\n"
    return start + b"a" * (size - len(start) - len(end)) + end


def trickle(sock: socket.socket, piece: bytes, every: float, at_most: float = 10.0) -> bytes:
    """Send `piece` every `every` seconds until the server closes; what it answered."""
    received = b""
    sock.settimeout(every)
    deadline = time.monotonic() + at_most
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            continue
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"the server still held the connection after {at_most} s; it answered {received!r}")


def healthz(server: Server) -> int:
    return loopback.get(f"{server.url}/healthz", timeout=10).status_code


# Request heads: 16 KiB at most.


def test_a_head_of_exactly_the_limit_is_served(edge: Server) -> None:
    response = answer_of(exchange(edge, head_of_size(HEAD_LIMIT)))
    assert response.status_code == 200, response.text


def test_a_15_kib_header_is_served_on_a_kept_alive_connection(edge: Server) -> None:
    with loopback.client(base_url=edge.url, timeout=10) as client:
        for _ in range(3):
            assert client.get("/healthz", headers={"X-Pad": "a" * 15 * 1024}).status_code == 200


def test_a_head_one_byte_over_the_limit_is_a_jsonapi_431_and_closed(edge: Server) -> None:
    error = assert_closing_error(exchange(edge, head_of_size(HEAD_LIMIT + 1)), 431, "request_header_fields_too_large")
    assert str(HEAD_LIMIT) in str(error["detail"])


def test_a_17_kib_header_and_a_1_mb_header_are_answered_431(edge: Server) -> None:
    for size in (17 * 1024, 1024 * 1024):
        raw = exchange(edge, head_of_size(size))
        assert_closing_error(raw, 431, "request_header_fields_too_large")
    assert healthz(edge) == 200


def test_a_head_over_the_limit_after_a_served_request_is_answered_431(edge: Server) -> None:
    served = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with connect(edge) as sock:
        sock.sendall(served)
        time.sleep(0.2)  # the first request is answered before the second head arrives
        sock.sendall(head_of_size(20 * 1024))
        raw = read_until_close(sock)
    first, second = raw.split(b"HTTP/1.1 431", 1)
    assert answer_of(first).status_code == 200
    assert_closing_error(b"HTTP/1.1 431" + second, 431, "request_header_fields_too_large")


def test_pipelined_heads_over_the_limit_together_are_each_served(edge: Server) -> None:
    first = head_of_size(10 * 1024).replace(b"Connection: close", b"Connection: keep-alive")
    raw = exchange(edge, first + head_of_size(10 * 1024))
    first_answer, second_answer = raw.split(b"HTTP/1.1 ")[1:]
    assert answer_of(b"HTTP/1.1 " + first_answer).status_code == 200
    assert answer_of(b"HTTP/1.1 " + second_answer).status_code == 200


# Time limits: 1 s for a head, 1 s between body bytes and 2 s for a whole body, 1 s of keep-alive idleness.


def test_a_head_sent_slower_than_the_limit_is_a_jsonapi_408_and_closed(edge: Server) -> None:
    with connect(edge) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        raw = trickle(sock, b"X-Slow: 1\r\n", every=0.2)
    error = assert_closing_error(raw, 408, "request_timeout")
    assert "head" in str(error["detail"])
    assert answer_of(exchange(edge, head_of_size(100))).status_code == 200


def test_a_second_head_left_unfinished_on_a_kept_alive_connection_is_a_jsonapi_408(edge: Server) -> None:
    with connect(edge) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = read_head(sock)
        assert first.startswith(b"HTTP/1.1 200 "), first
        sock.sendall(PARTIAL_HEAD)
        raw = read_until_close(sock)
    _, _, second = raw.partition(b"HTTP/1.1 408")  # what is left of the first answer's body comes first
    assert_closing_error(b"HTTP/1.1 408" + second, 408, "request_timeout")


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(edge: Server) -> None:
    with connect(edge) as sock:
        assert read_until_close(sock) == b""


def test_an_idle_keep_alive_connection_is_closed_after_the_configured_idleness(edge: Server) -> None:
    with connect(edge) as sock:
        sock.settimeout(3)  # uvicorn's own default (5 s) would not close it in time: the setting is applied
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        raw = read_until_close(sock)
    response = answer_of(raw)
    assert response.status_code == 200
    assert "connection" not in response.headers


def test_a_body_that_stalls_is_a_jsonapi_408_and_closed(edge: Server) -> None:
    with connect(edge) as sock:
        sock.sendall(message_head(edge, length=100) + b'{"data": ')
        raw = read_until_close(sock)
    error = assert_closing_error(raw, 408, "request_timeout")
    assert "body" in str(error["detail"])
    assert healthz(edge) == 200
    assert "unhandled error" not in edge.output() and "Exception in ASGI" not in edge.output(), edge.output()


def test_a_body_that_trickles_past_the_whole_body_limit_is_a_jsonapi_408(edge: Server) -> None:
    with connect(edge) as sock:
        sock.sendall(message_head(edge, length=1000))
        raw = trickle(sock, b" ", every=0.3)
    assert_closing_error(raw, 408, "request_timeout")


def message_head(server: Server, length: int, *extra_headers: str) -> bytes:
    """The head of a POST /v2.1/messages of a fresh account, announcing a body of `length` bytes."""
    access_key, secret_key = new_account(server, "edge")
    credentials = base64.b64encode(f"{access_key}:{secret_key}".encode()).decode()
    lines = [
        "POST /v2.1/messages HTTP/1.1",
        "Host: 127.0.0.1",
        f"Authorization: Basic {credentials}",
        "Content-Type: application/vnd.api+json",
        f"Content-Length: {length}",
        *extra_headers,
    ]
    return "".join(line + "\r\n" for line in lines).encode() + b"\r\n"


# Many connections.


def test_hundreds_of_half_open_connections_are_answered_408_while_healthz_answers(edge: Server) -> None:
    with ExitStack() as stack:
        held = [stack.enter_context(connect(edge)) for _ in range(HALF_OPEN)]
        for sock in held:
            sock.sendall(PARTIAL_HEAD)
        assert healthz(edge) == 200
        answers = [read_until_close(sock) for sock in held]
    for raw in answers:
        assert_closing_error(raw, 408, "request_timeout")
    assert healthz(edge) == 200


def test_a_flood_of_connections_that_never_finish_a_head_cannot_keep_healthz_out(capped: Server) -> None:
    with ExitStack() as stack:
        flood = [stack.enter_context(connect(capped)) for _ in range(2 * CAP)]
        for sock in flood:
            sock.sendall(PARTIAL_HEAD)
        assert healthz(capped) == 200
        for sock in flood[:CAP]:  # the longest-waiting made room for the rest, then for /healthz
            assert_closing_error(read_until_close(sock), 503, "connection_limit")
    assert healthz(capped) == 200
    assert capped.output().count("make room") == 1, capped.output()


def test_idle_kept_alive_connections_make_room_too(capped: Server) -> None:
    eventually(lambda: healthz(capped) == 200, timeout=5, what="/healthz before the test")
    with ExitStack() as stack:
        idle = [stack.enter_context(connect(capped)) for _ in range(CAP)]
        for sock in idle:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert read_head(sock).startswith(b"HTTP/1.1 200 ")
            assert sock.recv(15, socket.MSG_WAITALL) == b'{"status":"ok"}'
        assert healthz(capped) == 200
        assert_closing_error(read_until_close(idle[0]), 503, "connection_limit")


def test_when_every_connection_is_inside_a_request_new_ones_are_answered_503(capped: Server) -> None:
    eventually(lambda: healthz(capped) == 200, timeout=5, what="/healthz before the test")
    head = message_head(capped, 100, "Expect: 100-continue")
    with ExitStack() as stack:
        busy = [stack.enter_context(connect(capped)) for _ in range(CAP)]
        for sock in busy:
            sock.sendall(head)
        for sock in busy:  # the app is reading each one's body
            assert read_head(sock) == b"HTTP/1.1 100 Continue"
        assert healthz(capped) == 503
        for raw in [exchange(capped, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") for _ in range(20)]:
            assert answer_of(raw).headers["retry-after"] == "1"
            assert_closing_error(raw, 503, "connection_limit")
    eventually(lambda: healthz(capped) == 200, timeout=5, what="/healthz once the busy connections closed")
    assert capped.output().count("new ones are answered 503") == 1, capped.output()


def read_head(sock: socket.socket) -> bytes:
    """The next response head on `sock` (status line and headers), without its blank line."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(1)
        assert chunk, f"closed after {received!r}"
        received += chunk
    return received[:-4]
