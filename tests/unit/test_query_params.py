"""kit/query.py: query parameters parsed once per distinct query string, exactly as Starlette parses them."""

from __future__ import annotations

import pytest
from starlette.datastructures import QueryParams
from starlette.requests import Request

from telroute.kit import query
from telroute.kit.query import query_params


def _request(raw: bytes) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": raw, "headers": []})


@pytest.mark.parametrize(
    "raw",
    [b"", b"limit=10&offset=0", b"a=1&a=2", b"alias=a%20b%26c&x=", b"starts_with=+1206", b"%00=%ff&flag"],
)
def test_parsed_as_starlette_parses_it(raw: bytes) -> None:
    parsed = query_params(_request(raw))
    expected = QueryParams(raw)
    assert parsed.multi_items() == expected.multi_items()
    assert dict(parsed) == dict(expected)


def test_the_same_query_string_is_parsed_once() -> None:
    first = query_params(_request(b"starts_with=1206&limit=10"))
    assert query_params(_request(b"starts_with=1206&limit=10")) is first
    assert query_params(_request(b"starts_with=1206&limit=11")) is not first


def test_long_query_strings_are_not_kept() -> None:
    raw = b"contains=" + b"5" * query.MAX_KEPT_LENGTH
    first = query_params(_request(raw))
    assert first["contains"] == "5" * query.MAX_KEPT_LENGTH
    assert query_params(_request(raw)) is not first


def test_at_most_max_kept_are_kept_and_a_full_table_starts_over(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(query, "MAX_KEPT", 3)
    monkeypatch.setattr(query, "_parsed", {})
    parsed = [query_params(_request(f"n={n}".encode())) for n in range(4)]
    assert len(query._parsed) == 1
    assert query_params(_request(b"n=3")) is parsed[3]
    assert query_params(_request(b"n=0")) is not parsed[0]
