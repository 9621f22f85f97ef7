"""Requests uvicorn cannot parse (a bad method token, HTTP version, request line or header line) are answered
by the server itself, before any route: still a JSON:API 400 error document, never uvicorn's plain text,
and the server goes on serving."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.e2e.conftest import assert_error
from tests.support import loopback
from tests.support.server import Server

# answered before any route or query: once, on the cheaper pass
pytestmark = [pytest.mark.one_database, pytest.mark.sqlite_only]

MALFORMED = {
    "method-token": (b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n", "invalid method"),
    "request-line": (b"garbage\r\n\r\n", "invalid method"),
    "http-version": (b"GET / HTTP/9.9\r\n\r\n", "invalid HTTP version"),
    "header-without-colon": (b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", "invalid header token"),
    "space-in-header-name": (b"GET /healthz HTTP/1.1\r\nHo st: x\r\n\r\n", "invalid header token"),
    "control-in-header-value": (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n", "header value"),
    "byte-in-path": (b"GET /v2/\xff HTTP/1.1\r\nHost: x\r\n\r\n", "url"),
    "content-length": (b"POST /v2.1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", "Content-Length"),
}


def exchange(port: int, request: bytes) -> httpx.Response:
    """Send raw bytes on a fresh connection and read the answer up to the server's close."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    assert status_line == "HTTP/1.1 400 Bad Request", received
    headers = [(name.strip(), value.strip()) for name, _, value in (line.partition(":") for line in lines)]
    response = httpx.Response(400, headers=headers, content=body)
    assert response.headers["content-length"] == str(len(body))
    assert response.headers["connection"] == "close"
    return response


def assert_malformed(response: httpx.Response, reason: str) -> None:
    error = assert_error(response, 400)
    assert error["code"] == "invalid_http_request"
    assert error["detail"].startswith("the request is not valid HTTP/1.1: "), error
    assert reason in error["detail"], error


@pytest.mark.parametrize(("request_bytes", "reason"), list(MALFORMED.values()), ids=list(MALFORMED))
def test_an_unparsable_request_is_a_jsonapi_400(server: Server, request_bytes: bytes, reason: str) -> None:
    assert_malformed(exchange(server.port, request_bytes), reason)
    assert loopback.get(f"{server.url}/healthz", timeout=10).status_code == 200


def test_each_answer_has_a_fresh_id_and_the_server_keeps_serving(server: Server) -> None:
    ids = {assert_error(exchange(server.port, b"G@T / HTTP/1.1\r\n\r\n"), 400)["id"] for _ in range(5)}
    assert len(ids) == 5
    with server.client() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert_error(client.get("/no/such/path"), 404)
