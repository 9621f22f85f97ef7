"""Alembic environment: one history for SQLite and PostgreSQL (through asyncpg)."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import create_engine, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

url: str = context.config.get_main_option("sqlalchemy.url") or ""


MIGRATION_LOCK = 72_503_410  # any constant: PostgreSQL advisory lock key shared by every process


def run(connection: Any) -> None:
    if connection.dialect.name == "postgresql":
        # Processes that start together would otherwise race to create the same tables.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    context.configure(connection=connection, render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


async def run_async() -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(run)
        await connection.commit()
    await engine.dispose()


if url.startswith("postgresql+asyncpg"):
    asyncio.run(run_async())
else:
    with create_engine(url, poolclass=pool.NullPool).connect() as sync_connection:
        run(sync_connection)
        sync_connection.commit()
