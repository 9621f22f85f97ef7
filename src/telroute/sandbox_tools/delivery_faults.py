"""The port's `Faults` for the delivery job: the account's delivery rule for a destination, turned into
the `ForcedOutcome` the simulator obeys. `runtime.py` hands it in in the sandbox profile only."""

from __future__ import annotations

import random

from telroute.bootstrap import Deps
from telroute.kit.coalesce import lookup
from telroute.kit.db import Row
from telroute.messages.carrier_port import ForcedOutcome
from telroute.sandbox_tools import faults_service

_STATES: dict[str, str | None] = {
    "delivered": "DELIVRD",
    "undelivered": "UNDELIV",
    "expired": "EXPIRED",
    "rejected": "REJECTD",
    "no_receipt": None,
}


def forced_of(rule: Row) -> ForcedOutcome:
    return ForcedOutcome(_STATES[rule["outcome"]], rule["seconds"], rule["status_code"], rule["description"])


class SandboxFaults:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self._random = random.Random()
        # Deliveries running together ask once which of their accounts have delivery rules at all.
        self._ruled = lookup(self._with_rules)

    async def _with_rules(self, account_ids: list[int]) -> dict[int, bool]:
        now = self._deps.clock()
        ruled = await faults_service.accounts_with_delivery_rules(self._deps.db, account_ids, now=now)
        return dict.fromkeys(ruled, True)

    async def forced_outcome(self, account_id: int, to_number: str) -> ForcedOutcome | None:
        """The rule is chosen and counted down in one transaction, so two deliveries never share its last use;
        reads first, so that a message no rule matches (the usual case) costs no write transaction."""
        if not await self._ruled.submit(account_id):
            return None
        async with self._deps.db.snapshot() as connection:
            if not await faults_service.has_delivery_rule(connection, account_id, to_number, now=self._deps.clock()):
                return None
        async with self._deps.db.transaction() as connection:
            rule = await faults_service.take_delivery(
                connection, account_id, to_number, now=self._deps.clock(), draw=self._random.random
            )
        return None if rule is None else forced_of(rule)
