"""All SQL of callback delivery: attempts and dead letters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from telroute.kit import jobs, json_text
from telroute.kit.db import Connection, Row, on_postgres, sql
from telroute.kit.jobs import Job

_ATTEMPT = sql(
    """INSERT INTO webhook_attempts (account_id, event, message_public_id, url, attempt, status_code, latency_ms,
         error, payload, dead_lettered, created_at_us)
       VALUES (:account_id, :event, :message_public_id, :url, :attempt, :status_code, :latency_ms, :error, :payload,
         :dead_lettered, :now)"""
)
_ATTEMPT_FIELDS = (
    ("account_id", "bigint"),
    ("event", "text"),
    ("message_public_id", "text"),
    ("url", "text"),
    ("attempt", "integer"),
    ("status_code", "integer"),
    ("latency_ms", "double precision"),
    ("error", "text"),
    ("payload", "text"),
    ("dead_lettered", "boolean"),
    ("now", "bigint"),
)
_ATTEMPT_COLUMNS = ", ".join("created_at_us" if name == "now" else name for name, _ in _ATTEMPT_FIELDS)
# PostgreSQL: many attempts from one JSON array of records, one statement for a whole batch of callbacks.
_ATTEMPTS_FROM_JSON = sql(
    "",
    postgres=f"INSERT INTO webhook_attempts ({_ATTEMPT_COLUMNS}) SELECT "
    + ", ".join(f"r.{name}" for name, _ in _ATTEMPT_FIELDS)
    + " FROM jsonb_to_recordset(CAST(:attempts AS jsonb)) AS r("
    + ", ".join(f"{name} {kind}" for name, kind in _ATTEMPT_FIELDS)
    + ")",
)
_DEAD = sql(
    """INSERT INTO webhook_dead_letters (account_id, event, message_public_id, url, payload, last_error, attempts,
         created_at_us)
       VALUES (:account_id, :event, :message_public_id, :url, :payload, :last_error, :attempts, :now)"""
)
_ATTEMPTS = sql(
    """SELECT a.id, c.access_key, a.event, a.message_public_id, a.url, a.attempt, a.status_code, a.latency_ms,
              a.error, a.created_at_us
       FROM webhook_attempts a JOIN accounts c ON c.id = a.account_id
       WHERE (:message IS NULL OR a.message_public_id = :message)
       ORDER BY a.id DESC LIMIT :limit""",
    postgres="""SELECT a.id, c.access_key, a.event, a.message_public_id, a.url, a.attempt, a.status_code,
              a.latency_ms, a.error, a.created_at_us
       FROM webhook_attempts a JOIN accounts c ON c.id = a.account_id
       WHERE (CAST(:message AS TEXT) IS NULL OR a.message_public_id = :message)
       ORDER BY a.id DESC LIMIT :limit""",
)
_DEAD_LETTERS = sql(
    """SELECT d.id, c.access_key, d.event, d.message_public_id, d.url, d.payload, d.last_error, d.attempts,
              d.created_at_us, d.replayed_at_us
       FROM webhook_dead_letters d JOIN accounts c ON c.id = d.account_id
       WHERE (:pending = 0 OR d.replayed_at_us IS NULL) ORDER BY d.id LIMIT :limit"""
)
_DEAD_LETTER = sql(
    "SELECT id, account_id, event, message_public_id, url, payload FROM webhook_dead_letters "
    "WHERE id = :id AND replayed_at_us IS NULL"
)
_MARK_REPLAYED = sql("UPDATE webhook_dead_letters SET replayed_at_us = :now WHERE id = :id")


async def record_attempt(connection: Connection, values: dict[str, Any]) -> None:
    await connection.execute(_ATTEMPT, values)


async def record_last_attempts(connection: Connection, settled: Sequence[tuple[dict[str, Any], Job]]) -> None:
    """The attempts that settle these callbacks, and the ends of their jobs: on PostgreSQL one statement; on
    SQLite the attempts bound row by row, since `json_each` would parse a record (the callback's body in it)
    once for each of its eleven fields (35.5 µs a message that way, 20 bound row by row: measured), and the
    jobs' ends."""
    attempts, ended = [values for values, _ in settled], [job for _, job in settled]
    if on_postgres(connection):
        await jobs.finish_all_with(connection, ended, _ATTEMPTS_FROM_JSON, {"attempts": json_text.dumps(attempts)})
        return
    await connection.executemany(_ATTEMPT, attempts)
    await jobs.finish_all(connection, ended)


async def dead_letter(connection: Connection, values: dict[str, Any]) -> None:
    await connection.execute(_DEAD, values)


async def attempts(connection: Connection, *, message: str | None, limit: int) -> list[Row]:
    return await connection.fetch(_ATTEMPTS, {"message": message, "limit": limit})


async def dead_letters(connection: Connection, *, pending_only: bool, limit: int) -> list[Row]:
    return await connection.fetch(_DEAD_LETTERS, {"pending": 1 if pending_only else 0, "limit": limit})


async def pending_dead_letter(connection: Connection, dead_letter_id: int) -> Row | None:
    return await connection.fetchrow(_DEAD_LETTER, {"id": dead_letter_id})


async def mark_replayed(connection: Connection, dead_letter_id: int, now: int) -> None:
    await connection.execute(_MARK_REPLAYED, {"id": dead_letter_id, "now": now})
