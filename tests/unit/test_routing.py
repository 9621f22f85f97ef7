"""kit/routing.py: `IndexedRouter` answers every path and method exactly as Starlette's router does over the
same routes (the shortcut only skips routes that cannot match), and takes the shortcut only for paths no
other route can match."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.types import Message

from telroute.kit.routing import IndexedRouter, method_routes

pytestmark = pytest.mark.no_database


def _answer(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return PlainTextResponse(f"{name} {sorted(request.path_params.items())}")

    return endpoint


def _routes() -> list[BaseRoute]:
    """The shapes of telroute's table: a static path before a template that also matches it, and one after
    such a template; one template served by several routes; a static path of its own; a mount."""
    return method_routes(
        [
            Route("/healthz", _answer("healthz"), methods=["GET"]),
            Route("/v2/numbers/available", _answer("search"), methods=["GET"]),
            Route("/v2/numbers", _answer("list"), methods=["GET"]),
            Route("/v2/numbers/{number}", _answer("detail"), methods=["GET"]),
            Route("/v2/numbers/{value}", _answer("purchase"), methods=["POST"]),
            Route("/v2/numbers/{number}", _answer("release"), methods=["DELETE"]),
            Route("/v2.1/messages", _answer("send"), methods=["POST"]),
            Route("/v2.1/messages", _answer("records"), methods=["GET"]),
            Route("/v2.1/messages/{message_id}", _answer("record"), methods=["GET"]),
            Route("/v2/routes/{route_id}", _answer("route"), methods=["GET"]),
            Route("/v2/routes/edge_strategies", _answer("never: the template before it wins"), methods=["GET"]),
            Mount("/static", routes=[Route("/app.js", _answer("asset"), methods=["GET"])]),
        ]
    )


PATHS = (
    "/healthz",
    "/healthz/",
    "/v2/numbers",
    "/v2/numbers/",
    "/v2/numbers/available",
    "/v2/numbers/available/",
    "/v2/numbers/12065550100",
    "/v2.1/messages",
    "/v2.1/messages/mdr2-abc",
    "/v2/routes/edge_strategies",
    "/static/app.js",
    "/nowhere",
)
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


async def _call(router: Router, method: str, path: str, root_path: str = "") -> tuple[int, str, str | None]:
    app = Starlette()
    app.router = router
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "root_path": root_path,
             "query_string": b"", "headers": [(b"host", b"testserver")], "scheme": "http",
             "server": ("testserver", 80), "client": ("127.0.0.1", 1), "asgi": {"version": "3.0"}}  # fmt: skip
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = sent[0]
    body = b"".join(message.get("body", b"") for message in sent[1:]).decode()
    allow = dict(start["headers"]).get(b"allow")
    return start["status"], body, None if allow is None else allow.decode()


@pytest.mark.parametrize(("method", "path"), list(itertools.product(METHODS, PATHS)))
async def test_every_answer_is_starlettes(method: str, path: str) -> None:
    indexed = await _call(IndexedRouter(_routes()), method, path)
    assert indexed == await _call(Router(_routes()), method, path)


def test_only_paths_no_other_route_matches_take_the_shortcut() -> None:
    router = IndexedRouter(_routes())
    shortcuts = set(router._sole_route)
    # `/v2/numbers/{number}` steps aside for `/v2/numbers/available`, so the search has the path alone.
    assert shortcuts == {"/healthz", "/v2/numbers", "/v2/numbers/available", "/v2.1/messages"}


async def test_a_405_from_the_shortcut_names_every_method_of_the_path() -> None:
    status, _, allow = await _call(IndexedRouter(_routes()), "DELETE", "/v2.1/messages")
    assert status == 405 and allow is not None and set(allow.split(", ")) == {"GET", "HEAD", "POST"}


@pytest.mark.parametrize(
    ("root_path", "path"),
    [("/api", "/api/healthz"), ("/api", "/api/v2.1/messages"), ("/api", "/healthz"), ("/v2.1", "/v2.1/messages")],
)
async def test_behind_a_root_path_it_routes_as_starlette_does(root_path: str, path: str) -> None:
    indexed = await _call(IndexedRouter(_routes()), "GET", path, root_path=root_path)
    assert indexed == await _call(Router(_routes()), "GET", path, root_path=root_path)
