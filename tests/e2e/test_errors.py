"""Every error is a JSON:API error document: authentication, unknown paths, methods, bodies."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import Keys, assert_error
from tests.support.server import Server


def _basic(raw: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic"},
        {"Authorization": "Basic !!!not-base64!!!"},
        {"Authorization": "Bearer abc"},
        _basic(b"no-colon"),
        _basic(b":secret-without-user"),
        _basic(b"\xff\xfe:\xff"),
        _basic(b"99999999:wrong"),
    ],
    ids=["missing", "empty", "garbled", "bearer", "no-colon", "no-user", "not-utf8", "unknown-key"],
)
def test_bad_credentials_are_401(server: Server, headers: dict[str, str]) -> None:
    with server.client() as client:
        for path in ("/v2/numbers", "/v2/numbers/available", "/v2/routes"):
            response = client.get(path, headers=headers)
            assert_error(response, 401)
            assert response.headers["www-authenticate"].startswith("Basic")


def test_a_wrong_secret_is_401(server: Server, keys: Keys, api: httpx.Client) -> None:
    with server.client((keys[0], keys[1] + "x")) as client:
        assert_error(client.get("/v2/numbers"), 401)
    assert api.get("/v2/numbers").status_code == 200


@pytest.mark.parametrize("path", ["/nope", "/v2", "/v2/nothing/here", "/v2/numbers/available/nxx", "/v3/numbers"])
def test_unknown_paths_are_404(api: httpx.Client, path: str) -> None:
    assert_error(api.get(path), 404)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/v2/numbers/12065551234", {"DELETE", "GET", "HEAD", "PATCH", "POST"}),
        ("POST", "/v2/numbers", {"GET", "HEAD"}),
        ("DELETE", "/v2/numbers/available", {"GET", "HEAD"}),
        ("POST", "/v2/numbers/available", {"GET", "HEAD"}),
        ("PATCH", "/v2/numbers/available", {"GET", "HEAD"}),
        ("POST", "/v2/numbers/available/areacodes", {"GET", "HEAD"}),
        ("DELETE", "/v2/routes", {"GET", "HEAD", "POST"}),
        ("POST", "/v2/routes/edge_strategies", {"GET", "HEAD"}),
        ("DELETE", "/healthz", {"GET", "HEAD"}),
    ],
)
def test_wrong_methods_are_405_with_allow(api: httpx.Client, method: str, path: str, allowed: set[str]) -> None:
    response = api.request(method, path)
    assert_error(response, 405)
    assert set(response.headers["allow"].split(", ")) == allowed


def test_405_comes_before_authentication(server: Server) -> None:
    with server.client() as anonymous:
        assert_error(anonymous.put("/v2/numbers/12065551234"), 405)


def test_bodies_over_a_megabyte_are_413(api: httpx.Client) -> None:
    body = b'{"alias": "' + b"a" * 1_048_576 + b'"}'
    assert_error(api.post("/v2/routes", content=body), 413)

    def chunks() -> Iterator[bytes]:
        for _ in range(17):
            yield b"a" * 65_536

    streamed = api.post("/v2/routes", content=chunks())  # chunked: no Content-Length to trust
    assert_error(streamed, 413)


def test_a_body_of_exactly_the_limit_is_read(api: httpx.Client) -> None:
    padding = 1_048_576 - len(b'{"alias": ""}')
    body = b'{"alias": "' + b"a" * padding + b'"}'
    assert len(body) == 1_048_576
    response = api.post("/v2/routes", content=body)
    assert_error(response, 400)  # parsed, then refused for its missing route_type


@pytest.mark.parametrize(
    ("body", "detail_part"),
    [
        (b"{", "not valid JSON"),
        (b"{'single': 'quotes'}", "not valid JSON"),
        (b"\xff\xfe{}", "UTF-8"),
        (b"[" * 100 + b"]" * 100, "nested"),
        (b"null", "JSON object"),
        (b"", "empty"),
    ],
)
def test_malformed_json_is_400(api: httpx.Client, body: bytes, detail_part: str) -> None:
    error = assert_error(api.post("/v2/routes", content=body, headers={"content-type": "application/json"}), 400)
    assert detail_part in error["detail"]


def test_error_ids_are_fresh(api: httpx.Client) -> None:
    ids = {assert_error(api.get("/nope"), 404)["id"] for _ in range(5)}
    assert len(ids) == 5
