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


async def test_a_statement_alone_is_committed_as_one_transaction(database: Database) -> None:
    statements, transactions = database.counted.statements, database.counted.transactions
    generation = database.committed.generation
    async with database.alone() as connection:
        await connection.execute(sql("DELETE FROM jobs WHERE id = :id"), {"id": -1})
    assert (database.counted.statements - statements, database.counted.transactions - transactions) == (1, 1)
    assert database.committed.generation == generation + 1


@pytest.mark.postgres_only
async def test_on_postgresql_a_second_statement_alone_is_refused_and_the_first_stays(database: Database) -> None:
    """Without BEGIN each statement commits by itself: a second one would not be atomic with the first."""
    insert = sql("INSERT INTO rate_limits (bucket, tat_us) VALUES (:bucket, 1)")
    generation, transactions = database.committed.generation, database.counted.transactions
    with pytest.raises(RuntimeError, match="one statement"):
        async with database.alone() as connection:
            await connection.execute(insert, {"bucket": "alone:first"})
            await connection.execute(insert, {"bucket": "alone:second"})
    found = await database.fetch(sql("SELECT bucket FROM rate_limits WHERE bucket LIKE 'alone:%'"))
    assert [row["bucket"] for row in found] == ["alone:first"]
    # what was committed is announced as committed, though the block failed after it
    assert (database.committed.generation, database.counted.transactions) == (generation + 1, transactions + 1)


async def test_a_colon_in_a_string_literal_is_text_not_a_parameter(database: Database) -> None:
    found = await database.fetchrow(sql("SELECT 'x:moved' AS literal, :value AS value"), {"value": "v"})
    assert found is not None and (found["literal"], found["value"]) == ("x:moved", "v")
