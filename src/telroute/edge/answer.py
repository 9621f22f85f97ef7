"""Whole HTTP/1.1 error responses written by the server itself, outside the app (a request it cannot parse,
one too large or too slow, a connection over the limit): JSON:API documents like every other error."""

from __future__ import annotations

import http

from telroute.errors import TelrouteError
from telroute.kit import jsonapi


def error_answer(error: TelrouteError, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """The response for `error`, announcing that the server closes the connection after it."""
    body = jsonapi.encode(jsonapi.error_body(error))
    lines = [f"HTTP/1.1 {error.status} {http.HTTPStatus(error.status).phrase}".encode()]
    lines += [name + b": " + value for name, value in default_headers]
    lines += [f"{name.lower()}: {value}".encode() for name, value in error.headers.items()]
    lines += [f"content-type: {jsonapi.MEDIA_TYPE}".encode(), f"content-length: {len(body)}".encode()]
    lines.append(b"connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
