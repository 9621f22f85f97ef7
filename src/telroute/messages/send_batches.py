"""The sends of one account that arrive together are accepted together: in one statement on PostgreSQL, in
one transaction of a statement per step on SQLite.

Every send of an account takes its rate bucket and its next message position, two rows that each send
locks until its commit: sends of one account run one after another in the database however many arrive at
once, each waiting for the commit of the one before it. Here the sends of an account that arrive while its
previous statement runs (or in the same event-loop turn) are written together by the next one
(`repository.accept_batch`, a `Coalescer` per account and bucket): one statement, one commit and one wait
for the two rows for all of them. Each send gets its own outcome, as if it had been sent alone: its
sender's owner, whether `to` opted out, and its message, or none when the rate refused it (the sends of a
statement take the bucket in the order they arrived). A lone send waits one event-loop turn. On SQLite,
whose transactions run one at a time, the batch saves the statements: five a send alone, six a batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from telroute.accounts.model import Account
from telroute.config import Prices
from telroute.kit.coalesce import Coalescer
from telroute.kit.db import Database, Row, batch_unit
from telroute.messages import repository, service
from telroute.messages.service import DELIVER_MESSAGE, AtOnce, SendRequest

_RACES = 3  # a bucket created by another statement meanwhile: the statement wrote nothing; run it again

Key = tuple[int, str, int]  # account, bucket, the rate's interval


class SendBatches:
    def __init__(self, database: Database, clock: Callable[[], int]) -> None:
        self._database = database
        self._clock = clock
        self._batches: dict[Key, Coalescer[dict[str, Any], Row]] = {}

    async def accept(
        self, account: Account, request: SendRequest, sender: str, public_id: str, *, prices: Prices, api_version: str
    ) -> AtOnce:
        """The send of `public_id` (without media or Idempotency-Key), with the sends of its account arriving
        with it. `service.refuse_unless_accepted` next."""
        message = service.queued_message(account, request, sender, public_id, prices=prices, api_version=api_version)
        take = service.rate_take(account, request.is_mms, now=0)
        key = (account.id, take["bucket"], take["interval"])
        batch = self._batches.get(key)
        if batch is None:
            batch = self._batches[key] = Coalescer(partial(self._write, account.id, take))
        try:
            found = await batch.submit(message)
        finally:
            if batch.idle and self._batches.get(key) is batch:
                del self._batches[key]
        return AtOnce(found, sender, {**take, "now": found["now"], "live": 0})

    async def _write(self, account_id: int, take: dict[str, Any], messages: Sequence[dict[str, Any]]) -> list[Row]:
        for _ in range(_RACES):
            async with batch_unit(self._database) as connection:
                now = self._clock()  # read with the connection in hand: a send that waited must not look early
                taken = {**take, "now": now, "live": 1}
                rows = await repository.accept_batch(connection, account_id, messages, taken, DELIVER_MESSAGE)
            if rows is not None:
                return [{**row, "now": now} for row in rows]
        raise RuntimeError(f"the rate bucket {take['bucket']} was created and deleted {_RACES} times meanwhile")
