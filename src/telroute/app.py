"""create_app(deps): routes, error handling, lifespan; create_ops_app(deps): the same for a worker's
health and metrics port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import cache

import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from telroute import openapi
from telroute.accounts import api as accounts_api
from telroute.bootstrap import Deps
from telroute.carriers import metrics as carrier_metrics
from telroute.cnam import api as cnam_api
from telroute.console import api as console_api
from telroute.e911 import api as e911_api
from telroute.errors import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    TelrouteError,
    UnsupportedMediaType,
)
from telroute.kit import jsonapi, metrics
from telroute.kit.db import database_error_types, is_unavailable
from telroute.kit.migrate import head_revision, schema_revisions
from telroute.kit.routing import IndexedRouter, method_routes
from telroute.messages import api as messages_api
from telroute.messages import api_v22 as messages_api_v22
from telroute.numbers import api as numbers_api
from telroute.porting import api as porting_api
from telroute.probe_schemas import HEALTHY, READY
from telroute.sandbox_tools import api as sandbox_api

log = structlog.get_logger("telroute.http")
Lifespan = Callable[[Starlette], AbstractAsyncContextManager[None]]
_READY_TIMEOUT = 5.0
_METRIC_SOURCES: tuple[metrics.Source, ...] = (carrier_metrics.link_families,)

_HTTP_ERRORS: dict[int, type[TelrouteError]] = {
    400: BadRequest,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


async def on_telroute_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TelrouteError)
    return jsonapi.error_response(exc)


async def on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error_type = _HTTP_ERRORS.get(exc.status_code, BadRequest)
    detail = {
        404: f"no such resource: {request.url.path}",
        405: f"method {request.method} is not allowed on {request.url.path}",
    }.get(exc.status_code, str(exc.detail))
    response = jsonapi.error_response(error_type(detail))
    if exc.headers and "Allow" in exc.headers:
        response.headers["Allow"] = exc.headers["Allow"]
    return response


async def on_client_gone(request: Request, exc: Exception) -> Response:
    # The client hung up, or the edge gave up on its body (408): nobody reads this answer, and it is no error
    # of the server's.
    log.debug("client gone before its request body was complete", path=request.url.path, method=request.method)
    return jsonapi.error_response(BadRequest("the request body was not complete", code="client_disconnected"))


async def on_unexpected(request: Request, exc: Exception) -> Response:
    if is_unavailable(exc):
        return jsonapi.error_response(ServiceUnavailable("the database is unavailable; try again shortly"))
    log.exception("unhandled error", path=request.url.path, method=request.method)
    error = TelrouteError("an internal error occurred; it has been logged")
    return jsonapi.error_response(error)


async def _readiness(deps: Deps, head: str) -> str | None:
    """None when the database answers and its schema is at `head`; else why not."""
    try:
        revisions = await asyncio.wait_for(schema_revisions(deps.db), timeout=_READY_TIMEOUT)
    except TimeoutError:
        return f"the database did not answer within {_READY_TIMEOUT:g} s"
    except Exception as exc:
        if is_unavailable(exc):
            return "the database is unavailable"
        return f"the database schema cannot be read ({type(exc).__name__}); run `telroute migrate`"
    if revisions != [head]:
        found = ", ".join(revisions) or "none"
        return f"the database schema is at revision {found}, this server needs {head}; run `telroute migrate`"
    return None


def operational_routes(deps: Deps) -> list[BaseRoute]:
    """/healthz, /readyz and /metrics: what every listening process serves, the API's and a worker's."""
    head = head_revision()  # this server's migration head, read once at start-up

    async def healthz(request: Request) -> Response:
        return jsonapi.document(HEALTHY)

    async def readyz(request: Request) -> Response:
        problem = await _readiness(deps, head)
        if problem is not None:
            return jsonapi.error_response(ServiceUnavailable(f"not ready: {problem}", code="not_ready"))
        return jsonapi.document(READY)

    async def prometheus(request: Request) -> Response:
        body = await deps.metrics_relay.merged_into(await metrics.exposition(deps.db, deps.clock, _METRIC_SOURCES))
        return Response(body, headers={"Content-Type": metrics.CONTENT_TYPE})

    return [Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", prometheus)]


def _openapi_route() -> Route:
    @cache  # built on the first request, not at every process start (a twentieth of a second)
    def document() -> bytes:
        return jsonapi.encode(openapi.document())

    async def openapi_document(request: Request) -> Response:
        return Response(document(), media_type="application/json")

    return Route("/openapi.json", openapi_document)


class RejectNulInUrl:
    """A NUL character (`%00`) in the path or the query is refused with a 400 before routing: no
    identifier or filter can contain one, and PostgreSQL text cannot hold it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and ("\x00" in scope["path"] or b"%00" in scope["query_string"]):
            error = BadRequest("the URL must not contain NUL characters (%00)")
            await jsonapi.error_response(error)(scope, receive, send)
            return
        await self.app(scope, receive, send)


@asynccontextmanager
async def _no_lifespan(app: Starlette) -> AsyncIterator[None]:
    yield


def _starlette(routes: Sequence[BaseRoute], lifespan: Lifespan | None, public_base_url: str | None) -> Starlette:
    app = Starlette(
        middleware=[Middleware(metrics.HttpMetrics), Middleware(RejectNulInUrl)],
        exception_handlers={
            TelrouteError: on_telroute_error,
            HTTPException: on_http_exception,
            ClientDisconnect: on_client_gone,
            **{error_type: on_unexpected for error_type in database_error_types()},
            Exception: on_unexpected,
        },
    )
    app.router = IndexedRouter(method_routes(routes), lifespan=lifespan or _no_lifespan)
    app.state.public_base_url = public_base_url
    return app


def create_app(deps: Deps, *, feature_routes: Sequence[BaseRoute] = (), lifespan: Lifespan | None = None) -> Starlette:
    routes = [
        *operational_routes(deps),
        _openapi_route(),
        *accounts_api.routes(deps),
        # Before numbers: a number's E911 and CNAM relationship paths are not callback types.
        *e911_api.routes(deps),
        *cnam_api.routes(deps),
        *numbers_api.routes(deps),
        *porting_api.routes(deps),
        *messages_api.routes(deps),
        *messages_api_v22.routes(deps),
        *messages_api.admin_routes(deps),
        *sandbox_api.routes(deps),
        *console_api.routes(deps),
        *feature_routes,
    ]
    return _starlette(routes, lifespan, deps.settings.public_base_url)


def create_ops_app(deps: Deps) -> Starlette:
    """A worker's optional HTTP port: health, readiness and metrics only, errors as JSON:API."""
    return _starlette(operational_routes(deps), None, deps.settings.public_base_url)
