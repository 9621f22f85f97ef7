"""Basic authentication around every /v2 and /v2.1 endpoint, and the failed-login throttle.

Secrets are stored as SHA-256 hashes and compared in constant time (`accounts/model.py`). Each process
remembers the credentials it verified until the accounts change (`kit/credential_cache.py`), so most
requests read no account. Failed logins are slowed per client address: GCRA over *failures only*, a burst of
`FAILURE_BURST` and then `FAILURES_PER_SECOND`. Beyond it a failure answers 429 with `Retry-After`
instead of 401, while a request with valid credentials from the same address still succeeds: the
throttle never locks the real owner out (secrets are 256 random bits, so it is there to bound the
work and the noise of guessing, not because a guess could succeed).

Only well-formed Basic credentials that do not match count as failures: a request without
credentials is not a login attempt, and a malformed header can never succeed (and costs no lookup).
The state is per process (API processes do not share it), bounded to `MAX_CLIENTS` addresses.
IPv6 clients are counted per /64, the smallest block a client usually controls.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from telroute.accounts import service
from telroute.accounts.model import Account, parse_basic_auth
from telroute.bootstrap import Deps
from telroute.errors import NotFound, TooManyRequests, Unauthorized
from telroute.kit.token_digest import TokenDigest

AccountEndpoint = Callable[[Request, Account], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def client_key(request: Request) -> str:
    """The client's address (as the server's proxy-header handling resolved it); an IPv6 /64."""
    host = request.client.host if request.client is not None else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def require_admin(request: Request, token: TokenDigest | None) -> None:
    """The admin token (`Authorization: Bearer`), compared by digest in constant time; with none configured the
    admin endpoints do not exist (404)."""
    if not token:
        raise NotFound(f"no such resource: {request.url.path}")
    offered = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not token.matches(offered):
        raise Unauthorized("this endpoint needs the admin token: Authorization: Bearer <token>")


async def _account_of(deps: Deps, credentials: tuple[str, str] | None) -> Account:
    """The account of these credentials: remembered from an earlier request (`kit/credential_cache.py`), or
    read and verified as `service.authenticate` does."""
    cache = deps.credentials
    await cache.follow(deps.db)
    if credentials is None:
        return await service.authenticate(deps.db, credentials)
    known = cache.get(*credentials)
    if isinstance(known, Account):
        return known
    read_at = cache.version()
    account = await service.authenticate(deps.db, credentials)
    cache.put(*credentials, account, read_at=read_at)
    return account


def authenticated(deps: Deps, handler: AccountEndpoint) -> Endpoint:
    throttle = deps.failed_logins

    async def endpoint(request: Request) -> Response:
        credentials = parse_basic_auth(request.headers.get("authorization"))
        try:
            account = await _account_of(deps, credentials)
        except Unauthorized:
            if credentials is not None:
                wait = throttle.failed(client_key(request))
                if wait is not None:
                    raise TooManyRequests(
                        "too many failed logins from this address; check the access key and secret key, "
                        "then retry after the Retry-After delay",
                        retry_after=wait,
                        code="login_throttled",
                    ) from None
            raise
        check = deps.account_gate.check
        if check is not None:
            await check(request, account.id)
        return await handler(request, account)

    endpoint.__name__ = handler.__name__
    return endpoint
