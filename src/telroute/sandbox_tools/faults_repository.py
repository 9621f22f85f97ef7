"""SQL of sandbox faults: an account's rules, the active ones that apply, and their countdown."""

from __future__ import annotations

from telroute.kit.db import Connection, Row, sql
from telroute.sandbox_tools.fault_rules import FaultRule

_COLUMNS = (
    "id, account_id, kind, match_value, outcome, seconds, status_code, description, remaining, share, "
    "expires_at_us, created_at_us"
)
_ACTIVE = """(expires_at_us IS NULL OR expires_at_us > :now) AND (remaining IS NULL OR remaining > 0)"""
_INSERT = sql(
    f"""INSERT INTO sandbox_faults (account_id, kind, match_value, outcome, seconds, status_code, description,
          remaining, share, expires_at_us, created_at_us)
        VALUES (:account, :kind, :match, :outcome, :seconds, :status_code, :description, :remaining, :share,
          :expires_at_us, :now)
        RETURNING {_COLUMNS}"""
)
_OF_ACCOUNT = sql(f"SELECT {_COLUMNS} FROM sandbox_faults WHERE account_id = :account ORDER BY id")
_DELETE_ONE = sql("DELETE FROM sandbox_faults WHERE id = :id AND account_id = :account")
_DELETE_ALL = sql("DELETE FROM sandbox_faults WHERE account_id = :account")
# The longest matching prefix first; among equals, the newest rule.
_DELIVERY_CANDIDATES = sql(
    f"""SELECT {_COLUMNS} FROM sandbox_faults
        WHERE account_id = :account AND kind = 'delivery' AND {_ACTIVE}
          AND substr(CAST(:to_number AS TEXT), 1, length(match_value)) = match_value
        ORDER BY length(match_value) DESC, id DESC"""
)
_API_RULES = sql(
    f"SELECT {_COLUMNS} FROM sandbox_faults WHERE account_id = :account AND kind = 'api' AND {_ACTIVE} ORDER BY id DESC"
)
_ACCOUNTS_WITH_API_RULES = sql(f"SELECT DISTINCT account_id FROM sandbox_faults WHERE kind = 'api' AND {_ACTIVE}")
_ACCOUNTS_WITH_DELIVERY_RULES = sql(
    "SELECT DISTINCT account_id FROM sandbox_faults "
    f"WHERE account_id IN (SELECT value FROM json_each(:accounts)) AND kind = 'delivery' AND {_ACTIVE}",
    postgres="SELECT DISTINCT account_id FROM sandbox_faults "
    f"WHERE account_id = ANY(:accounts) AND kind = 'delivery' AND {_ACTIVE}",
)
_USE = sql("UPDATE sandbox_faults SET remaining = remaining - 1 WHERE id = :id AND remaining > 0")


async def insert(connection: Connection, account_id: int, rule: FaultRule, *, now: int) -> Row:
    params = {
        "account": account_id,
        "kind": rule.kind,
        "match": rule.match,
        "outcome": rule.outcome,
        "seconds": rule.seconds,
        "status_code": rule.status_code,
        "description": rule.description,
        "remaining": rule.remaining,
        "share": rule.share,
        "expires_at_us": rule.expires_at_us,
        "now": now,
    }
    row = await connection.fetchrow(_INSERT, params)
    assert row is not None
    return row


async def of_account(connection: Connection, account_id: int) -> list[Row]:
    return await connection.fetch(_OF_ACCOUNT, {"account": account_id})


async def delete(connection: Connection, account_id: int, fault_id: int) -> bool:
    return await connection.execute(_DELETE_ONE, {"id": fault_id, "account": account_id}) > 0


async def delete_all(connection: Connection, account_id: int) -> None:
    await connection.execute(_DELETE_ALL, {"account": account_id})


async def delivery_candidates(connection: Connection, account_id: int, to_number: str, *, now: int) -> list[Row]:
    return await connection.fetch(_DELIVERY_CANDIDATES, {"account": account_id, "to_number": to_number, "now": now})


async def api_rules(connection: Connection, account_id: int, *, now: int) -> list[Row]:
    return await connection.fetch(_API_RULES, {"account": account_id, "now": now})


async def accounts_with_api_rules(connection: Connection, *, now: int) -> set[int]:
    return {int(row["account_id"]) for row in await connection.fetch(_ACCOUNTS_WITH_API_RULES, {"now": now})}


async def accounts_with_delivery_rules(connection: Connection, account_ids: list[int], *, now: int) -> set[int]:
    """Those of `account_ids` that have an active delivery rule (of any destination)."""
    rows = await connection.fetch(_ACCOUNTS_WITH_DELIVERY_RULES, {"accounts": account_ids, "now": now})
    return {int(row["account_id"]) for row in rows}


async def use(connection: Connection, fault_id: int) -> bool:
    """One use of a counted rule; False when another use took its last one first."""
    return await connection.execute(_USE, {"id": fault_id}) > 0
