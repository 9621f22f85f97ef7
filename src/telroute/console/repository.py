"""All SQL of the console: searching an account's messages, a message's callbacks and dead letters,
the account's numbers, the live stream's change marker, and the operator's counts. Every account
query filters by `account_id`, so another account's ids are simply not found."""

from __future__ import annotations

from functools import cache

from telroute.console.search import Query
from telroute.kit.db import Connection, Row, notify, sql
from telroute.kit.db import Query as Sql
from telroute.messages.filters_repository import WHERE, MessageFilter

_COLUMNS = (
    "id, public_id, direction, from_number, to_number, body, is_mms, status, message_encoding, segments, "
    "amount_nd, created_at_us"
)
_SQLITE_WORD = "(instr(lower(COALESCE(body, '') || ' ' || from_number || ' ' || to_number), lower(:w{n})) > 0)"
_POSTGRES_WORD = "(strpos(lower(COALESCE(body, '') || ' ' || from_number || ' ' || to_number), lower(:w{n})) > 0)"


@cache
def _search(words: int) -> Sql:
    def spelled(word: str) -> str:
        matches = "".join(f" AND {word.format(n=n)}" for n in range(words))
        return f"SELECT {_COLUMNS} FROM messages WHERE {WHERE}{matches} ORDER BY seq DESC LIMIT :limit OFFSET :offset"

    return sql(spelled(_SQLITE_WORD), postgres=spelled(_POSTGRES_WORD))


_CONVERSATION = sql(
    f"""SELECT {_COLUMNS} FROM messages WHERE account_id = :account
          AND ((from_number = :a AND to_number = :b) OR (from_number = :b AND to_number = :a))
        ORDER BY seq DESC LIMIT :limit"""
)
_MESSAGE = sql(f"SELECT {_COLUMNS} FROM messages WHERE account_id = :account AND public_id = :public_id")
_RECEIPTS = sql(
    "SELECT level, status, status_code, description, created_at_us FROM receipts WHERE message_id = :id ORDER BY id"
)
_MEDIA = sql("SELECT public_id, file_name, mime_type, file_size FROM media WHERE message_id = :id ORDER BY id")
_ATTEMPTS = sql(
    """SELECT id, event, url, attempt, status_code, latency_ms, error, created_at_us FROM webhook_attempts
       WHERE account_id = :account AND message_public_id = :public_id ORDER BY id"""
)
_DEAD_LETTERS = sql(
    """SELECT id, event, url, payload, last_error, attempts, created_at_us, replayed_at_us FROM webhook_dead_letters
       WHERE account_id = :account AND message_public_id = :public_id ORDER BY id"""
)
_DEAD_LETTER_OWNED = sql("SELECT id FROM webhook_dead_letters WHERE id = :id AND account_id = :account")
# A number's E911 address and CNAM preset are joined on the number's account too, so that only the
# account's own ever shows, whatever an id column holds.
_NUMBERS = sql(
    """SELECT n.value, n.alias, n.number_type, n.rate_center, n.state, n.sms_callback, n.mms_callback,
              n.sms_dlr_callback, n.mms_dlr_callback,
              e.label AS e911_label, e.street_number AS e911_street_number, e.street_name AS e911_street_name,
              e.address_type AS e911_address_type, e.address_type_number AS e911_address_type_number,
              e.city AS e911_city, e.state AS e911_state, e.zip AS e911_zip, c.value AS cnam
       FROM numbers n
       LEFT JOIN e911_addresses e ON e.id = n.e911_address_id AND e.account_id = n.account_id
       LEFT JOIN cnam_presets c ON c.id = n.cnam_preset_id AND c.account_id = n.account_id
       WHERE n.account_id = :account ORDER BY n.value LIMIT 500"""
)
_OWNS = sql("SELECT 1 FROM numbers WHERE account_id = :account AND value = :value")
# What the live stream watches: the newest position, and the last change among the newest messages
# (receipts move `updated_at_us`). An open message view re-reads its callbacks itself.
_MARKER = sql(
    """SELECT MAX(seq) AS last_seq, MAX(updated_at_us) AS last_change FROM (
         SELECT seq, updated_at_us FROM messages WHERE account_id = :account ORDER BY seq DESC LIMIT 50) AS newest"""
)


def _search_params(account_id: int, query: Query, limit: int, offset: int) -> dict[str, object]:
    matched = MessageFilter(
        account_id,
        direction=query.direction,
        to_number=query.to_number,
        from_number=query.from_number,
        status=query.status,
        is_mms=query.is_mms,
        after=query.after,
        before=query.before,
    )
    words = {f"w{n}": word for n, word in enumerate(query.words)}
    return {**matched.params(), **words, "limit": limit, "offset": offset}


async def search(connection: Connection, account_id: int, query: Query, *, limit: int, offset: int) -> list[Row]:
    return await connection.fetch(_search(len(query.words)), _search_params(account_id, query, limit, offset))


async def conversation(connection: Connection, account_id: int, a: str, b: str, *, limit: int) -> list[Row]:
    return await connection.fetch(_CONVERSATION, {"account": account_id, "a": a, "b": b, "limit": limit})


async def message(connection: Connection, account_id: int, public_id: str) -> Row | None:
    return await connection.fetchrow(_MESSAGE, {"account": account_id, "public_id": public_id})


async def receipts(connection: Connection, message_id: int) -> list[Row]:
    return await connection.fetch(_RECEIPTS, {"id": message_id})


async def media(connection: Connection, message_id: int) -> list[Row]:
    return await connection.fetch(_MEDIA, {"id": message_id})


async def attempts(connection: Connection, account_id: int, public_id: str) -> list[Row]:
    return await connection.fetch(_ATTEMPTS, {"account": account_id, "public_id": public_id})


async def dead_letters(connection: Connection, account_id: int, public_id: str) -> list[Row]:
    return await connection.fetch(_DEAD_LETTERS, {"account": account_id, "public_id": public_id})


async def owns_dead_letter(connection: Connection, account_id: int, dead_letter_id: int) -> bool:
    return await connection.fetchrow(_DEAD_LETTER_OWNED, {"id": dead_letter_id, "account": account_id}) is not None


async def numbers(connection: Connection, account_id: int) -> list[Row]:
    return await connection.fetch(_NUMBERS, {"account": account_id})


async def owns_number(connection: Connection, account_id: int, value: str) -> bool:
    return await connection.fetchrow(_OWNS, {"account": account_id, "value": value}) is not None


async def marker(connection: Connection, account_id: int) -> tuple[int, int]:
    row = await connection.fetchrow(_MARKER, {"account": account_id})
    return (0, 0) if row is None else (int(row["last_seq"] or 0), int(row["last_change"] or 0))


_RATE = sql(
    """SELECT created_at_us / 60000000 AS minute, COUNT(*) AS messages FROM messages
       WHERE created_at_us >= :since GROUP BY created_at_us / 60000000 ORDER BY minute"""
)
_PENDING_DEAD_LETTERS = sql("SELECT COUNT(*) FROM webhook_dead_letters WHERE replayed_at_us IS NULL")
_LINKS = sql("SELECT carrier, holder, state, expires_at_us FROM carrier_leases ORDER BY carrier")


async def messages_per_minute(connection: Connection, since: int) -> list[Row]:
    """Messages created per minute since `since` (all accounts): the operator's chart."""
    return await connection.fetch(_RATE, {"since": since})


async def pending_dead_letters(connection: Connection) -> int:
    return int(await connection.fetchval(_PENDING_DEAD_LETTERS))


async def links(connection: Connection) -> list[Row]:
    return await connection.fetch(_LINKS)


CHANNEL = "telroute_console"


async def notify_change(connection: Connection) -> None:
    """Tell every process's console notifier that something was committed (PostgreSQL; no-op on SQLite)."""
    await notify(connection, CHANNEL)
