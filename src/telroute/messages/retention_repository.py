"""The SQL of retention (`retention.py` decides when and how much): one batch of the oldest messages deleted
with their receipts, carrier ids, media and reply links, or one batch of the oldest callback tries."""

from __future__ import annotations

from telroute.kit import json_text
from telroute.kit.db import Connection, sql

_OLDEST = sql("SELECT id FROM messages WHERE created_at_us < :cutoff ORDER BY created_at_us LIMIT :limit")
_IDS_SQLITE = "SELECT value FROM json_each(:ids)"
_IDS_POSTGRES = "SELECT jsonb_array_elements_text(CAST(:ids AS jsonb))::bigint"
_DELETE_MESSAGES = tuple(
    sql(statement.format(ids=_IDS_SQLITE), postgres=statement.format(ids=_IDS_POSTGRES))
    for statement in (
        "DELETE FROM receipts WHERE message_id IN ({ids})",
        "DELETE FROM carrier_message_ids WHERE message_id IN ({ids})",
        "DELETE FROM media WHERE message_id IN ({ids})",
        "DELETE FROM message_replies WHERE message_id IN ({ids}) OR reply_to_id IN ({ids})",
        "DELETE FROM messages WHERE id IN ({ids})",
    )
)
_DELETE_ATTEMPTS = sql(
    """DELETE FROM webhook_attempts WHERE id IN
       (SELECT id FROM webhook_attempts WHERE created_at_us < :cutoff ORDER BY created_at_us LIMIT :limit)"""
)


async def delete_old_messages(connection: Connection, cutoff: int, limit: int) -> int:
    """Up to `limit` messages created before `cutoff`, oldest first, with what hangs on them; how many went."""
    rows = await connection.fetch(_OLDEST, {"cutoff": cutoff, "limit": limit})
    if rows:
        ids = json_text.dumps([row["id"] for row in rows])
        for statement in _DELETE_MESSAGES:
            await connection.execute(statement, {"ids": ids})
    return len(rows)


async def delete_old_attempts(connection: Connection, cutoff: int, limit: int) -> int:
    """Up to `limit` callback tries made before `cutoff`, oldest first; how many went."""
    deleted: int = await connection.execute(_DELETE_ATTEMPTS, {"cutoff": cutoff, "limit": limit})
    return deleted
