"""HTTP for the deployment's virtual clock (admin token: it moves time for every account and process):
`GET /sandbox/clock` and `POST /sandbox/clock/advance` with `{"seconds": N}`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from telroute.accounts.auth import require_admin
from telroute.bootstrap import Deps
from telroute.kit import jsonapi
from telroute.kit.clock import system_clock
from telroute.kit.http import attributes_of, parse_json, read_body
from telroute.sandbox_tools import virtual_clock
from telroute.sandbox_tools.clock_request import seconds_of
from telroute.sandbox_tools.clock_schemas import SandboxClockDocument, clock_document


def _clock(deps: Deps) -> SandboxClockDocument:
    return clock_document(system_clock(), virtual_clock.virtual(deps).offset_us)


def routes(deps: Deps) -> list[Route]:
    settings = deps.settings

    async def show(request: Request) -> Response:
        require_admin(request, settings.admin_token)
        await virtual_clock.refresh(deps)
        return jsonapi.document(_clock(deps))

    async def advance(request: Request) -> Response:
        require_admin(request, settings.admin_token)
        raw = await read_body(request, settings.max_body_bytes)
        attributes, pointer = attributes_of(parse_json(raw))
        seconds = seconds_of(attributes, pointer)
        async with deps.db.transaction() as connection:
            offset = await virtual_clock.advance(connection, seconds)
        virtual_clock.moved(deps, offset)
        return jsonapi.document(_clock(deps))

    return [
        Route("/sandbox/clock", show, methods=["GET"]),
        Route("/sandbox/clock/advance", advance, methods=["POST"]),
    ]
