"""HTTP for the sandbox's callback view (account credentials; an account sees only its own callbacks):
`GET /sandbox/callbacks` (what telroute sent the app and what the app answered, newest first) and
`GET /sandbox/callbacks/wait` (long poll, 408 at the timeout)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from telroute.accounts.auth import authenticated
from telroute.accounts.model import Account
from telroute.bootstrap import Deps
from telroute.errors import RequestTimeout
from telroute.kit import jsonapi
from telroute.kit.query import query_params
from telroute.sandbox_tools import callbacks_model, callbacks_repository
from telroute.sandbox_tools.callbacks_model import CallbackFilters
from telroute.sandbox_tools.callbacks_schemas import SandboxCallbackDocument, callback_record, callbacks_page
from telroute.sandbox_tools.model import PAGE_NAMES, parse_timeout, refuse_unknown
from telroute.sandbox_tools.waiting import first_callback

_TRIES_SHOWN = 5


def _filters(request: Request, extra: tuple[str, ...]) -> CallbackFilters:
    refuse_unknown(query_params(request), (*callbacks_model.FILTER_NAMES, *extra))
    return callbacks_model.parse_filters(query_params(request))


def routes(deps: Deps) -> list[Route]:
    async def search(request: Request, account: Account) -> Response:
        filters = _filters(request, PAGE_NAMES)
        page = jsonapi.parse_page(request, 20, 100)
        async with deps.db.snapshot() as connection:
            rows = await callbacks_repository.search(
                connection, account.id, filters, limit=page.limit + 1, offset=page.offset
            )
        base = jsonapi.base_url(request)
        links = jsonapi.page_links(base, "/sandbox/callbacks", filters.query(), page, len(rows) > page.limit)
        return jsonapi.document(callbacks_page(rows[: page.limit], links))

    async def wait(request: Request, account: Account) -> Response:
        filters = _filters(request, ("timeout",))
        timeout = parse_timeout(query_params(request).get("timeout"))
        found = await first_callback(deps.db, account, filters, timeout)
        if found is None:
            async with deps.db.snapshot() as connection:
                tried = await callbacks_repository.search(
                    connection, account.id, CallbackFilters(), limit=_TRIES_SHOWN, offset=0
                )
            detail = f"no callback matching {filters.describe()} within {timeout:g} s; "
            raise RequestTimeout(detail + callbacks_model.describe_attempts(tried), code="wait_timed_out")
        return jsonapi.document(SandboxCallbackDocument(callback_record(found)))

    return [
        Route("/sandbox/callbacks", authenticated(deps, search), methods=["GET"]),
        Route("/sandbox/callbacks/wait", authenticated(deps, wait), methods=["GET"]),
    ]
