"""Basic authentication around every /v2 and /v2.1 endpoint."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from telroute.accounts import service
from telroute.accounts.model import Account
from telroute.bootstrap import Deps

AccountEndpoint = Callable[[Request, Account], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def authenticated(deps: Deps, handler: AccountEndpoint) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        account = await service.authenticate(deps.db, request.headers.get("authorization"))
        request.state.account_key = account.access_key
        return await handler(request, account)

    endpoint.__name__ = handler.__name__
    return endpoint
