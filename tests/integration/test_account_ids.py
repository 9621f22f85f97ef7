"""An account's id is never given to another account, even after the account is deleted: rows its in-flight
work writes after the deletion (a callback try, a dead letter) must never show under a newer account."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from telroute.accounts import service as accounts_service
from telroute.bootstrap import Deps
from telroute.kit import migrate
from telroute.sandbox_tools import service as sandbox_service


async def _new_account_id(deps: Deps, name: str) -> tuple[str, int]:
    async with deps.db.transaction() as connection:
        keys = await accounts_service.create(connection, name, now=deps.clock())
        account = await accounts_service.authenticate(connection, (keys.access_key, keys.secret_key))
    return keys.access_key, account.id


async def test_the_newest_accounts_id_is_not_given_again_after_it_is_deleted(deps: Deps) -> None:
    key, deleted_id = await _new_account_id(deps, "deleted")
    async with deps.db.transaction() as connection:
        await sandbox_service.delete_account(connection, key)
    _, next_id = await _new_account_id(deps, "next")
    assert next_id > deleted_id


@pytest.mark.sqlite_only
def test_the_upgrade_keeps_every_account_and_what_refers_to_it(tmp_path: Path) -> None:
    """Revision 0010 copies SQLite's accounts table into one with AUTOINCREMENT."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.migrate(url, "0009")
    with closing(sqlite3.connect(tmp_path / "old.db", isolation_level=None)) as connection:
        for account_id, key in ((1, "11111111"), (7, "77777777")):
            connection.execute(
                "INSERT INTO accounts (id, access_key, name, secret_hash, created_at_us, sms_callback) "
                "VALUES (?, ?, 'old', 'hash', 1, 'https://example.com/in')",
                (account_id, key),
            )
        connection.execute(
            "INSERT INTO routes (account_id, route_type, value, alias, created_at_us) "
            "VALUES (7, 'sip-reg', 'x', 'r', 1)"
        )
    migrate.migrate(url)
    with closing(sqlite3.connect(tmp_path / "old.db", isolation_level=None)) as connection:
        accounts = connection.execute("SELECT id, access_key, sms_callback, sms_per_second FROM accounts ORDER BY id")
        assert accounts.fetchall() == [
            (1, "11111111", "https://example.com/in", 5),
            (7, "77777777", "https://example.com/in", 5),
        ]
        assert connection.execute("SELECT account_id FROM routes WHERE account_id IS NOT NULL").fetchall() == [(7,)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        connection.execute("DELETE FROM routes WHERE account_id = 7")
        connection.execute("DELETE FROM accounts WHERE id = 7")
        connection.execute(
            "INSERT INTO accounts (access_key, name, secret_hash, created_at_us) VALUES ('88888888', 'new', 'h', 2)"
        )
        assert connection.execute("SELECT id FROM accounts WHERE access_key = '88888888'").fetchone() == (8,)
