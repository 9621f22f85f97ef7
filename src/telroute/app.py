"""create_app(deps): routes, error handling, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from telroute.accounts import api as accounts_api
from telroute.bootstrap import Deps
from telroute.errors import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    TelrouteError,
    UnsupportedMediaType,
)
from telroute.kit import jsonapi
from telroute.kit.db import is_unavailable, sql
from telroute.messages import api as messages_api
from telroute.numbers import api as numbers_api

log = structlog.get_logger("telroute.http")
Lifespan = Callable[[Starlette], AbstractAsyncContextManager[None]]
_PING = sql("SELECT 1")

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


async def on_unexpected(request: Request, exc: Exception) -> Response:
    if is_unavailable(exc):
        return jsonapi.error_response(ServiceUnavailable("the database is unavailable; try again shortly"))
    log.exception("unhandled error", path=request.url.path, method=request.method)
    error = TelrouteError("an internal error occurred; it has been logged")
    return jsonapi.error_response(error)


def operational_routes(deps: Deps) -> list[BaseRoute]:
    async def healthz(request: Request) -> Response:
        return jsonapi.document({"status": "ok"})

    async def readyz(request: Request) -> Response:
        await deps.db.fetchval(_PING)
        return jsonapi.document({"status": "ready"})

    return [Route("/healthz", healthz), Route("/readyz", readyz)]


def create_app(
    deps: Deps, *, feature_routes: Sequence[BaseRoute] = (), lifespan: Lifespan | None = None
) -> Starlette:
    @asynccontextmanager
    async def no_lifespan(app: Starlette) -> AsyncIterator[None]:
        yield

    return Starlette(
        routes=[
            *operational_routes(deps),
            *accounts_api.routes(deps),
            *numbers_api.routes(deps),
            *messages_api.routes(deps),
            *messages_api.admin_routes(deps),
            *feature_routes,
        ],
        exception_handlers={
            TelrouteError: on_telroute_error,
            HTTPException: on_http_exception,
            Exception: on_unexpected,
        },
        lifespan=lifespan or no_lifespan,
    )
