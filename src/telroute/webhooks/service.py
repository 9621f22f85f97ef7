"""Callback use cases: enqueue a callback in the caller's transaction; replay dead letters."""

from __future__ import annotations

from typing import Any

from telroute.kit import jobs
from telroute.kit.db import Connection, Row
from telroute.kit.jsonapi import encode
from telroute.kit.random_ids import random_hex
from telroute.webhooks import repository

DELIVER_WEBHOOK = "deliver_webhook"


def callback_job(
    *, account_id: int, event: str, url: str, message_public_id: str | None, document: Any
) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "event": event,
        "url": url,
        "message_public_id": message_public_id,
        "body": encode(document).decode("utf-8"),
        "webhook_id": "msg_" + random_hex(),
    }


async def enqueue(
    connection: Connection,
    *,
    account_id: int,
    event: str,
    url: str,
    message_public_id: str | None,
    document: Any,
    now: int,
) -> None:
    payload = callback_job(
        account_id=account_id, event=event, url=url, message_public_id=message_public_id, document=document
    )
    await enqueue_job(connection, payload, now=now)


async def enqueue_job(connection: Connection, payload: dict[str, Any], *, now: int) -> None:
    """A callback job of `payload` (`callback_job`), in `connection`'s transaction."""
    await jobs.enqueue(connection, DELIVER_WEBHOOK, payload, now=now)


def job_params(payload: dict[str, Any], *, now: int) -> dict[str, Any]:
    """A callback job of `payload` to enqueue with a write (`kit.jobs.end_after`)."""
    return jobs.job_params(DELIVER_WEBHOOK, payload, now=now)


async def replay(connection: Connection, dead_letter_id: int, *, now: int) -> bool:
    """Send a dead letter again as a new callback job (with fresh tries). False if none is pending."""
    row = await repository.pending_dead_letter(connection, dead_letter_id)
    if row is None:
        return False
    payload = {
        "account_id": row["account_id"],
        "event": row["event"],
        "url": row["url"],
        "message_public_id": row["message_public_id"],
        "body": row["payload"],
        "webhook_id": "msg_" + random_hex(),
    }
    await enqueue_job(connection, payload, now=now)
    await repository.mark_replayed(connection, dead_letter_id, now)
    return True


async def attempts(connection: Connection, *, message: str | None, limit: int) -> list[Row]:
    """Callback tries, newest first (of one message's callbacks when `message` is given)."""
    return await repository.attempts(connection, message=message, limit=limit)


async def dead_letters(connection: Connection, *, pending_only: bool, limit: int) -> list[Row]:
    """Callbacks that failed every try, oldest first (only those not replayed yet when `pending_only`)."""
    return await repository.dead_letters(connection, pending_only=pending_only, limit=limit)
