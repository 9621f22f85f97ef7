"""kit/http.py: request bodies as JSON whatever the Content-Type, flat or under data.attributes."""

from __future__ import annotations

import msgspec
import pytest
from starlette.requests import Request

from telroute.errors import BadRequest, PayloadTooLarge
from telroute.kit import http


class Body(msgspec.Struct):
    alias: str | None = None
    enabled: bool = True


def _request(chunks: list[bytes], headers: dict[str, str] | None = None) -> Request:
    pending = list(chunks)

    async def receive() -> dict[str, object]:
        chunk = pending.pop(0) if pending else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    raw = [(key.encode(), value.encode()) for key, value in (headers or {}).items()]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": raw}, receive)


async def test_read_body_joins_chunks_and_remembers_them() -> None:
    request = _request([b'{"a"', b": 1}"])
    assert await http.read_body(request) == b'{"a": 1}'
    assert request.state.raw_body == b'{"a": 1}'


async def test_read_body_refuses_a_declared_length_over_the_limit_before_reading() -> None:
    with pytest.raises(PayloadTooLarge):
        await http.read_body(_request([b"{}"], {"content-length": "11"}), limit=10)


async def test_read_body_refuses_a_stream_that_grows_over_the_limit() -> None:
    with pytest.raises(PayloadTooLarge):
        await http.read_body(_request([b"x" * 6, b"x" * 6]), limit=10)
    assert await http.read_body(_request([b"x" * 5, b"x" * 5]), limit=10) == b"x" * 10


@pytest.mark.parametrize(
    ("raw", "detail"),
    [(b"", "empty"), (b"   \n", "empty"), (b"{", "not valid JSON"), (b"\xc3\x28", "UTF-8"),
     (b"[" * 40 + b"]" * 40, "nested"), (b'{"a": "' + b"[" * 40 + b'"}', None)],
)  # fmt: skip
def test_parse_json(raw: bytes, detail: str | None) -> None:
    if detail is None:  # brackets inside a string do not count as nesting
        assert http.parse_json(raw) == {"a": "[" * 40}
        return
    with pytest.raises(BadRequest, match=detail) as caught:
        http.parse_json(raw)
    assert caught.value.pointer == ""


def test_parse_json_allows_an_empty_body_when_asked() -> None:
    assert http.parse_json(b"", allow_empty=True) == {}
    assert http.parse_json(b"\r\n", allow_empty=True) == {}


def test_escaped_quotes_do_not_end_a_string_for_the_depth_check() -> None:
    assert http.parse_json(b'{"a": "\\"[[[["}') == {"a": '"[[[['}


@pytest.mark.parametrize(
    ("body", "expected"),
    [({"alias": "x"}, ({"alias": "x"}, "")),
     ({"data": {"type": "number", "attributes": {"alias": "x"}}}, ({"alias": "x"}, "/data/attributes")),
     ({"data": {"type": "number"}}, ({}, "/data/attributes"))],
)  # fmt: skip
def test_attributes_of_flat_and_jsonapi_bodies(body: object, expected: tuple[dict[str, object], str]) -> None:
    assert http.attributes_of(body) == expected


@pytest.mark.parametrize(
    ("body", "pointer"),
    [([], ""), ("text", ""), ({"data": []}, "/data"), ({"data": {"attributes": []}}, "/data/attributes")],
)
def test_attributes_of_refuses_other_shapes(body: object, pointer: str) -> None:
    with pytest.raises(BadRequest) as caught:
        http.attributes_of(body)
    assert caught.value.pointer == pointer


def test_convert_is_lenient_about_string_booleans() -> None:
    assert http.convert({"enabled": "false"}, Body, "") == Body(enabled=False)


def test_convert_points_at_the_bad_field() -> None:
    with pytest.raises(BadRequest) as caught:
        http.convert({"alias": 5}, Body, "/data/attributes")
    assert caught.value.pointer == "/data/attributes/alias"
    assert "$." not in caught.value.detail


async def test_read_attributes_end_to_end() -> None:
    request = _request([b'{"data": {"attributes": {"alias": "desk"}}}'], {"content-type": "text/plain"})
    assert await http.read_attributes(request, Body) == Body(alias="desk")
    assert await http.read_attributes(_request([b""]), Body, allow_empty=True) == Body()


def test_the_depth_limit_counts_nesting_not_brackets() -> None:
    assert http.parse_json(b'{"a":' * 32 + b"1" + b"}" * 32)
    assert http.parse_json(b'{"a": [' + b"[], " * 40 + b'[]], "b": "{{{{[[[["}') == {"a": [[]] * 41, "b": "{{{{[[[["}
    with pytest.raises(BadRequest, match="nested deeper than 32 levels"):
        http.parse_json(b'{"a":' * 33 + b"1" + b"}" * 33)
