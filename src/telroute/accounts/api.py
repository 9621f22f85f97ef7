"""HTTP: account-level callback settings, `PUT /v2.1/messages/{callback_type}` (and v2.2's, through
`callback_route`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from telroute.accounts import service
from telroute.accounts.auth import authenticated
from telroute.accounts.inputs import callback_body
from telroute.accounts.model import CALLBACK_TYPES, Account
from telroute.bootstrap import Deps
from telroute.errors import NotFound
from telroute.kit import jsonapi
from telroute.kit.addresses import AddressPolicy, require_reachable
from telroute.kit.http import read_raw_attributes
from telroute.kit.outbound import validate_url


def callback_type_of(request: Request, types: tuple[str, ...] = CALLBACK_TYPES) -> str:
    callback_type = str(request.path_params["callback_type"])
    if callback_type not in types:
        raise NotFound(f"unknown callback type {callback_type!r}; expected one of {', '.join(types)}")
    return callback_type


async def read_callback_url(request: Request, policy: AddressPolicy) -> str | None:
    """The URL to set (None: clear it); 422 for one the deployment's address policy refuses."""
    body = callback_body(*await read_raw_attributes(request))
    if body.callback_url in (None, ""):
        return None
    url = validate_url(body.callback_url, name="callback_url", pointer="/callback_url")
    return require_reachable(url, policy, name="callback_url", pointer="/callback_url")


def callback_route(deps: Deps, path: str, types: tuple[str, ...], methods: list[str], version: str = "2.1") -> Route:
    """`path` (with `{callback_type}`) sets one of the account's callbacks of `types`, through API `version`; 204."""

    async def set_account_callback(request: Request, account: Account) -> Response:
        callback_type = callback_type_of(request, types)
        url = await read_callback_url(request, deps.http.policy)
        async with deps.db.transaction() as connection:
            await service.set_callback(connection, account, callback_type, url, version)
        return jsonapi.no_content()

    return Route(path, authenticated(deps, set_account_callback), methods=methods)


def routes(deps: Deps) -> list[Route]:
    return [callback_route(deps, "/v2.1/messages/{callback_type}", CALLBACK_TYPES, ["PUT", "POST"])]
