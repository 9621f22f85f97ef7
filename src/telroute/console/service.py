"""The console's use cases on a given connection: one account's messages, one message in full, the
account's numbers, a draft's segments and price, replaying a dead letter. Never commits."""

from __future__ import annotations

from typing import Any

from telroute.config import Prices
from telroute.console import repository, views
from telroute.console.search import Query
from telroute.errors import NotFound
from telroute.kit.db import Connection
from telroute.messages.model import price_outbound
from telroute.text.segments import encoding_of
from telroute.webhooks import service as webhooks

PAGE_SIZE = 50


async def messages(connection: Connection, account_id: int, query: Query, offset: int) -> dict[str, Any]:
    rows = await repository.search(connection, account_id, query, limit=PAGE_SIZE + 1, offset=offset)
    items = [views.summary(row) for row in rows[:PAGE_SIZE]]
    return {"messages": items, "offset": offset, "more": len(rows) > PAGE_SIZE}


async def conversation(connection: Connection, account_id: int, a: str, b: str) -> dict[str, Any]:
    rows = await repository.conversation(connection, account_id, a, b, limit=200)
    return {"numbers": [a, b], "messages": [views.summary(row) for row in reversed(rows)]}


async def message(connection: Connection, account_id: int, public_id: str) -> dict[str, Any]:
    row = await repository.message(connection, account_id, public_id)
    if row is None:
        raise NotFound(f"no message {public_id}")
    body = row["body"] or ""
    return {
        **views.summary(row),
        "segments": views.segments_of(body, int(row["message_encoding"])),
        "segment_count": row["segments"],
        "price": views.price(int(row["amount_nd"])),
        "receipts": [views.receipt(r) for r in await repository.receipts(connection, row["id"])],
        "media": [views.media(r) for r in await repository.media(connection, row["id"])],
        "callbacks": [views.attempt(r) for r in await repository.attempts(connection, account_id, public_id)],
        "dead_letters": [
            views.dead_letter(r) for r in await repository.dead_letters(connection, account_id, public_id)
        ],
    }


async def numbers(connection: Connection, account_id: int) -> dict[str, Any]:
    return {"numbers": [views.number(row) for row in await repository.numbers(connection, account_id)]}


def calculate(text: str, prices: Prices) -> dict[str, Any]:
    """What a draft would cost as an SMS: its encoding, parts and price."""
    pricing = price_outbound(text, False, prices)
    return {
        **views.segments_of(text, encoding_of(text)),
        "segment_count": pricing.segments,
        "price": views.price(pricing.amount_nd),
    }


async def replay(connection: Connection, account_id: int, dead_letter_id: int, *, now: int) -> None:
    """Enqueue the account's dead letter again; 404 when it is not the account's or was replayed already."""
    if not await repository.owns_dead_letter(connection, account_id, dead_letter_id):
        raise NotFound(f"no dead letter {dead_letter_id}")
    if not await webhooks.replay(connection, dead_letter_id, now=now):
        raise NotFound(f"dead letter {dead_letter_id} was replayed already")
