"""HTTP for the sandbox tools under /sandbox/ (served only in the sandbox profile).

Admin token (`Authorization: Bearer`): `POST /sandbox/accounts`, `DELETE /sandbox/accounts/{access_key}`, and
the deployment's virtual clock (`clock_api.py`).
Account credentials (Basic, like the Flowroute API; an account sees only its own messages):
`GET /sandbox/messages`, `GET /sandbox/messages/wait`, `POST /sandbox/reset`; the fault rules
(`faults_api.py`) and the callback tries (`callbacks_api.py`)."""

from __future__ import annotations

from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from telroute.accounts.auth import authenticated, require_admin
from telroute.accounts.model import CALLBACK_TYPES, Account
from telroute.bootstrap import Deps
from telroute.errors import RequestTimeout
from telroute.kit import jsonapi
from telroute.kit.addresses import AddressPolicy, require_reachable
from telroute.kit.http import attributes_of, parse_json, read_body
from telroute.kit.inputs import typed
from telroute.kit.outbound import validate_url
from telroute.kit.query import query_params
from telroute.sandbox_tools import api_faults, callbacks_api, clock_api, faults_api, model, schemas, service
from telroute.sandbox_tools.waiting import first_match

log = structlog.get_logger("telroute.sandbox")
_ARRIVALS_SHOWN = 5


def _reachable_callbacks(
    callbacks: dict[str, str | None], policy: AddressPolicy, pointer: str
) -> dict[str, str | None]:
    """Each URL checked like `PUT /v2.1/messages/{callback_type}` checks it, address policy included."""
    checked: dict[str, str | None] = {}
    for name, raw in callbacks.items():
        where = f"{pointer}/callbacks/{name}"
        url = None if raw is None else validate_url(raw, name=name, pointer=where)
        checked[name] = require_reachable(url, policy, name=name, pointer=where)
    return checked


def new_account(
    attributes: dict[str, Any], pointer: str, policy: AddressPolicy
) -> tuple[model.NewAccountRequest, dict[str, str | None]]:
    """The typed body, refused as `model.new_account_request` then `_reachable_callbacks` refuse it."""

    def rules(body: Any) -> tuple[model.NewAccountRequest, dict[str, str | None]]:
        wanted = model.new_account_request(
            body.name, body.numbers, body.area_code, body.callbacks, pointer=pointer, callback_types=CALLBACK_TYPES
        )
        return wanted, _reachable_callbacks(wanted.callbacks, policy, pointer)

    return rules(typed(attributes, schemas.NewAccountAttributes, pointer, rules=rules))


def _filters(request: Request, extra: tuple[str, ...]) -> model.MessageFilters:
    params = query_params(request)
    model.refuse_unknown(params, (*model.FILTER_NAMES, *extra))
    return model.parse_filters(params)


def _timed_out(filters: model.MessageFilters, timeout: float, arrived: list[Any]) -> RequestTimeout:
    return RequestTimeout(
        f"no message matching {filters.describe()} within {timeout:g} s; {model.describe_arrivals(arrived)}",
        code="wait_timed_out",
    )


def routes(deps: Deps) -> list[Route]:
    if deps.settings.profile != "sandbox":
        return []
    settings = deps.settings
    api_faults.install(deps)

    async def create_account(request: Request) -> Response:
        require_admin(request, settings.admin_token)
        raw = await read_body(request, settings.max_body_bytes)
        attributes, pointer = attributes_of(parse_json(raw, allow_empty=True))
        wanted, callbacks = new_account(attributes, pointer, deps.http.policy)
        async with deps.db.transaction() as connection:
            keys, numbers = await service.create_account(
                connection, wanted, callbacks, now=deps.clock(), pointer=pointer
            )
        log.info("sandbox account created", account=keys.access_key, numbers=len(numbers))
        set_callbacks = {name: url for name, url in callbacks.items() if url is not None}
        document = schemas.account_document(
            keys.access_key, keys.secret_key, wanted.name, numbers, set_callbacks, jsonapi.base_url(request)
        )
        return jsonapi.document(document, status=201)

    async def delete_account(request: Request) -> Response:
        require_admin(request, settings.admin_token)
        access_key = str(request.path_params["access_key"])
        async with deps.db.transaction() as connection:
            await service.delete_account(connection, access_key)
        log.info("sandbox account deleted", account=access_key)
        return jsonapi.no_content()

    async def search(request: Request, account: Account) -> Response:
        filters = _filters(request, model.PAGE_NAMES)
        page = jsonapi.parse_page(request, 20, 100)
        async with deps.db.snapshot() as connection:
            found, more = await service.search(connection, account, filters, page)
        base = jsonapi.base_url(request)
        items = [schemas.message_record(message, receipts, base) for message, receipts in found]
        links = jsonapi.page_links(base, "/sandbox/messages", filters.query(), page, more)
        return jsonapi.document(schemas.messages_page(items, links))

    async def wait(request: Request, account: Account) -> Response:
        filters = _filters(request, ("timeout",))
        timeout = model.parse_timeout(query_params(request).get("timeout"))
        found = await first_match(deps.db, account, filters, timeout)
        if found is None:
            async with deps.db.snapshot() as connection:
                arrived = await service.newest(connection, account, _ARRIVALS_SHOWN)
            raise _timed_out(filters, timeout, arrived)
        message, receipts = found
        record = schemas.message_record(message, receipts, jsonapi.base_url(request))
        return jsonapi.document(schemas.SandboxMessageDocument(record))

    async def reset(request: Request, account: Account) -> Response:
        async with deps.db.transaction() as connection:
            await service.reset(connection, account)
        api_faults.api_rules_changed(deps)
        log.info("sandbox account reset", account=account.access_key)
        return jsonapi.no_content()

    return [
        Route("/sandbox/accounts", create_account, methods=["POST"]),
        Route("/sandbox/accounts/{access_key}", delete_account, methods=["DELETE"]),
        Route("/sandbox/messages", authenticated(deps, search), methods=["GET"]),
        Route("/sandbox/messages/wait", authenticated(deps, wait), methods=["GET"]),
        Route("/sandbox/reset", authenticated(deps, reset), methods=["POST"]),
        *faults_api.routes(deps),
        *callbacks_api.routes(deps),
        *clock_api.routes(deps),
    ]
