"""Error responses the server writes itself, outside the app: whole HTTP/1.1 messages with a JSON:API body."""

from __future__ import annotations

import json

from telroute.edge.answer import error_answer
from telroute.errors import RequestHeaderFieldsTooLarge, ServiceUnavailable


def test_an_answer_is_a_whole_response_that_announces_the_close() -> None:
    raw = error_answer(RequestHeaderFieldsTooLarge("too large"), [(b"date", b"Sun, 06 Dec 2026 16:00:00 GMT")])
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.split(b"\r\n") == [
        b"HTTP/1.1 431 Request Header Fields Too Large",
        b"date: Sun, 06 Dec 2026 16:00:00 GMT",
        b"content-type: application/vnd.api+json",
        f"content-length: {len(body)}".encode(),
        b"connection: close",
    ]
    [error] = json.loads(body)["errors"]
    assert (error["status"], error["code"], error["detail"]) == (431, "request_header_fields_too_large", "too large")


def test_the_headers_of_the_error_are_sent() -> None:
    raw = error_answer(ServiceUnavailable("full", code="connection_limit"), [])
    assert b"\r\nretry-after: 1\r\n" in raw
    assert raw.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
