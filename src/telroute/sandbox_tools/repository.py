"""All SQL of the sandbox tools: searching an account's messages, and deleting an account's data."""

from __future__ import annotations

from telroute.accounts.model import rate_buckets
from telroute.kit import ratelimit
from telroute.kit.credential_cache import accounts_changed
from telroute.kit.db import Connection, Row, sql
from telroute.messages.filters_repository import WHERE, MessageFilter
from telroute.sandbox_tools.model import MessageFilters

_COLUMNS = (
    "id, public_id, account_id, direction, from_number, to_number, body, is_mms, status, message_encoding, "
    "message_type, segments, amount_nd, created_at_us, updated_at_us, "
    "(SELECT answered.public_id FROM message_replies AS link JOIN messages AS answered "
    "ON answered.id = link.reply_to_id WHERE link.message_id = messages.id) AS in_reply_to"
)
_SEARCH = sql(
    f"""SELECT {_COLUMNS} FROM messages WHERE {WHERE}
          AND (CAST(:contains AS TEXT) IS NULL OR instr(lower(COALESCE(body, '')), lower(:contains)) > 0)
        ORDER BY seq DESC LIMIT :limit OFFSET :offset""",
    postgres=f"""SELECT {_COLUMNS} FROM messages WHERE {WHERE}
          AND (CAST(:contains AS TEXT) IS NULL OR strpos(lower(COALESCE(body, '')), lower(:contains)) > 0)
        ORDER BY seq DESC LIMIT :limit OFFSET :offset""",
)
_NEWEST = sql(f"SELECT {_COLUMNS} FROM messages WHERE account_id = :account ORDER BY seq DESC LIMIT :limit")

# Pending and failed jobs that concern the account: its callbacks, its messages' deliveries, and the
# carrier receipts of its messages' parts. Deleted before the messages they point at.
_OF_ACCOUNT_SQLITE = """(kind = 'deliver_webhook' AND json_extract(payload, '$.account_id') = :account)
    OR (kind = 'deliver_message' AND json_extract(payload, '$.message_id')
        IN (SELECT id FROM messages WHERE account_id = :account))
    OR (kind = 'carrier_receipt' AND EXISTS (
        SELECT 1 FROM carrier_message_ids AS part JOIN messages ON messages.id = part.message_id
        WHERE messages.account_id = :account AND part.carrier = json_extract(payload, '$.carrier')
          AND part.carrier_message_id = json_extract(payload, '$.carrier_message_id')))"""
_OF_ACCOUNT_POSTGRES = """(kind = 'deliver_webhook' AND (payload::jsonb ->> 'account_id')::bigint = :account)
    OR (kind = 'deliver_message' AND (payload::jsonb ->> 'message_id')::bigint
        IN (SELECT id FROM messages WHERE account_id = :account))
    OR (kind = 'carrier_receipt' AND EXISTS (
        SELECT 1 FROM carrier_message_ids AS part JOIN messages ON messages.id = part.message_id
        WHERE messages.account_id = :account AND part.carrier = payload::jsonb ->> 'carrier'
          AND part.carrier_message_id = payload::jsonb ->> 'carrier_message_id'))"""
_OF_MESSAGES = "message_id IN (SELECT id FROM messages WHERE account_id = :account)"
_MESSAGE_DATA = (
    # The worker locks a message, then deletes its job: lock the messages first too, or the two deadlock.
    sql(
        "SELECT id FROM messages WHERE account_id = :account",
        postgres="SELECT id FROM messages WHERE account_id = :account ORDER BY id FOR UPDATE",
    ),
    *(
        sql(
            f"DELETE FROM {table} WHERE {_OF_ACCOUNT_SQLITE}",
            postgres=f"DELETE FROM {table} WHERE {_OF_ACCOUNT_POSTGRES}",
        )
        for table in ("jobs", "failed_jobs")
    ),
    sql(f"DELETE FROM receipts WHERE {_OF_MESSAGES}"),
    sql("DELETE FROM message_replies WHERE message_id IN (SELECT id FROM messages WHERE account_id = :account)"),
    sql(f"DELETE FROM carrier_message_ids WHERE {_OF_MESSAGES}"),
    sql("DELETE FROM media WHERE account_id = :account"),
    sql("DELETE FROM messages WHERE account_id = :account"),
    sql("DELETE FROM message_positions WHERE account_id = :account"),
    sql("DELETE FROM webhook_attempts WHERE account_id = :account"),
    sql("DELETE FROM webhook_dead_letters WHERE account_id = :account"),
    sql("DELETE FROM idempotency_keys WHERE account_id = :account AND scope = 'message'"),
    sql("DELETE FROM opt_outs WHERE our_number IN (SELECT value FROM numbers WHERE account_id = :account)"),
)
_OWNED_NUMBERS = sql("SELECT value FROM numbers WHERE account_id = :account ORDER BY value")
# What a number keeps of its owner beyond the purchase itself; `numbers.repository.release` clears the rest.
_FORGET_NUMBER_SETTINGS = sql(
    """UPDATE numbers SET sms_callback = NULL, mms_callback = NULL, sms_dlr_callback = NULL,
         mms_dlr_callback = NULL, primary_route_id = 0, failover_route_id = NULL,
         cnam_lookups_enabled = TRUE, messaging_enabled = TRUE
       WHERE account_id = :account"""
)
_ACCOUNT_ROWS = (
    sql("DELETE FROM idempotency_keys WHERE account_id = :account"),
    sql("DELETE FROM routes WHERE account_id = :account"),
    sql("DELETE FROM accounts WHERE id = :account"),
)


def _search_params(filters: MessageFilters, account_id: int) -> dict[str, object]:
    matched = MessageFilter(
        account_id,
        direction=filters.direction,
        to_number=filters.to,
        from_number=filters.from_,
        status=filters.status,
        after=filters.after,
        before=filters.before,
    )
    return {**matched.params(), "contains": filters.contains}


async def search(
    connection: Connection, account_id: int, filters: MessageFilters, *, limit: int, offset: int
) -> list[Row]:
    """The account's messages matching `filters`, newest first."""
    params = {**_search_params(filters, account_id), "limit": limit, "offset": offset}
    return await connection.fetch(_SEARCH, params)


async def newest(connection: Connection, account_id: int, limit: int) -> list[Row]:
    return await connection.fetch(_NEWEST, {"account": account_id, "limit": limit})


async def delete_message_data(connection: Connection, account_id: int) -> None:
    """Messages, receipts, carrier ids, media, jobs, failed jobs, callback attempts, dead letters and
    idempotency keys of sends, opt-outs from its numbers; the account, its numbers and its settings stay."""
    for query in _MESSAGE_DATA:
        await connection.execute(query, {"account": account_id})


async def owned_numbers(connection: Connection, account_id: int) -> list[str]:
    return [row["value"] for row in await connection.fetch(_OWNED_NUMBERS, {"account": account_id})]


async def forget_number_settings(connection: Connection, account_id: int) -> None:
    await connection.execute(_FORGET_NUMBER_SETTINGS, {"account": account_id})


async def delete_account_rows(connection: Connection, account_id: int) -> None:
    """The account itself with its routes, idempotency keys and rate buckets (after its data and numbers)."""
    await ratelimit.forget(connection, rate_buckets(account_id))
    for query in _ACCOUNT_ROWS:
        await connection.execute(query, {"account": account_id})
    await accounts_changed(connection)
