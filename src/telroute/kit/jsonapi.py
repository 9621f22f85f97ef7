"""JSON:API documents, links and paging as Flowroute clients expect them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from telroute.errors import BadRequest, TelrouteError
from telroute.kit.query import query_params

MEDIA_TYPE = "application/vnd.api+json"
_encoder = msgspec.json.Encoder()


def encode(document: Any) -> bytes:
    return _encoder.encode(document)


class JsonApiResponse(Response):
    media_type = MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else encode(content)


def document(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return JsonApiResponse(data, status_code=status, headers=headers)


def no_content() -> Response:
    return Response(status_code=204)


def error_body(error: TelrouteError) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "status": error.status,
        "title": "Client Error" if error.status < 500 else "Server Error",
        "detail": error.detail,
        "code": error.code,
    }
    if error.parameter is not None:
        item["source"] = {"parameter": error.parameter}
    elif error.pointer is not None:
        item["source"] = {"pointer": error.pointer}
    return {"errors": [item]}


def error_response(error: TelrouteError) -> Response:
    return JsonApiResponse(error_body(error), status_code=error.status, headers=error.headers)


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    offset: int


def _non_negative_int(raw: str, name: str) -> int:
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise BadRequest(
            f"{name} must be a {'positive' if name == 'limit' else 'non-negative'} integer", parameter=name
        )
    return int(text)


def parse_page(request: Request, default: int, maximum: int) -> Page:
    query = query_params(request)
    limit = default if "limit" not in query else _non_negative_int(query["limit"], "limit")
    offset = 0 if "offset" not in query else _non_negative_int(query["offset"], "offset")
    if limit < 1:
        raise BadRequest("limit must be a positive integer", parameter="limit")
    return Page(limit=min(limit, maximum), offset=offset)


def base_url(request: Request) -> str:
    """The base of links in a response: the configured public base URL (`app.state.public_base_url`,
    behind a proxy), else the scheme and Host the request came with."""
    public_base_url: str | None = getattr(request.app.state, "public_base_url", None)
    if public_base_url:
        return public_base_url.rstrip("/")
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"{request.scope.get('scheme', 'http')}://{host}"  # the scheme as request.url has it, without building it


def page_links(base: str, path: str, filters: Mapping[str, str | None], page: Page, has_next: bool) -> dict[str, str]:
    """Filters alphabetically, then `limit` and `offset`; `next` only when another page exists."""
    pairs = [(key, value) for key, value in sorted(filters.items()) if value is not None]
    links = {"self": _url(base, path, [*pairs, ("limit", page.limit), ("offset", page.offset)])}
    if has_next:
        links["next"] = _url(base, path, [*pairs, ("limit", page.limit), ("offset", page.offset + page.limit)])
    return links


def _url(base: str, path: str, pairs: list[tuple[str, Any]]) -> str:
    """As `urlencode(pairs, quote_via=quote)` writes it, without its per-character work for plain names and
    numbers (most of a page link)."""
    return f"{base}{path}?" + "&".join(f"{_quoted(name)}={_quoted(value)}" for name, value in pairs)


def _quoted(value: Any) -> str:
    text = str(value)
    return text if text.isascii() and text.isalnum() else quote(text, safe="")


def url_with_query(base: str, path: str, pairs: list[tuple[str, Any]]) -> str:
    return _url(base, path, pairs)
