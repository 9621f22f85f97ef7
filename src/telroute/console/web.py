"""HTTP plumbing of the console: security headers, reading the session cookie, form bodies and the
CSRF check. Shared by its pages and its JSON endpoints."""

from __future__ import annotations

import hmac
import time
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from telroute.accounts import repository as accounts_repository
from telroute.accounts.model import Account
from telroute.console import session as sessions
from telroute.console.session import Session
from telroute.errors import BadRequest, Forbidden, Unauthorized
from telroute.kit.db import Database
from telroute.kit.http import read_body
from telroute.kit.token_digest import TokenDigest

PRE_COOKIE = "telroute_console_pre"  # the sign-in forms' CSRF token, before there is a session
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
FORM_LIMIT = 16_384


def secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def now_seconds() -> int:
    return int(time.time())


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def current(request: Request, key: bytes) -> Session | None:
    return sessions.decode(request.cookies.get(sessions.COOKIE), key, now=now_seconds())


async def form(request: Request) -> dict[str, str]:
    body = await read_body(request, FORM_LIMIT)
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("the form could not be read") from exc
    return {name: values[0] for name, values in fields.items()}


def check_csrf(session: Session, offered: str | None) -> None:
    if not sessions.csrf_matches(session, offered):
        raise Forbidden("the form's CSRF token does not match this session; reload the page", code="csrf")


def pre_token_matches(request: Request, offered: str | None) -> bool:
    expected = request.cookies.get(PRE_COOKIE)
    if not expected or offered is None:
        return False
    return hmac.compare_digest(expected.encode(), offered.encode())


async def account_of(db: Database, session: Session | None) -> Account:
    """The signed-in account; 401 without a session, or when its secret changed since sign-in."""
    if session is None or session.kind != "account":
        raise Unauthorized("sign in to the console first", code="console_session")
    found = await accounts_repository.by_access_key(db, session.subject)
    if found is None or not hmac.compare_digest(sessions.fingerprint(found[1]), session.fingerprint):
        raise Unauthorized("the session has ended; sign in again", code="console_session")
    return found[0]


def require_operator(session: Session | None, admin_token: TokenDigest | None) -> None:
    if session is None or session.kind != "operator" or admin_token is None:
        raise Unauthorized("sign in as the operator first", code="console_session")
    if not hmac.compare_digest(sessions.fingerprint(admin_token.hex), session.fingerprint):
        raise Unauthorized("the session has ended; sign in again", code="console_session")
