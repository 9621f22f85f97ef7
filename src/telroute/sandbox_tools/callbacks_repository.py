"""The SQL of the sandbox's callback view: an account's callback tries, newest first."""

from __future__ import annotations

from typing import Any

from telroute.kit.db import Connection, Row, sql
from telroute.sandbox_tools.callbacks_model import DEAD_LETTERED, DELIVERED, FAILED, CallbackFilters

_COLUMNS = (
    "id, event, message_public_id, url, attempt, status_code, latency_ms, error, payload, dead_lettered, created_at_us"
)
_OK = "(status_code IS NOT NULL AND status_code BETWEEN 200 AND 299)"
_MATCHES = f"""account_id = :account
    AND (CAST(:message AS TEXT) IS NULL OR message_public_id = :message)
    AND (CAST(:kind AS TEXT) IS NULL OR event = :kind)
    AND (CAST(:status AS INTEGER) IS NULL OR status_code = :status)
    AND (CAST(:after AS BIGINT) IS NULL OR created_at_us > :after)
    AND (CAST(:before AS BIGINT) IS NULL OR created_at_us < :before)
    AND (CAST(:outcome AS TEXT) IS NULL
         OR (:outcome = '{DELIVERED}' AND {_OK})
         OR (:outcome = '{FAILED}' AND NOT {_OK} AND NOT dead_lettered)
         OR (:outcome = '{DEAD_LETTERED}' AND dead_lettered))"""
_SEARCH = sql(f"SELECT {_COLUMNS} FROM webhook_attempts WHERE {_MATCHES} ORDER BY id DESC LIMIT :limit OFFSET :offset")


def _params(account_id: int, filters: CallbackFilters) -> dict[str, Any]:
    return {
        "account": account_id,
        "message": filters.message_id,
        "kind": filters.kind,
        "status": filters.status,
        "after": filters.after,
        "before": filters.before,
        "outcome": filters.outcome,
    }


async def search(
    connection: Connection, account_id: int, filters: CallbackFilters, *, limit: int, offset: int
) -> list[Row]:
    params = {**_params(account_id, filters), "limit": limit, "offset": offset}
    return await connection.fetch(_SEARCH, params)
