"""Basic authentication around every /v2 and /v2.1 endpoint, and the failed-login throttle.

Secrets are stored as SHA-256 hashes and compared in constant time (`accounts/model.py`). On top of
that, failed logins are slowed per client address: GCRA over *failures only*, a burst of
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
import time
from collections.abc import Awaitable, Callable
from typing import cast

from starlette.requests import Request
from starlette.responses import Response

from telroute.accounts import service
from telroute.accounts.model import Account, parse_basic_auth
from telroute.bootstrap import Deps
from telroute.errors import TooManyRequests, Unauthorized

AccountEndpoint = Callable[[Request, Account], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]
# Runs after a successful login, before the handler: may raise an error or delay the call (the sandbox's
# API fault rules install one; none elsewhere).
AccountGate = Callable[[Request, Account], Awaitable[None]]

FAILURE_BURST = 10
FAILURES_PER_SECOND = 1.0
MAX_CLIENTS = 100_000
_EXTRAS_KEY = "failed_logins"
_GATE_KEY = "account_gate"


class FailedLogins:
    """GCRA per client: each failure moves the client's theoretical arrival time (`tat`) one interval
    forward; a failure is refused (429) while `tat - now` exceeds the burst's tolerance."""

    def __init__(
        self,
        *,
        burst: int = FAILURE_BURST,
        per_second: float = FAILURES_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self._interval = 1.0 / per_second
        self._tolerance = self._interval * (burst - 1)
        self._clock = clock
        self._max_clients = max_clients
        self._tat: dict[str, float] = {}

    def failed(self, client: str) -> float | None:
        """Record one failure of `client`. None while within the budget (answer 401); otherwise the
        seconds until the next failure would be allowed (answer 429; the refused one is not counted)."""
        now = self._clock()
        tat = max(self._tat.get(client, now), now)
        wait = tat - self._tolerance - now
        if wait > 0:
            return wait
        self._tat[client] = tat + self._interval
        if len(self._tat) > self._max_clients:
            self._forget(now)
        return None

    def _forget(self, now: float) -> None:
        """Drop clients whose budget is whole again; if still too many, the least recently failing."""
        self._tat = {client: tat for client, tat in self._tat.items() if tat > now}
        excess = len(self._tat) - self._max_clients
        if excess > 0:
            for client in sorted(self._tat, key=self._tat.__getitem__)[:excess]:
                del self._tat[client]

    def __len__(self) -> int:
        return len(self._tat)


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


def failed_logins(deps: Deps) -> FailedLogins:
    """The process's throttle, kept with its Deps."""
    throttle = deps.extras.get(_EXTRAS_KEY)
    if not isinstance(throttle, FailedLogins):
        throttle = FailedLogins()
        deps.extras[_EXTRAS_KEY] = throttle
    return throttle


def set_account_gate(deps: Deps, gate: AccountGate) -> None:
    deps.extras[_GATE_KEY] = gate


def authenticated(deps: Deps, handler: AccountEndpoint) -> Endpoint:
    throttle = failed_logins(deps)

    async def endpoint(request: Request) -> Response:
        credentials = parse_basic_auth(request.headers.get("authorization"))
        try:
            account = await service.authenticate(deps.db, credentials)
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
        request.state.account_key = account.access_key
        gate = deps.extras.get(_GATE_KEY)
        if gate is not None:
            await cast(AccountGate, gate)(request, account)
        return await handler(request, account)

    endpoint.__name__ = handler.__name__
    return endpoint
