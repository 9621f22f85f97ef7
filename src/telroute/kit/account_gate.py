"""The account gate: an optional check run after a successful login, before the handler (see
`accounts/auth.py`), given the request and the account's id. It may raise an error or delay the call. One
per process, built with its Deps; only the sandbox installs one (its API fault rules), so elsewhere it
costs one attribute read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request

Check = Callable[[Request, int], Awaitable[None]]


class AccountGate:
    def __init__(self) -> None:
        self.check: Check | None = None

    def install(self, check: Check) -> None:
        self.check = check
