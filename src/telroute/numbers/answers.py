"""The inventory's public lists (available numbers, area codes, exchanges), answered per process from the
documents already rendered for the same question until the inventory may have changed.

Every change to what these lists show (a purchase, a release, an import) calls `inventory_changed` in its
transaction: on PostgreSQL a NOTIFY that every API process LISTENs to; on SQLite other processes see the
file's data version move. This process's own commits, of any kind, drop the answers at once (so a reader
here never keeps what a transaction of its own process replaced, whatever the order of the two). Until a
process follows the changes, and while its LISTEN is down, nothing is kept (`kit/versioned_cache.py`).
One gap, left: on SQLite a read may see a group's work before its COMMIT, and a COMMIT that fails (a full
disk) fires no commit, so an answer read from that lost work stays until the process commits anything else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable

from telroute.kit.db import Connection, Database, notify
from telroute.kit.versioned_cache import VersionedCache

CHANNEL = "telroute_inventory"
CAPACITY = 512
MAX_KEPT_BYTES = 32_768  # a larger page (up to 200 numbers) is rendered each time: at most 16 MB are kept

Answers = VersionedCache[Hashable, bytes]


def _commits_of(database: Database) -> Callable[[], int]:
    return lambda: database.committed.generation


def answers_cache() -> Answers:
    return VersionedCache(CHANNEL, here=_commits_of, capacity=CAPACITY)


async def inventory_changed(connection: Connection) -> None:
    """Call in the transaction of any change to which numbers are available or what they cost."""
    await notify(connection, CHANNEL)


async def answered(
    answers: Answers, database: Database, question: Hashable, render: Callable[[], Awaitable[bytes]]
) -> bytes:
    """The document answering `question` (every input of `render`, the links' base URL included)."""
    await answers.follow(database)
    document = answers.get(question)
    if document is None:
        read_at = answers.version()
        document = await render()
        if len(document) <= MAX_KEPT_BYTES:
            answers.put(question, document, read_at=read_at)
    return document
