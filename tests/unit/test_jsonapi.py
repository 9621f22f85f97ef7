"""kit/jsonapi.py: paging parameters, links and error documents."""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request

from telroute.errors import BadRequest, NotFound, ServiceUnavailable, TooManyRequests
from telroute.kit import jsonapi
from telroute.kit.jsonapi import Page


def _request(
    query: str = "", headers: dict[str, str] | None = None, scheme: str = "http", public_base_url: str | None = None
) -> Request:
    raw_headers = [(key.lower().encode(), value.encode()) for key, value in (headers or {}).items()]
    app = Starlette()
    app.state.public_base_url = public_base_url
    scope = {"type": "http", "method": "GET", "path": "/v2/numbers", "query_string": query.encode(),
             "headers": raw_headers, "scheme": scheme, "server": ("10.0.0.1", 8443), "app": app}  # fmt: skip
    return Request(scope)


@pytest.mark.parametrize(
    ("query", "expected"),
    [("", Page(10, 0)), ("limit=3&offset=6", Page(3, 6)), ("limit=5000", Page(200, 0)), ("limit=200", Page(200, 0)),
     ("limit=%205%20", Page(5, 0)), ("offset=0", Page(10, 0))],
)  # fmt: skip
def test_parse_page(query: str, expected: Page) -> None:
    assert jsonapi.parse_page(_request(query), default=10, maximum=200) == expected


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("limit=0", "limit"), ("limit=-3", "limit"), ("limit=x", "limit"), ("limit=1.0", "limit"), ("limit=", "limit"),
     ("limit=%EF%BC%95", "limit"), ("offset=-1", "offset"), ("offset=1e3", "offset"),
     ("limit=9999999999999", "limit")],
)  # fmt: skip
def test_parse_page_refuses(query: str, parameter: str) -> None:
    with pytest.raises(BadRequest) as caught:
        jsonapi.parse_page(_request(query), default=10, maximum=200)
    assert caught.value.parameter == parameter


def test_page_links_order_filters_alphabetically_then_limit_and_offset() -> None:
    filters = {"starts_with": "1646", "contains": "3", "ends_with": "7", "state": None}
    links = jsonapi.page_links("https://h:1", "/v2/numbers/available", filters, Page(3, 0), has_next=True)
    assert links == {
        "self": "https://h:1/v2/numbers/available?contains=3&ends_with=7&starts_with=1646&limit=3&offset=0",
        "next": "https://h:1/v2/numbers/available?contains=3&ends_with=7&starts_with=1646&limit=3&offset=3",
    }


def test_page_links_without_a_next_page_and_with_quoting() -> None:
    links = jsonapi.page_links("http://h", "/v2/numbers", {"alias": "a b&c=d/é"}, Page(10, 20), has_next=False)
    assert links == {"self": "http://h/v2/numbers?alias=a%20b%26c%3Dd%2F%C3%A9&limit=10&offset=20"}


@given(st.lists(st.tuples(st.text(max_size=12), st.one_of(st.text(max_size=12), st.integers())), max_size=6))
def test_links_quote_exactly_as_urlencode_does(pairs: list[tuple[str, str | int]]) -> None:
    assert jsonapi.url_with_query("http://h", "/p", list(pairs)) == f"http://h/p?{urlencode(pairs, quote_via=quote)}"


def test_base_url_uses_the_host_header_or_the_configured_public_url() -> None:
    request = _request(headers={"host": "api.example:8080"})
    assert jsonapi.base_url(request) == "http://api.example:8080"
    configured = _request(headers={"Host": "api.example:8080"}, public_base_url="https://numbers.example.com/")
    assert jsonapi.base_url(configured) == "https://numbers.example.com"
    assert jsonapi.base_url(_request(scheme="https")) == "https://10.0.0.1:8443"


@pytest.mark.parametrize(
    ("error", "title"),
    [(BadRequest("bad", parameter="limit"), "Client Error"), (NotFound("gone"), "Client Error"),
     (ServiceUnavailable("down"), "Server Error")],
)  # fmt: skip
def test_error_documents(error: BadRequest, title: str) -> None:
    body = jsonapi.error_body(error)
    (item,) = body["errors"]
    assert item["status"] == error.status and item["title"] == title and item["detail"] == error.detail
    assert uuid.UUID(item["id"]).version == 4
    assert ("source" in item) == (error.parameter is not None)


def test_error_response_carries_status_headers_and_media_type() -> None:
    response = jsonapi.error_response(TooManyRequests("slow down", retry_after=1.2))
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.headers["content-type"] == "application/vnd.api+json"
    assert json.loads(bytes(response.body))["errors"][0]["status"] == 429


def test_pointer_source() -> None:
    item = jsonapi.error_body(BadRequest("bad alias", pointer="/alias"))["errors"][0]
    assert item["source"] == {"pointer": "/alias"}


def test_document_and_no_content() -> None:
    response = jsonapi.document({"data": []}, status=201)
    assert (response.status_code, response.body) == (201, b'{"data":[]}')
    empty = jsonapi.no_content()
    assert (empty.status_code, empty.body) == (204, b"")
