"""API chaos: the account gate that answers an account's Flowroute API calls (/v2, /v2.1) as its active
API fault rules say: 429 with Retry-After, 500, 503, or a delay before the call is handled.

Nil cost for accounts without rules: the process keeps the set of accounts that have active API rules,
re-read when this process changes a rule and at most every `REFRESH_SECONDS` otherwise (rules written
through another API process take effect within that time). Only an account in the set costs a query."""

from __future__ import annotations

import asyncio
import random
import time

from starlette.requests import Request

from telroute.bootstrap import Deps
from telroute.errors import ServiceUnavailable, TelrouteError, TooManyRequests
from telroute.kit.db import Row
from telroute.sandbox_tools import faults_service

REFRESH_SECONDS = 2.0
_API_PATHS = ("/v2/", "/v2.1/")


def _error_of(rule: Row) -> TelrouteError:
    detail = f"sandbox fault rule {rule['id']}: a simulated {rule['outcome']} answer"
    if rule["outcome"] == "429":
        return TooManyRequests(detail, retry_after=rule["seconds"] or 1.0, code="sandbox_fault")
    if rule["outcome"] == "503":
        return ServiceUnavailable(detail, code="sandbox_fault")
    return TelrouteError(detail, code="sandbox_fault")


class ApiFaults:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self._accounts: set[int] = set()
        self._read_at = -float("inf")
        self._random = random.Random()

    def changed(self) -> None:
        self._read_at = -float("inf")

    async def _has_rules(self, account_id: int) -> bool:
        if time.monotonic() - self._read_at >= REFRESH_SECONDS:
            self._read_at = time.monotonic()
            async with self._deps.db.snapshot() as connection:
                self._accounts = await faults_service.accounts_with_api_rules(connection, now=self._deps.clock())
        return account_id in self._accounts

    async def __call__(self, request: Request, account_id: int) -> None:
        path: str = request.scope["path"]
        if not path.startswith(_API_PATHS) or not await self._has_rules(account_id):
            return
        async with self._deps.db.transaction() as connection:
            rule = await faults_service.take_api(
                connection, account_id, request.method, path, now=self._deps.clock(), draw=self._random.random
            )
        if rule is None:
            return
        if rule["outcome"] == "slow":
            await asyncio.sleep(float(rule["seconds"]))
            return
        raise _error_of(rule)


def install(deps: Deps) -> None:
    """The gate of this process's API (sandbox profile)."""
    deps.account_gate.install(ApiFaults(deps))


def api_rules_changed(deps: Deps) -> None:
    gate = deps.account_gate.check
    if isinstance(gate, ApiFaults):
        gate.changed()
