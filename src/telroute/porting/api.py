"""HTTP: `POST /v2/portorders/portability`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from telroute.accounts.auth import authenticated
from telroute.accounts.model import Account
from telroute.bootstrap import Deps
from telroute.kit import jsonapi
from telroute.kit.http import read_body
from telroute.porting import portability, schemas
from telroute.porting.request import numbers_of


def routes(deps: Deps) -> list[Route]:
    async def check_portability(request: Request, account: Account) -> Response:
        raw = await read_body(request, deps.settings.max_body_bytes)
        numbers = numbers_of(raw, request.headers.get("content-type", ""))
        async with deps.db.snapshot() as connection:
            result = await portability.check(connection, numbers)
        return jsonapi.document(schemas.portability(result))

    return [Route("/v2/portorders/portability", authenticated(deps, check_portability), methods=["POST"])]
