"""The operator's view (the admin token): accounts, SMPP links and their state, the job queue, dead
letters, and messages per second over the last 15 minutes."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from telroute.accounts import service as accounts_service
from telroute.bootstrap import Deps
from telroute.console import repository, web
from telroute.kit import jobs
from telroute.kit.clock import format_timestamp

WINDOW_MINUTES = 15


def routes(deps: Deps, key: Callable[[], bytes]) -> list[Route]:
    async def overview(request: Request) -> Response:
        web.require_operator(web.current(request, key()), deps.settings.admin_token)
        now = deps.clock()
        since = now - WINDOW_MINUTES * 60_000_000
        depth, oldest = await jobs.queue_depth(deps.db)
        async with deps.db.snapshot() as connection:
            accounts = await accounts_service.list_all(connection)
            links = await repository.links(connection)
            dead = await repository.pending_dead_letters(connection)
            per_minute = {
                int(row["minute"]): int(row["messages"])
                for row in await repository.messages_per_minute(connection, since)
            }
        first = since // 60_000_000 + 1
        chart = [round(per_minute.get(minute, 0) / 60, 3) for minute in range(first, first + WINDOW_MINUTES)]
        return web.secured(
            JSONResponse(
                {
                    "accounts": [{"access_key": a["access_key"], "name": a["name"]} for a in accounts],
                    "links": [{"carrier": r["carrier"], "holder": r["holder"], "state": r["state"]} for r in links],
                    "jobs": {"depth": depth, "oldest": None if oldest is None else format_timestamp(oldest)},
                    "dead_letters": dead,
                    "messages_per_second": chart,
                }
            )
        )

    return [Route("/console/api/operator", overview, methods=["GET"])]
