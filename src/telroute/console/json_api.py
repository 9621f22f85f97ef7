"""The console's JSON endpoints under /console/api: what its script reads and the few actions it
takes. Every one needs the session cookie; every state-changing one also the `X-CSRF-Token` header.
One account's ids are 404 to another (the queries filter by account)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from telroute.accounts.model import Account
from telroute.bootstrap import Deps
from telroute.console import actions, operator, search, service, stream, web
from telroute.console.notifier import Notifier
from telroute.errors import BadRequest, NotFound
from telroute.kit.query import query_params
from telroute.messages import service as messages_service

AccountHandler = Callable[[Request, Account], Awaitable[Any]]
_MAX_OFFSET = 100_000


def _json(value: Any) -> Response:
    return web.secured(JSONResponse(value))


def _offset(request: Request) -> int:
    raw = query_params(request).get("offset", "0")
    if not raw.isdigit() or int(raw) > _MAX_OFFSET:
        raise BadRequest(f"offset must be a whole number up to {_MAX_OFFSET}", parameter="offset")
    return int(raw)


def _number(request: Request, name: str) -> str:
    digits = "".join(char for char in query_params(request).get(name, "") if char.isdigit())
    if not digits:
        raise BadRequest(f"{name} must be a phone number", parameter=name)
    return digits


def json_routes(deps: Deps, key: Callable[[], bytes], notifier: Notifier) -> list[Route]:
    def account_endpoint(handler: AccountHandler, *, writes: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            session = web.current(request, key())
            account = await web.account_of(deps.db, session)
            if writes:
                assert session is not None
                web.check_csrf(session, request.headers.get("x-csrf-token"))
            result = await handler(request, account)
            return result if isinstance(result, Response) else _json(result)

        endpoint.__name__ = handler.__name__
        return endpoint

    async def messages(request: Request, account: Account) -> Any:
        query = search.parse(query_params(request).get("q", ""))
        async with deps.db.snapshot() as connection:
            return await service.messages(connection, account.id, query, _offset(request))

    async def message(request: Request, account: Account) -> Any:
        async with deps.db.snapshot() as connection:
            return await service.message(connection, account.id, str(request.path_params["message_id"]))

    async def conversation(request: Request, account: Account) -> Any:
        a, b = _number(request, "a"), _number(request, "b")
        async with deps.db.snapshot() as connection:
            return await service.conversation(connection, account.id, a, b)

    async def numbers(request: Request, account: Account) -> Any:
        async with deps.db.snapshot() as connection:
            return await service.numbers(connection, account.id)

    async def calculate(request: Request, account: Account) -> Any:
        text = query_params(request).get("text", "")
        if len(text) > 1600:
            raise BadRequest("a draft holds at most 1600 characters", parameter="text")
        return service.calculate(text, deps.settings.prices)

    async def media(request: Request, account: Account) -> Response:
        row = await messages_service.media_content(deps.db, account, str(request.path_params["media_id"]))
        if not str(row["mime_type"]).startswith("image/"):
            raise NotFound("only images are previewed")
        headers = {"Content-Security-Policy": "default-src 'none'; sandbox", "X-Content-Type-Options": "nosniff"}
        return Response(bytes(row["content"]), media_type=row["mime_type"], headers=headers)

    async def live(request: Request, account: Account) -> Response:
        return stream.events(notifier, account.id, deps.stopping)

    async def replay(request: Request, account: Account) -> Any:
        raw = str(request.path_params["dead_letter_id"])
        if not raw.isdigit() or len(raw) > 18:
            raise NotFound(f"no dead letter {raw}")
        async with deps.db.transaction() as connection:
            await service.replay(connection, account.id, int(raw), now=deps.clock())
        deps.wakeup.notify()
        return {"replayed": int(raw)}

    async def compose(request: Request, account: Account) -> Any:
        return await actions.send(deps, request, account)

    async def simulate(request: Request, account: Account) -> Any:
        return await actions.simulate_inbound(deps, request, account)

    api = f"{'/console'}/api"
    return [
        Route(f"{api}/messages", account_endpoint(messages), methods=["GET"]),
        Route(f"{api}/messages", account_endpoint(compose, writes=True), methods=["POST"]),
        Route(f"{api}/messages/{{message_id}}", account_endpoint(message), methods=["GET"]),
        Route(f"{api}/conversation", account_endpoint(conversation), methods=["GET"]),
        Route(f"{api}/numbers", account_endpoint(numbers), methods=["GET"]),
        Route(f"{api}/calculate", account_endpoint(calculate), methods=["GET"]),
        Route(f"{api}/media/{{media_id}}", account_endpoint(media), methods=["GET"]),
        Route(f"{api}/stream", account_endpoint(live), methods=["GET"]),
        Route(f"{api}/dead-letters/{{dead_letter_id}}/replay", account_endpoint(replay, writes=True), methods=["POST"]),
        Route(f"{api}/inbound", account_endpoint(simulate, writes=True), methods=["POST"]),
        *operator.routes(deps, key),
    ]
