"""HTTP of the console: its pages (/console), sign-in and sign-out, static files, and the JSON
endpoints under /console/api that its script reads, all behind the session cookie.

The JSON endpoints are private to the page (cookie and CSRF authentication, shapes that follow the
page), so they are not part of the public API document: `PREFIX` is the one place that says so
(see tests/e2e/test_openapi_contract.py and the README's console section)."""

from __future__ import annotations

from functools import cache
from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from telroute.accounts import repository as accounts_repository
from telroute.accounts.auth import client_key
from telroute.accounts.model import secret_matches
from telroute.bootstrap import Deps
from telroute.console import pages, web
from telroute.console import session as sessions
from telroute.console.json_api import json_routes
from telroute.console.notifier import Notifier
from telroute.errors import NotFound, Unauthorized

PREFIX = "/console"
_STATIC_TYPES = {"console.js": "text/javascript; charset=utf-8", "console.css": "text/css; charset=utf-8"}
_PRE_TOKEN_SECONDS = 3600


def _static_files() -> dict[str, bytes]:
    folder = resources.files("telroute.console") / "static"
    return {name: (folder / name).read_bytes() for name in _STATIC_TYPES}


def _sign_in_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    token = request.cookies.get(web.PRE_COOKIE) or sessions.new_session("pre", "", "", now=0).csrf
    response = web.secured(HTMLResponse(pages.sign_in(token, error), status_code=status))
    web.set_cookie(request, response, web.PRE_COOKIE, token, _PRE_TOKEN_SECONDS)
    return response


def _signed_in(request: Request, session: sessions.Session, key: bytes) -> Response:
    response = web.secured(RedirectResponse(PREFIX, status_code=303))
    web.set_cookie(request, response, sessions.COOKIE, sessions.encode(session, key), sessions.LIFETIME_SECONDS)
    response.delete_cookie(web.PRE_COOKIE, path=PREFIX)
    return response


def routes(deps: Deps) -> list[Route]:
    data_dir = deps.settings.data_dir

    @cache
    def key() -> bytes:  # read on first use, not when the routes are built
        return sessions.load_key(data_dir)

    static = _static_files()
    notifier = Notifier(deps.db)

    async def home(request: Request) -> Response:
        session = web.current(request, key())
        if session is not None and session.kind == "operator":
            return web.secured(HTMLResponse(pages.application(who="operator", csrf=session.csrf, view="operator")))
        try:
            account = await web.account_of(deps.db, session)
        except Unauthorized:
            return _sign_in_page(request)
        assert session is not None
        page = pages.application(who=f"{account.name} ({account.access_key})", csrf=session.csrf, view="account")
        return web.secured(HTMLResponse(page))

    def _throttled(request: Request) -> Response | None:
        if deps.failed_logins.failed(client_key(request)) is None:
            return None
        return _sign_in_page(request, "Too many failed sign-ins from this address; wait a minute.", 429)

    async def sign_in(request: Request) -> Response:
        fields = await web.form(request)
        if not web.pre_token_matches(request, fields.get("csrf")):
            return _sign_in_page(request, "The form expired; please try again.", 403)
        access_key, secret = fields.get("access_key", "").strip(), fields.get("secret_key", "")
        found = None if "\x00" in access_key else await accounts_repository.by_access_key(deps.db, access_key)
        stored = found[1] if found is not None else "0" * 64
        if not secret_matches(secret, stored) or found is None:
            return _throttled(request) or _sign_in_page(request, "Wrong access key or secret key.", 401)
        session = sessions.new_session("account", access_key, sessions.fingerprint(stored), now=web.now_seconds())
        return _signed_in(request, session, key())

    async def operator_sign_in(request: Request) -> Response:
        fields = await web.form(request)
        if not web.pre_token_matches(request, fields.get("csrf")):
            return _sign_in_page(request, "The form expired; please try again.", 403)
        token = deps.settings.admin_token
        if token is None or not token.matches(fields.get("admin_token", "")):
            return _throttled(request) or _sign_in_page(request, "Wrong admin token.", 401)
        session = sessions.new_session("operator", "operator", sessions.fingerprint(token.hex), now=web.now_seconds())
        return _signed_in(request, session, key())

    async def sign_out(request: Request) -> Response:
        fields = await web.form(request)
        session = web.current(request, key())
        if session is not None:
            web.check_csrf(session, fields.get("csrf"))
        response = web.secured(RedirectResponse(PREFIX, status_code=303))
        response.delete_cookie(sessions.COOKIE, path=PREFIX)
        return response

    async def static_file(request: Request) -> Response:
        name = str(request.path_params["name"])
        if name not in static:
            raise NotFound(f"no such resource: {request.url.path}")
        headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
        return Response(static[name], media_type=_STATIC_TYPES[name], headers=headers)

    return [
        Route(PREFIX, home, methods=["GET"]),
        Route(f"{PREFIX}/sign-in", sign_in, methods=["POST"]),
        Route(f"{PREFIX}/operator", operator_sign_in, methods=["POST"]),
        Route(f"{PREFIX}/sign-out", sign_out, methods=["POST"]),
        Route(f"{PREFIX}/static/{{name}}", static_file, methods=["GET"]),
        *json_routes(deps, key, notifier),
    ]
