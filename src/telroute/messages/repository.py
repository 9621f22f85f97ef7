"""All SQL of messaging: message detail records, receipts, carrier ids and media."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from telroute.kit import jobs, json_text, ratelimit
from telroute.kit.db import (
    Chain,
    Connection,
    Guarded,
    Params,
    Query,
    Row,
    in_params,
    on_postgres,
    placeholders,
    sql,
)
from telroute.kit.jobs import Job

_MESSAGE_COLUMNS = (
    "id, public_id, account_id, direction, from_number, to_number, body, is_mms, status, message_encoding, "
    "message_type, segments, amount_nd, dlr_callback, callback_url, carrier, parts_pending, error, "
    "created_at_us, updated_at_us, api_version"
)
_INSERT_COLUMNS = """public_id, account_id, direction, from_number, to_number, body, is_mms, status,
    message_encoding, message_type, segments, amount_nd, dlr_callback, callback_url, api_version,
    seq, created_at_us, updated_at_us"""
_INSERT_VALUES = """:public_id, :account_id, :direction, :from_number, :to_number, :body, :is_mms, :status,
    :message_encoding, :message_type, :segments, :amount_nd, :dlr_callback, :callback_url, :api_version"""
# The account's next position and a time that never goes backwards against it (clocks of several
# hosts differ): pages are found by position, so position order must be time order.
_POSITION = """INSERT INTO message_positions (account_id, last_seq, last_at_us) {rows}
    ON CONFLICT (account_id) DO UPDATE SET last_seq = message_positions.last_seq + excluded.last_seq,
      last_at_us = {later}(message_positions.last_at_us, :now)
    RETURNING last_seq, last_at_us"""
_FIRST_POSITION = "VALUES (:account_id, 1, :now)"
_NEXT_POSITION_PG = _POSITION.format(later="GREATEST", rows=_FIRST_POSITION)
_INSERT_AT_POSITION = f"""INSERT INTO messages ({_INSERT_COLUMNS})
    VALUES ({_INSERT_VALUES}, (SELECT last_seq FROM position), (SELECT last_at_us FROM position), :now)
    RETURNING id"""
_SENDER_OF = (
    "SELECT n.account_id, "
    "EXISTS (SELECT 1 FROM opt_outs o WHERE o.our_number = n.value AND o.subscriber = :to_number) AS opted_out "
    "FROM numbers n WHERE n.value = :from_number AND n.account_id IS NOT NULL"
)
_INSERT_NEXT = Chain(  # the account's next position, then the message at it
    first=sql(_POSITION.format(later="MAX", rows=_FIRST_POSITION)),
    then=sql(
        f"""INSERT INTO messages ({_INSERT_COLUMNS})
            VALUES ({_INSERT_VALUES}, :last_seq, :last_at_us, :now) RETURNING id"""
    ),
    postgres=sql("", postgres=f"WITH position AS ({_NEXT_POSITION_PG}) {_INSERT_AT_POSITION}"),  # one round trip
)
# The same, with the job that delivers the message: on PostgreSQL all three writes in one statement.
_INSERT_QUEUED = Chain(
    first=_INSERT_NEXT.first,
    then=_INSERT_NEXT.then,
    postgres=sql(
        "",
        postgres=f"WITH position AS ({_NEXT_POSITION_PG}), inserted AS ({_INSERT_AT_POSITION}), "
        f"{jobs.enqueue_cte('inserted', 'message_id')} SELECT id FROM inserted",
    ),
    last=jobs.enqueue_chained("message_id"),
)
# PostgreSQL: the sends of one account that arrived together, in one statement (`Database.alone`). Each
# send's sender owner and whether `to` opted out of it are read; the rate bucket is taken for the sends from a
# number of this account that `to` did not opt out of, in their order, as that many takes one after another
# would; the account's next positions, the messages and their delivery jobs are written for the sends the
# bucket allowed. The bucket's row is locked before the position's, as in `service.accept_in_steps`.
_BATCH_FIELDS = {
    "public_id": "TEXT",
    "direction": "TEXT",
    "from_number": "TEXT",
    "to_number": "TEXT",
    "body": "TEXT",
    "is_mms": "BOOLEAN",
    "status": "TEXT",
    "message_encoding": "INTEGER",
    "message_type": "TEXT",
    "segments": "INTEGER",
    "amount_nd": "BIGINT",
    "dlr_callback": "TEXT",
    "callback_url": "TEXT",
    "api_version": "TEXT",
}
_BATCH_ARRAYS = ", ".join(f"CAST(:{name}_list AS {kind}[])" for name, kind in _BATCH_FIELDS.items())
_ACCEPT_BATCH = sql(
    "",
    postgres=f"""WITH input AS (
      SELECT * FROM unnest({_BATCH_ARRAYS}) WITH ORDINALITY AS i({", ".join(_BATCH_FIELDS)}, place)),
    checked AS (SELECT i.place, n.account_id AS owner,
        EXISTS (SELECT 1 FROM opt_outs o WHERE o.our_number = i.from_number AND o.subscriber = i.to_number)
          AS opted_out
      FROM input i LEFT JOIN numbers n ON n.value = i.from_number AND n.account_id IS NOT NULL),
    eligible AS (SELECT place, row_number() OVER (ORDER BY place) AS rank FROM checked
      WHERE owner = :account_id AND NOT opted_out),
    {ratelimit.take_many_postgres("(SELECT COUNT(*) FROM eligible)")},
    position AS (INSERT INTO message_positions AS p (account_id, last_seq, last_at_us)
        SELECT :account_id, allowed, :now FROM rate
      ON CONFLICT (account_id) DO UPDATE SET last_seq = p.last_seq + excluded.last_seq,
        last_at_us = GREATEST(p.last_at_us, excluded.last_at_us)
      RETURNING last_seq, last_at_us),
    inserted AS (INSERT INTO messages ({_INSERT_COLUMNS})
        SELECT i.public_id, :account_id, {", ".join(f"i.{name}" for name in list(_BATCH_FIELDS)[1:])},
          p.last_seq - r.allowed + e.rank, p.last_at_us, :now
        FROM eligible e JOIN input i USING (place) CROSS JOIN rate r CROSS JOIN position p
        WHERE e.rank <= r.allowed
      RETURNING id, public_id),
    {jobs.enqueue_cte("inserted", "message_id")}
    SELECT c.owner, c.opted_out, m.id AS message_id, (SELECT raced FROM raced) AS raced
    FROM checked c JOIN input i USING (place) LEFT JOIN inserted m ON m.public_id = i.public_id
    ORDER BY c.place""",
)
# SQLite: `_ACCEPT_BATCH` as a statement per step in one transaction, the rate's arithmetic in Python
# (`ratelimit.take_many_sqlite`): every send's sender and opt-out (`:messages`, a JSON array of records, read
# in their order), then for the sends the bucket allowed their positions, messages and delivery jobs.
_SENDERS_EACH = sql(
    "SELECT n.account_id AS owner, EXISTS (SELECT 1 FROM opt_outs o WHERE o.our_number = "
    "json_extract(s.value, '$.from_number') AND o.subscriber = json_extract(s.value, '$.to_number')) AS opted_out "
    "FROM json_each(:messages) AS s LEFT JOIN numbers n "
    "ON n.value = json_extract(s.value, '$.from_number') AND n.account_id IS NOT NULL ORDER BY s.key"
)
_POSITIONS_TAKEN = sql(_POSITION.format(later="MAX", rows="VALUES (:account_id, :count, :now)"))
_INSERT_EACH = sql(
    f"INSERT INTO messages ({_INSERT_COLUMNS}) SELECT json_extract(value, '$.public_id'), :account_id, "
    + ", ".join(f"json_extract(value, '$.{name}')" for name in list(_BATCH_FIELDS)[1:])
    + ", :first_seq + key, :at, :now FROM json_each(:messages) WHERE true ORDER BY key RETURNING id, public_id"
)
_ENQUEUE_EACH = jobs.enqueue_each("message_id")
_BY_PUBLIC_ID = sql(f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE public_id = :public_id AND account_id = :account")
_BY_ID = sql(f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = :id")
_M_COLUMNS = ", ".join(f"m.{column.strip()}" for column in _MESSAGE_COLUMNS.split(","))
# The DLR callbacks that may apply to a message (its number's, `number_`-prefixed, and its account's; the
# precedence is `delivery._dlr_url`'s), read with the message so that announcing a receipt needs no query.
_DLR_SETTINGS = (
    "n.sms_dlr_callback AS number_sms_dlr_callback, n.mms_dlr_callback AS number_mms_dlr_callback, "
    "a.sms_dlr_callback, a.mms_dlr_callback"
)
_JOIN_DLR_SETTINGS = (
    "LEFT JOIN accounts a ON a.id = m.account_id "
    "LEFT JOIN numbers n ON n.value = m.from_number AND n.account_id = m.account_id"
)
_BY_IDS = sql(
    f"SELECT {_M_COLUMNS}, {_DLR_SETTINGS} FROM messages m {_JOIN_DLR_SETTINGS} "
    "WHERE m.id IN (SELECT value FROM json_each(:ids))",
    postgres=f"SELECT {_M_COLUMNS}, {_DLR_SETTINGS} FROM messages m {_JOIN_DLR_SETTINGS} WHERE m.id = ANY(:ids)",
)
# Positions are gapless per account and ordered like time, so the page at `offset` starts at the
# newest position before `end`, minus `offset`: two index probes and the page, at any depth.
PAGE = sql(
    f"""SELECT {_MESSAGE_COLUMNS} FROM messages
        WHERE account_id = :account
          AND seq <= (SELECT seq FROM messages WHERE account_id = :account AND created_at_us < :end
                      ORDER BY created_at_us DESC, seq DESC LIMIT 1) - :offset
          AND seq >= (SELECT seq FROM messages WHERE account_id = :account AND created_at_us >= :start
                      ORDER BY created_at_us, seq LIMIT 1)
        ORDER BY seq DESC LIMIT :limit"""
)
_ADVANCE = sql(
    """UPDATE messages SET status = :status, error = COALESCE(:error, error), updated_at_us = :now
       WHERE id = :id AND status <> :status
         AND status NOT IN ('delivered', 'undelivered', 'expired', 'rejected', 'failed')"""
)
_LOCKED = sql(
    f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = :id",
    postgres=f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = :id FOR UPDATE",
)
_SUBMITTED = sql(
    "UPDATE messages SET status = :status, carrier = :carrier, parts_pending = :parts, updated_at_us = :now "
    "WHERE id = :id AND status = 'queued'"
)
_INSERT_RECEIPT = sql(
    "INSERT INTO receipts (message_id, level, status, status_code, description, created_at_us) "
    "VALUES (:message_id, :level, :status, :code, :description, :now)"
)
# The receipt of a status change, inserted in the same PostgreSQL statement when the change was made
# (`Guarded`); its parameters only appear here, hence the casts.
_RECEIPT_OF_MOVED = (
    "INSERT INTO receipts (message_id, level, status, status_code, description, created_at_us) "
    "SELECT id, CAST(:level AS INTEGER), :status, CAST(:code AS INTEGER), CAST(:description AS TEXT), :now FROM moved"
)
_ADVANCE_WITH_RECEIPT = Guarded(
    _ADVANCE, _INSERT_RECEIPT, sql(f"WITH moved AS ({_ADVANCE.sqlite} RETURNING id) {_RECEIPT_OF_MOVED}")
)
# The same after a carrier's report on one part, whose state is recorded whether the status moves or not.
_PART_REPORTED = sql(
    "UPDATE carrier_message_ids SET state = :part_state WHERE carrier = :part_carrier AND carrier_message_id = :part_id"
)
_ADVANCE_REPORTED_WITH_RECEIPT = Guarded(
    _ADVANCE,
    _INSERT_RECEIPT,
    sql(f"WITH part AS ({_PART_REPORTED.sqlite}), moved AS ({_ADVANCE.sqlite} RETURNING id) {_RECEIPT_OF_MOVED}"),
    before=_PART_REPORTED,
)
# The parts' carrier ids (`:part_ids`, a JSON array of records) of a message just submitted.
_PART_FIELDS = ("carrier_message_id", "part", "id_key", "id_value")
_CARRIER_IDS = "INSERT INTO carrier_message_ids (carrier, carrier_message_id, message_id, part, id_key, id_value)"
_CARRIER_IDS_OF_SUBMITTED = sql(
    f"{_CARRIER_IDS} SELECT :carrier, "
    + ", ".join(f"json_extract(value, '$.{name}')" for name in _PART_FIELDS[:1])
    + ", :id, "
    + ", ".join(f"json_extract(value, '$.{name}')" for name in _PART_FIELDS[1:])
    + " FROM json_each(:part_ids) WHERE true ON CONFLICT (carrier, carrier_message_id) DO NOTHING"
)
_CARRIER_IDS_OF_MOVED = (
    f"{_CARRIER_IDS} SELECT :carrier, p.carrier_message_id, moved.id, p.part, p.id_key, p.id_value "
    "FROM moved, jsonb_to_recordset(CAST(:part_ids AS jsonb)) "
    "AS p(carrier_message_id text, part integer, id_key text, id_value text) "
    "ON CONFLICT (carrier, carrier_message_id) DO NOTHING"
)
_SUBMITTED_CTES = f"moved AS ({_SUBMITTED.sqlite} RETURNING id), parts AS ({_CARRIER_IDS_OF_MOVED})"
_SUBMITTED_WITH_RECEIPT = Guarded(  # status, level-1 receipt and carrier ids: on PostgreSQL one statement
    _SUBMITTED,
    _INSERT_RECEIPT,
    sql(f"WITH {_SUBMITTED_CTES} {_RECEIPT_OF_MOVED}"),
    also=_CARRIER_IDS_OF_SUBMITTED,
    ctes=f"{_SUBMITTED_CTES}, receipt AS ({_RECEIPT_OF_MOVED})",
)
# PostgreSQL: `_SUBMITTED_WITH_RECEIPT` and the end of each delivery job (`jobs.end_after`) for several
# messages at once (`:submits`, a JSON array of records; no message twice): one statement.
_SUBMITTED_ALL = sql(
    "",
    postgres=f"""WITH input AS (SELECT * FROM jsonb_to_recordset(CAST(:submits AS jsonb)) AS s(place integer,
        message_id bigint, job_id bigint, job_kind text, status text, carrier text, parts integer, now bigint,
        level integer, code integer, description text, part_ids jsonb, jobs jsonb)),
    moved AS (UPDATE messages m SET status = s.status, carrier = s.carrier, parts_pending = s.parts,
        updated_at_us = s.now
      FROM input s WHERE m.id = s.message_id AND m.status = 'queued' RETURNING m.id),
    receipt AS (INSERT INTO receipts (message_id, level, status, status_code, description, created_at_us)
      SELECT s.message_id, s.level, s.status, s.code, s.description, s.now
      FROM input s JOIN moved ON moved.id = s.message_id),
    parts AS (INSERT INTO carrier_message_ids (carrier, carrier_message_id, message_id, part, id_key, id_value)
      SELECT s.carrier, p.carrier_message_id, s.message_id, p.part, p.id_key, p.id_value
      FROM input s JOIN moved ON moved.id = s.message_id CROSS JOIN LATERAL
        jsonb_to_recordset(s.part_ids) AS p(carrier_message_id text, part integer, id_key text, id_value text)
      ON CONFLICT (carrier, carrier_message_id) DO NOTHING),
    {jobs.ending_rows_ctes("input", "message_id")}
    SELECT moved.id IS NOT NULL AS moved FROM input s LEFT JOIN moved ON moved.id = s.message_id ORDER BY s.place""",
    planned_each_run=True,
)
_CARRIER_ID_COLUMNS = "message_id, part, state, carrier_message_id, id_key, id_value"
_PART_AND_MESSAGE = ", ".join(
    [f"c.{column.strip()}" for column in _CARRIER_ID_COLUMNS.split(",")] + [_M_COLUMNS, _DLR_SETTINGS]
)
_PART_FROM = f"FROM carrier_message_ids c JOIN messages m ON m.id = c.message_id {_JOIN_DLR_SETTINGS}"
_LOCKED_BY_CARRIER_ID = sql(
    f"SELECT {_PART_AND_MESSAGE} {_PART_FROM} WHERE c.carrier = :carrier AND c.carrier_message_id = :id",
    postgres=f"SELECT {_PART_AND_MESSAGE} {_PART_FROM} WHERE c.carrier = :carrier AND c.carrier_message_id = :id "
    "FOR UPDATE OF m",
)
# PostgreSQL: `_LOCKED_BY_CARRIER_ID` for several ids at once, the messages locked in the order of their ids.
_LOCKED_BY_CARRIER_IDS = sql(
    "",
    postgres=f"""SELECT w.carrier AS named_carrier, {_PART_AND_MESSAGE} {_PART_FROM}
      JOIN unnest(CAST(:carriers AS TEXT[]), CAST(:ids AS TEXT[])) AS w(carrier, id)
        ON c.carrier = w.carrier AND c.carrier_message_id = w.id
      ORDER BY m.id FOR UPDATE OF m""",
    planned_each_run=True,
)
# PostgreSQL: carriers' reports on the parts of several messages (`:receipts`, a JSON array of records; no
# message twice), each applied as `_ADVANCE_REPORTED_WITH_RECEIPT` does, with the end of its receipt job
# (`jobs.ending_rows_ctes`): one statement.
_FINAL_LIST = "'delivered', 'undelivered', 'expired', 'rejected', 'failed'"
_REPORTED_ALL = sql(
    "",
    postgres=f"""WITH input AS (SELECT * FROM jsonb_to_recordset(CAST(:receipts AS jsonb)) AS r(place integer,
        message_id bigint, carrier text, carrier_message_id text, part_state text, status text, error text,
        level integer, code integer, description text, now bigint, job_id bigint, job_kind text, jobs jsonb)),
    part AS (UPDATE carrier_message_ids c SET state = r.part_state
      FROM input r WHERE c.carrier = r.carrier AND c.carrier_message_id = r.carrier_message_id),
    moved AS (UPDATE messages m SET status = r.status, error = COALESCE(r.error, m.error), updated_at_us = r.now
      FROM input r WHERE m.id = r.message_id AND m.status <> r.status AND m.status NOT IN ({_FINAL_LIST})
      RETURNING m.id),
    receipt AS (INSERT INTO receipts (message_id, level, status, status_code, description, created_at_us)
      SELECT r.message_id, r.level, r.status, r.code, r.description, r.now
      FROM input r JOIN moved ON moved.id = r.message_id),
    {jobs.ending_rows_ctes("input", "message_id")}
    SELECT moved.id IS NOT NULL AS moved FROM input r LEFT JOIN moved ON moved.id = r.message_id ORDER BY r.place""",
    planned_each_run=True,
)
# SQLite, which has no data-modifying WITH: `_SUBMITTED_ALL` and `_REPORTED_ALL` as a statement per write, each
# over the whole batch (`:records`, a JSON array), in one transaction; the moves first, whose RETURNING says
# which messages get a receipt, carrier ids and their jobs (`jobs.end_all`).
_SUBMITTED_EACH = sql(
    "UPDATE messages SET status = json_extract(s.value, '$.status'), carrier = json_extract(s.value, '$.carrier'), "
    "parts_pending = json_extract(s.value, '$.parts'), updated_at_us = json_extract(s.value, '$.now') "
    "FROM json_each(:records) AS s "
    "WHERE messages.id = json_extract(s.value, '$.message_id') AND messages.status = 'queued' RETURNING messages.id"
)
_PARTS_REPORTED_EACH = sql(
    "UPDATE carrier_message_ids SET state = json_extract(r.value, '$.part_state') FROM json_each(:records) AS r "
    "WHERE carrier_message_ids.carrier = json_extract(r.value, '$.carrier') "
    "AND carrier_message_ids.carrier_message_id = json_extract(r.value, '$.carrier_message_id')"
)
_REPORTED_EACH = sql(
    "UPDATE messages SET status = json_extract(r.value, '$.status'), "
    "error = COALESCE(json_extract(r.value, '$.error'), messages.error), "
    "updated_at_us = json_extract(r.value, '$.now') "
    "FROM json_each(:records) AS r WHERE messages.id = json_extract(r.value, '$.message_id') "
    f"AND messages.status <> json_extract(r.value, '$.status') AND messages.status NOT IN ({_FINAL_LIST}) "
    "RETURNING messages.id"
)
_CARRIER_IDS_EACH = sql(
    f"{_CARRIER_IDS} SELECT json_extract(s.value, '$.carrier'), json_extract(p.value, '$.carrier_message_id'), "
    "json_extract(s.value, '$.message_id'), json_extract(p.value, '$.part'), json_extract(p.value, '$.id_key'), "
    "json_extract(p.value, '$.id_value') FROM json_each(:records) AS s, json_each(s.value, '$.part_ids') AS p "
    "WHERE true ON CONFLICT (carrier, carrier_message_id) DO NOTHING"
)
# SQLite: `_LOCKED_BY_CARRIER_IDS` (`:named`, a JSON array of [carrier, id] pairs; CROSS JOIN keeps the batch
# the outer loop, each pair one probe of the carrier ids' key).
_BY_CARRIER_IDS = sql(
    f"SELECT json_extract(w.value, '$[0]') AS named_carrier, {_PART_AND_MESSAGE} FROM json_each(:named) AS w "
    "CROSS JOIN carrier_message_ids c ON c.carrier = json_extract(w.value, '$[0]') "
    f"AND c.carrier_message_id = json_extract(w.value, '$[1]') JOIN messages m ON m.id = c.message_id "
    f"{_JOIN_DLR_SETTINGS}"
)
_BY_CARRIER_SPELLING = sql(  # one indexed lookup per spelling (an OR of them scans the carrier's ids)
    f"""SELECT {_CARRIER_ID_COLUMNS} FROM carrier_message_ids WHERE carrier = :carrier AND id_key = :literal
        UNION ALL
        SELECT {_CARRIER_ID_COLUMNS} FROM carrier_message_ids WHERE carrier = :carrier AND id_value = :literal
        UNION ALL
        SELECT {_CARRIER_ID_COLUMNS} FROM carrier_message_ids WHERE carrier = :carrier AND id_key = :value"""
)
_SET_PART_STATE = sql(
    "UPDATE carrier_message_ids SET state = :state WHERE carrier = :carrier AND carrier_message_id = :id"
)
_PART_STATES = sql("SELECT state FROM carrier_message_ids WHERE message_id = :message_id")
_INSERT_MEDIA = sql(
    """INSERT INTO media (public_id, account_id, message_id, url, file_name, mime_type, file_size, content,
         created_at_us)
       VALUES (:public_id, :account_id, :message_id, :url, :file_name, :mime_type, :file_size, :content, :now)"""
)
_MEDIA_META = "public_id, message_id, url, file_name, mime_type, file_size"
_MEDIA_CONTENT = sql(
    "SELECT mime_type, file_name, content FROM media WHERE public_id = :public_id AND account_id = :account"
)
_MEDIA_OF_MESSAGE = sql(f"SELECT {_MEDIA_META} FROM media WHERE message_id = :message_id ORDER BY id")
_MEDIA_WITH_CONTENT = sql(f"SELECT {_MEDIA_META}, content FROM media WHERE message_id = :message_id ORDER BY id")


async def insert(connection: Connection, values: dict[str, Any]) -> int:
    """Insert a message at its account's next position (whose row stays locked until commit)."""
    message_id: int = await connection.fetchval_chain(_INSERT_NEXT, {"api_version": "2.1", **values})
    return message_id


async def insert_queued(connection: Connection, values: dict[str, Any], job_kind: str) -> int:
    """`insert`, and the job of `job_kind` that takes the message on (`{"message_id": id}`)."""
    params = {"api_version": "2.1", **values, "job_kind": job_kind}
    message_id: int = await connection.fetchval_chain(_INSERT_QUEUED, params)
    return message_id


async def accept_batch(
    connection: Connection, account_id: int, messages: Sequence[Params], taken: Params, job_kind: str
) -> list[Row] | None:
    """For each of the account's `messages` (`insert_queued`'s values but `account_id` and `now`), in order, the
    sender check, a take of the rate (`taken`: `ratelimit.take_params`, whose `now` the messages get) and
    `insert_queued`. Returns for each its sender's `owner` (None when no account has it), `opted_out`, and
    its new `message_id` (None when refused); None when the bucket was created meanwhile and nothing was
    written (PostgreSQL). On PostgreSQL one statement, for `Database.alone`; on SQLite a few, for a
    transaction."""
    if not on_postgres(connection):
        return await _accept_each(connection, account_id, messages, taken, job_kind)
    arrays = {f"{name}_list": [message[name] for message in messages] for name in _BATCH_FIELDS}
    params = {**arrays, **taken, "account_id": account_id, "job_kind": job_kind}
    rows = await connection.fetch(_ACCEPT_BATCH, params)
    return None if rows[0]["raced"] else rows


async def _accept_each(
    connection: Connection, account_id: int, messages: Sequence[Params], taken: Params, job_kind: str
) -> list[Row]:
    checked = await connection.fetch(_SENDERS_EACH, {"messages": list(messages)})
    eligible = [place for place, row in enumerate(checked) if row["owner"] == account_id and not row["opted_out"]]
    allowed = eligible[: await ratelimit.take_many_sqlite(connection, taken, len(eligible))]
    ids: dict[str, int] = {}
    if allowed:
        now = taken["now"]
        position = await connection.fetchrow(
            _POSITIONS_TAKEN, {"account_id": account_id, "count": len(allowed), "now": now}
        )
        assert position is not None
        params = {
            "account_id": account_id,
            "first_seq": position["last_seq"] - len(allowed) + 1,
            "at": position["last_at_us"],
            "now": now,
        }
        inserted = await connection.fetch(_INSERT_EACH, params | {"messages": [messages[place] for place in allowed]})
        ids = {row["public_id"]: row["id"] for row in inserted}
        await connection.execute(
            _ENQUEUE_EACH, {"job_kind": job_kind, "now": now, "ids": [row["id"] for row in inserted]}
        )
    return [
        {
            "owner": row["owner"],
            "opted_out": row["opted_out"],
            "message_id": ids.get(message["public_id"]),
            "raced": False,
        }
        for row, message in zip(checked, messages, strict=True)
    ]


async def by_public_id(connection: Connection, public_id: str, account_id: int) -> Row | None:
    return await connection.fetchrow(_BY_PUBLIC_ID, {"public_id": public_id, "account": account_id})


async def by_id(connection: Connection, message_id: int) -> Row | None:
    return await connection.fetchrow(_BY_ID, {"id": message_id})


async def by_ids(connection: Connection, message_ids: Sequence[int]) -> dict[int, Row]:
    """The messages that exist among `message_ids`, by id, with the DLR callbacks that may apply to them."""
    return {row["id"]: row for row in await connection.fetch(_BY_IDS, {"ids": list(message_ids)})}


async def page(connection: Connection, account_id: int, *, start: int, end: int, limit: int, offset: int) -> list[Row]:
    params = {"account": account_id, "start": start, "end": end, "limit": limit, "offset": offset}
    return await connection.fetch(PAGE, params)


async def advance_status(
    connection: Connection, message_id: int, status: str, *, now: int, error: str | None = None
) -> bool:
    """Move a message to `status` unless it is already there or final; True when it moved."""
    params = {"id": message_id, "status": status, "now": now, "error": error}
    return await connection.execute(_ADVANCE, params) == 1


async def locked(connection: Connection, message_id: int) -> Row | None:
    """The message, holding its row lock (PostgreSQL) so that receipts of its parts serialize.
    SQLite needs no lock: its transactions already run one at a time."""
    return await connection.fetchrow(_LOCKED, {"id": message_id})


async def mark_submitted(connection: Connection, message_id: int, *, carrier: str, parts: int, now: int) -> bool:
    params = {"id": message_id, "status": "smsc submit", "carrier": carrier, "parts": parts, "now": now}
    return await connection.execute(_SUBMITTED, params) == 1


async def advance_status_with_receipt(
    connection: Connection, message_id: int, receipt: Row, *, error: str | None = None, part: PartState | None = None
) -> bool:
    """`advance_status` to the receipt's status and, when it moved, `add_receipt` (`receipt`: level, status,
    status_code, description, created_at_us). `part`: the reported part's new state, recorded in any case
    (`set_part_state`): on PostgreSQL in the same statement."""
    params = {"id": message_id, "error": error, **_receipt_params(message_id, receipt)}
    if part is None:
        return await connection.execute_guarded(_ADVANCE_WITH_RECEIPT, params) == 1
    reported = {"part_carrier": part.carrier, "part_id": part.carrier_message_id, "part_state": part.state}
    return await connection.execute_guarded(_ADVANCE_REPORTED_WITH_RECEIPT, params | reported) == 1


async def mark_submitted_with_receipt(
    connection: Connection,
    message_id: int,
    receipt: Row,
    *,
    carrier: str,
    ids: Sequence[str],
    spellings: Sequence[Spelling] | None = None,
) -> bool:
    """`mark_submitted` and, when the message was still queued, `add_receipt` (the level-1 `receipt`) and the
    carrier's id of each part; with `spellings` (one per id) a receipt can name it by any of them
    (`by_carrier_spelling`)."""
    params = _submitted_params(message_id, receipt, carrier, ids, spellings)
    return await connection.execute_guarded(_SUBMITTED_WITH_RECEIPT, params) == 1


async def mark_submitted_ending(connection: Connection, end: SubmitEnd) -> bool:
    """`mark_submitted_with_receipt` and the end of the delivery job (`jobs.end_after`): on PostgreSQL one
    statement."""
    params = _submitted_params(end.message_id, end.receipt, end.carrier, end.ids, end.spellings)
    return await jobs.end_after(
        connection, end.job, _SUBMITTED_WITH_RECEIPT, params, when_moved=end.when_moved, always=end.always
    )


@dataclass(frozen=True, slots=True)
class SubmitEnd:
    """A message's `mark_submitted_ending`, for `mark_all_submitted_ending`."""

    job: Job
    message_id: int
    receipt: Row
    carrier: str
    ids: Sequence[str]
    spellings: Sequence[Spelling] | None
    when_moved: Sequence[dict[str, Any]]
    always: Sequence[dict[str, Any]]


async def mark_all_submitted_ending(connection: Connection, ends: Sequence[SubmitEnd]) -> list[bool]:
    """`mark_submitted_ending` of each of `ends` (no message twice). Whether each moved. On PostgreSQL one
    statement (for `Database.alone`); on SQLite a few, each over them all, in the caller's transaction."""
    if not on_postgres(connection):
        return await _mark_each_submitted_ending(connection, ends)
    submits = [_submit_end_record(place, end) for place, end in enumerate(ends)]
    rows = await connection.fetch(_SUBMITTED_ALL, {"submits": json_text.dumps(submits)})
    return [bool(row["moved"]) for row in rows]


async def _mark_each_submitted_ending(connection: Connection, ends: Sequence[SubmitEnd]) -> list[bool]:
    submits = [
        _receipt_params(end.message_id, end.receipt) | {"carrier": end.carrier, "parts": len(end.ids)} for end in ends
    ]
    moved = {row["id"] for row in await connection.fetch(_SUBMITTED_EACH, {"records": submits})}
    went = [end for end in ends if end.message_id in moved]
    if went:  # a submit's record holds its receipt's fields
        receipts = [record for record in submits if record["message_id"] in moved]
        await connection.executemany(_INSERT_RECEIPT, receipts)
        parts = [
            {"carrier": end.carrier, "message_id": end.message_id, "part_ids": _part_ids(end.ids, end.spellings)}
            for end in went
        ]
        await connection.execute(_CARRIER_IDS_EACH, {"records": parts})
    then = [job for end in ends for job in (*(end.when_moved if end.message_id in moved else ()), *end.always)]
    await jobs.end_all(connection, [end.job for end in ends], then)
    return [end.message_id in moved for end in ends]


def _submit_end_record(place: int, end: SubmitEnd) -> dict[str, Any]:
    return {
        **_receipt_params(end.message_id, end.receipt),
        "place": place,
        "carrier": end.carrier,
        "parts": len(end.ids),
        "part_ids": _part_ids(end.ids, end.spellings),
        "job_id": end.job.id,
        "job_kind": end.job.kind,
        "jobs": jobs.marked_jobs(end.when_moved, end.always),
    }


def _submitted_params(
    message_id: int, receipt: Row, carrier: str, ids: Sequence[str], spellings: Sequence[Spelling] | None
) -> dict[str, Any]:
    part_ids = json_text.dumps(_part_ids(ids, spellings))
    params = {"id": message_id, "carrier": carrier, "parts": len(ids), "part_ids": part_ids}
    return params | _receipt_params(message_id, receipt)


def _part_ids(ids: Sequence[str], spellings: Sequence[Spelling] | None) -> list[dict[str, Any]]:
    return [
        {"carrier_message_id": carrier_id, "part": part, "id_key": None, "id_value": None}
        | ({} if spellings is None else {"id_key": spellings[part][0], "id_value": spellings[part][1]})
        for part, carrier_id in enumerate(ids)
    ]


def _receipt_params(message_id: int, receipt: Row) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "level": receipt["level"],
        "status": receipt["status"],
        "code": receipt["status_code"],
        "description": receipt["description"],
        "now": receipt["created_at_us"],
    }


async def add_receipt(
    connection: Connection,
    message_id: int,
    *,
    level: int,
    status: str,
    code: int | None,
    description: str,
    now: int,
) -> None:
    params = {
        "message_id": message_id,
        "level": level,
        "status": status,
        "code": code,
        "description": description,
        "now": now,
    }
    await connection.execute(_INSERT_RECEIPT, params)


@cache
def _receipts_query(count: int) -> Query:
    return sql(
        "SELECT message_id, level, status, status_code, description, created_at_us FROM receipts "
        f"WHERE message_id IN ({placeholders('m', count)}) ORDER BY id DESC"
    )


async def receipts_of(connection: Connection, message_ids: Sequence[int]) -> dict[int, list[Row]]:
    found: dict[int, list[Row]] = {message_id: [] for message_id in message_ids}
    if not message_ids:
        return found
    for row in await connection.fetch(_receipts_query(len(message_ids)), in_params("m", message_ids)):
        found[row["message_id"]].append(row)
    return found


_FINAL_PART_STATES = frozenset({"DELIVRD", "UNDELIV", "EXPIRED", "DELETED", "REJECTD", "UNKNOWN"})
Spelling = tuple[str, str | None]


@dataclass(frozen=True, slots=True)
class PartState:
    carrier: str
    carrier_message_id: str
    state: str


"""How a receipt may spell a carrier's id: the id in lower case without leading zeros, and the decimal
value of its hex reading (None when that is the same or it is not hex). See `carrier_port.id_keys`."""


async def locked_by_carrier_id(connection: Connection, carrier: str, carrier_id: str) -> Row | None:
    """The part the carrier's id names together with its message's columns (their names differ), holding the
    message's row lock as `locked` does, and the DLR callbacks that may apply to it (as `by_ids`)."""
    return await connection.fetchrow(_LOCKED_BY_CARRIER_ID, {"carrier": carrier, "id": carrier_id})


async def locked_by_carrier_ids(connection: Connection, named: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Row]:
    """`locked_by_carrier_id` of each (carrier, id) of `named` in one query, by (carrier, id); on PostgreSQL the
    messages are locked in the order of their ids, so that two such reads cannot deadlock."""
    if on_postgres(connection):
        params = {"carriers": [carrier for carrier, _ in named], "ids": [carrier_id for _, carrier_id in named]}
        rows = await connection.fetch(_LOCKED_BY_CARRIER_IDS, params)
    else:
        rows = await connection.fetch(_BY_CARRIER_IDS, {"named": [list(pair) for pair in named]})
    return {(row["named_carrier"], row["carrier_message_id"]): row for row in rows}


async def by_carrier_spelling(connection: Connection, carrier: str, spelling: Spelling, state: str) -> Row | None:
    """The part a receipt (reporting `state`) names by an id with this spelling, when the receipt spells
    it unlike the submit response did (hex versus decimal, leading zeros). Where it could name several
    parts: the same literal id first, then a decimal receipt of a hex id, then a hex receipt of a decimal
    id; among equals a part still without a final state, then the newest. A part matched only across hex
    and decimal that already has another final state is passed over: the receipt is more likely for a
    part whose submit is not recorded yet (the caller retries) than a contradiction."""
    literal, value = spelling
    rows = await connection.fetch(_BY_CARRIER_SPELLING, {"carrier": carrier, "literal": literal, "value": value})

    def relation(row: Row) -> int:
        return 0 if row["id_key"] == literal else 1 if row["id_value"] == literal else 2

    def rank(row: Row) -> tuple[int, int, int]:
        return (relation(row), 1 if row["state"] in _FINAL_PART_STATES else 0, -int(row["message_id"]))

    def plausible(row: Row) -> bool:
        return relation(row) == 0 or row["state"] not in _FINAL_PART_STATES or row["state"] == state.upper()

    return min(filter(plausible, rows), key=rank, default=None)


async def set_part_state(connection: Connection, carrier: str, carrier_id: str, state: str) -> None:
    await connection.execute(_SET_PART_STATE, {"carrier": carrier, "id": carrier_id, "state": state})


async def part_states(connection: Connection, message_id: int) -> list[str | None]:
    return [row["state"] for row in await connection.fetch(_PART_STATES, {"message_id": message_id})]


async def insert_media(connection: Connection, values: dict[str, Any]) -> None:
    await connection.execute(_INSERT_MEDIA, values)


async def media_content(connection: Connection, public_id: str, account_id: int) -> Row | None:
    return await connection.fetchrow(_MEDIA_CONTENT, {"public_id": public_id, "account": account_id})


async def media_of(connection: Connection, message_id: int) -> list[Row]:
    return await connection.fetch(_MEDIA_OF_MESSAGE, {"message_id": message_id})


async def media_with_content(connection: Connection, message_id: int) -> list[Row]:
    return await connection.fetch(_MEDIA_WITH_CONTENT, {"message_id": message_id})


_ADD = sql(
    """INSERT INTO opt_outs (our_number, subscriber, created_at_us) VALUES (:ours, :subscriber, :now)
       ON CONFLICT (our_number, subscriber) DO NOTHING"""
)
_REMOVE = sql("DELETE FROM opt_outs WHERE our_number = :ours AND subscriber = :subscriber")
_FIND = sql("SELECT 1 AS found FROM opt_outs WHERE our_number = :ours AND subscriber = :subscriber")
_OUTBOUND = sql(
    "SELECT id, from_number, to_number FROM messages WHERE public_id = :public_id AND direction = 'outbound'"
)
# A send's checks in one read: who owns the sender number, and whether the receiver opted out of it.
_SENDER = sql(_SENDER_OF)
_LINK = sql("INSERT INTO message_replies (message_id, reply_to_id) VALUES (:message, :answered)")


async def add_opt_out(connection: Connection, *, ours: str, subscriber: str, now: int) -> bool:
    """True when the pair was not opted out yet."""
    return bool(await connection.execute(_ADD, {"ours": ours, "subscriber": subscriber, "now": now}))


async def remove_opt_out(connection: Connection, *, ours: str, subscriber: str) -> bool:
    """True when the pair was opted out."""
    return bool(await connection.execute(_REMOVE, {"ours": ours, "subscriber": subscriber}))


async def sender(connection: Connection, value: str, to: str) -> Row | None:
    """The owner (`account_id`) of the on-net number `value` and whether `to` opted out of it (`opted_out`)."""
    return await connection.fetchrow(_SENDER, {"from_number": value, "to_number": to})


async def opted_out(connection: Connection, *, ours: str, subscriber: str) -> bool:
    return await connection.fetchrow(_FIND, {"ours": ours, "subscriber": subscriber}) is not None


async def outbound_by_public_id(connection: Connection, public_id: str) -> Row | None:
    return await connection.fetchrow(_OUTBOUND, {"public_id": public_id})


async def link_reply(connection: Connection, message_id: int, answered_id: int) -> None:
    await connection.execute(_LINK, {"message": message_id, "answered": answered_id})


@dataclass(frozen=True, slots=True)
class ReportEnd:
    """A carrier's report on a part, for `apply_reported_all`: the part's new state, the MDR's error and its
    level-2 `receipt`, and the end of the receipt job with the jobs to enqueue if the message moves."""

    job: Job
    message_id: int
    part: PartState
    error: str | None
    receipt: Row
    when_moved: Sequence[dict[str, Any]]


async def apply_reported_all(connection: Connection, reports: Sequence[ReportEnd]) -> list[bool]:
    """Carriers' reports on parts of several messages (none twice), each as `advance_status_with_receipt` with
    its part, and the end of its receipt job. Whether each moved its message. On PostgreSQL one statement; on
    SQLite a few, each over them all, in the caller's transaction."""
    if not on_postgres(connection):
        return await _apply_each_reported(connection, reports)
    records = [
        {
            **_receipt_params(report.message_id, report.receipt),
            "place": place,
            "carrier": report.part.carrier,
            "carrier_message_id": report.part.carrier_message_id,
            "part_state": report.part.state,
            "error": report.error,
            "job_id": report.job.id,
            "job_kind": report.job.kind,
            "jobs": jobs.marked_jobs(report.when_moved, ()),
        }
        for place, report in enumerate(reports)
    ]
    rows = await connection.fetch(_REPORTED_ALL, {"receipts": json_text.dumps(records)})
    return [bool(row["moved"]) for row in rows]


async def _apply_each_reported(connection: Connection, reports: Sequence[ReportEnd]) -> list[bool]:
    records = [
        _receipt_params(report.message_id, report.receipt)
        | {
            "carrier": report.part.carrier,
            "carrier_message_id": report.part.carrier_message_id,
            "part_state": report.part.state,
            "error": report.error,
        }
        for report in reports
    ]
    await connection.execute(_PARTS_REPORTED_EACH, {"records": records})
    moved = {row["id"] for row in await connection.fetch(_REPORTED_EACH, {"records": records})}
    if moved:  # a report's record holds its receipt's fields
        receipts = [record for record in records if record["message_id"] in moved]
        await connection.executemany(_INSERT_RECEIPT, receipts)
    then = [job for report in reports if report.message_id in moved for job in report.when_moved]
    await jobs.end_all(connection, [report.job for report in reports], then)
    return [report.message_id in moved for report in reports]
