"""`Database.counted`: one statement for every statement sent (a Chain is one round trip on PostgreSQL and
two statements on SQLite), one transaction for every committed unit of work, none for a rolled-back one."""

from __future__ import annotations

import pytest

from telroute.kit.db import Database, sql


async def test_statements_and_committed_transactions_are_counted(database: Database) -> None:
    statements, transactions = database.counted.statements, database.counted.transactions
    await database.fetchval(sql("SELECT COUNT(*) FROM jobs"))
    async with database.transaction() as connection:
        await connection.execute(sql("DELETE FROM jobs WHERE id = :id"), {"id": -1})
        await connection.fetch(sql("SELECT id FROM jobs"))
    assert database.counted.statements - statements == 3
    assert database.counted.transactions - transactions == 1


async def test_a_rolled_back_transaction_counts_its_statements_but_not_as_committed(database: Database) -> None:
    statements, transactions = database.counted.statements, database.counted.transactions
    with pytest.raises(RuntimeError):
        async with database.transaction() as connection:
            await connection.execute(sql("DELETE FROM jobs WHERE id = :id"), {"id": -1})
            raise RuntimeError("give up")
    assert database.counted.statements - statements == 1
    assert database.counted.transactions - transactions == 0
