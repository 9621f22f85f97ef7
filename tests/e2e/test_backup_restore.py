"""`telroute backup` and `telroute restore`: a backup taken while a real server accepts a stream of sends is a
consistent database at the schema head, holding every message accepted before it began; restored into a new
data dir it serves those messages; a restore is refused while a server has the database open, and for
files that are not telroute databases; PostgreSQL deployments are pointed to PostgreSQL's tools."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from telroute.kit.migrate import head_revision
from tests.e2e.test_crash import ENV, prepare_sender
from tests.support.callback_receiver import CallbackReceiver
from tests.support.isolated import Deployment, eventually
from tests.support.send_load import SendLoad
from tests.support.server import Server

Keys = tuple[str, str]


def sqlite_deployment(data_dir: Path) -> Deployment:
    data_dir.mkdir(parents=True, exist_ok=True)
    return Deployment(data_dir, f"sqlite:///{(data_dir / 'telroute.db').resolve()}")


@dataclass(frozen=True)
class BackedUp:
    live: Deployment
    server: Server  # still running on `live`
    keys: Keys
    backup: Path
    accepted_before: set[str]  # ids of the messages that had a 202 when the backup began


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackedUp]:
    """A backup made by `telroute backup` while the server took sends from four clients and delivered them."""
    root = tmp_path_factory.mktemp("backup")
    live = sqlite_deployment(root / "live")
    with CallbackReceiver() as receiver:
        server = live.server(**ENV).start()
        try:
            keys, sender = prepare_sender(live, server, receiver)
            with SendLoad(server.url, keys, sender, pause=0.02) as load:
                eventually(lambda: load.count(202) >= 50, timeout=30, what="50 sends accepted")
                accepted_before = set(load.accepted)
                backup = root / "telroute-backup.db"
                live.cli("backup", str(backup))
                during = load.count(202) - len(accepted_before)
            assert during > 0, "no send was accepted while the backup ran"
            assert load.unexpected == [], load.summary()
            yield BackedUp(live, server, keys, backup, accepted_before)
        finally:
            server.kill()


def rows(path: Path, statement: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as database:
        return database.execute(statement).fetchall()


@pytest.mark.sqlite_only
def test_a_backup_taken_under_load_is_a_consistent_database_at_the_schema_head(backed_up: BackedUp) -> None:
    backup = backed_up.backup
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert rows(backup, "PRAGMA integrity_check") == [("ok",)]
    assert rows(backup, "PRAGMA foreign_key_check") == []
    assert rows(backup, "SELECT version_num FROM alembic_version") == [(head_revision(),)]
    assert rows(backup, "PRAGMA journal_mode") == [("delete",)]  # one self-contained file
    in_backup = {str(row[0]) for row in rows(backup, "SELECT public_id FROM messages")}
    assert backed_up.accepted_before <= in_backup
    # Every message is whole: a queued one has its delivery job (enqueued in the same transaction), one
    # that went further has its receipts, a delivered one its level-2 receipt.
    queued_without_job = rows(
        backup,
        "SELECT public_id FROM messages WHERE status = 'queued' AND id NOT IN "
        "(SELECT json_extract(payload, '$.message_id') FROM jobs WHERE kind = 'deliver_message')",
    )
    assert queued_without_job == []
    sent_without_receipt = rows(
        backup,
        "SELECT public_id FROM messages WHERE status <> 'queued' AND id NOT IN (SELECT message_id FROM receipts)",
    )
    assert sent_without_receipt == []
    delivered_without_level_2 = rows(
        backup,
        "SELECT public_id FROM messages WHERE status = 'delivered' AND id NOT IN "
        "(SELECT message_id FROM receipts WHERE level = 2)",
    )
    assert delivered_without_level_2 == []
    assert not list(backup.parent.glob(".*.partial")), "a temporary file was left behind"


@pytest.mark.sqlite_only
def test_a_backup_never_overwrites_a_file_nor_leaves_a_partial_one(backed_up: BackedUp, tmp_path: Path) -> None:
    before = backed_up.backup.read_bytes()
    for target, reason in [
        (backed_up.backup, "exists already"),
        (tmp_path / "missing-dir" / "b.db", "there is no directory"),
    ]:
        refused = backed_up.live.cli("backup", str(target), check=False)
        assert refused.returncode == 1 and reason in refused.stderr, refused.stderr
    assert backed_up.backup.read_bytes() == before
    assert not (tmp_path / "missing-dir").exists()


@pytest.mark.sqlite_only
def test_restore_is_refused_while_a_server_has_the_database_open(backed_up: BackedUp) -> None:
    refused = backed_up.live.cli("restore", str(backed_up.backup), check=False)
    assert refused.returncode == 1
    assert "stop every telroute server" in refused.stderr
    with backed_up.server.client(backed_up.keys) as client:  # untouched: it goes on serving
        assert client.get("/v2.1/messages", params={"start_date": "2000-01-01", "limit": 1}).status_code == 200


@pytest.mark.sqlite_only
def test_a_restored_backup_serves_its_messages(backed_up: BackedUp, tmp_path: Path) -> None:
    restored = sqlite_deployment(tmp_path / "restored")
    result = restored.cli("restore", str(backed_up.backup))
    assert "schema revision" in result.stdout
    in_backup = {str(row[0]) for row in rows(backed_up.backup, "SELECT public_id FROM messages")}
    server = restored.server("--no-worker").start()
    try:
        with server.client(backed_up.keys) as client:
            for message_id in sorted(in_backup):
                assert client.get(f"/v2.1/messages/{message_id}").status_code == 200, message_id
    finally:
        server.terminate()


@pytest.mark.sqlite_only
def test_restore_after_a_server_was_killed_sets_the_old_database_and_its_wal_aside(
    backed_up: BackedUp, tmp_path: Path
) -> None:
    """A SIGKILLed server holds no lock any more; its WAL (which may hold its last commits) goes aside with the
    old database, so that it is neither lost nor replayed into the restored one."""
    crashed = sqlite_deployment(tmp_path / "crashed")
    server = crashed.server("--no-worker").start()
    crashed.new_account("written just before the kill")
    server.kill()
    database = tmp_path / "crashed" / "telroute.db"
    assert database.with_name("telroute.db-wal").exists()
    result = crashed.cli("restore", str(backed_up.backup))
    assert "kept as" in result.stdout
    [aside] = database.parent.glob("telroute.db.before-restore-*[0-9]")
    assert aside.with_name(aside.name + "-wal").exists()
    assert not database.with_name("telroute.db-wal").exists() and not database.with_name("telroute.db-shm").exists()
    assert rows(database, "PRAGMA integrity_check") == [("ok",)]
    in_backup = rows(backed_up.backup, "SELECT COUNT(*) FROM messages")
    assert rows(database, "SELECT COUNT(*) FROM messages") == in_backup
    with closing(sqlite3.connect(aside)) as old:  # the old database, with its WAL, is whole
        names = {row[0] for row in old.execute("SELECT name FROM accounts")}
    assert "written just before the kill" in names


@pytest.mark.sqlite_only
def test_restore_refuses_files_that_are_not_telroute_databases(backed_up: BackedUp, tmp_path: Path) -> None:
    target = sqlite_deployment(tmp_path / "target")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all\n" * 500)
    foreign = tmp_path / "foreign.db"
    with closing(sqlite3.connect(foreign)) as database:
        database.execute("CREATE TABLE notes (text TEXT)")
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(backed_up.backup.read_bytes()[: backed_up.backup.stat().st_size // 2])
    reasons = {
        garbage: "is not a readable SQLite database",
        foreign: "is not a telroute database",
        truncated: "",  # SQLite reports the damage in its own words
        tmp_path / "missing.db": "there is no backup file",
    }
    for path, reason in reasons.items():
        refused = target.cli("restore", str(path), check=False)
        assert refused.returncode == 1, (path, refused.stdout)
        assert reason in refused.stderr, refused.stderr
    assert not (tmp_path / "target" / "telroute.db").exists()
    assert not list((tmp_path / "target").glob(".*.partial"))


@pytest.mark.no_database
@pytest.mark.parametrize("command", ["backup", "restore"])
def test_a_postgresql_deployment_is_pointed_to_postgresqls_tools(command: str, tmp_path: Path) -> None:
    deployed = Deployment(tmp_path, "postgresql://postgres@127.0.0.1:1/nowhere")
    (tmp_path / "file.db").write_bytes(b"")
    refused = deployed.cli(command, str(tmp_path / ("new.db" if command == "backup" else "file.db")), check=False)
    assert refused.returncode == 1
    assert "pg_dump" in refused.stderr and "pg_basebackup" in refused.stderr
    assert not (tmp_path / "new.db").exists()
