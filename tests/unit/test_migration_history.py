"""`kit/migrate.py` reads the migration history from the files without Alembic (so that a process whose
database is current never imports it): that reading is Alembic's, and an up-to-date database is left alone."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from telroute.kit import migrate


def _alembic_scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    return ScriptDirectory.from_config(config)


def test_the_head_and_the_revisions_are_alembics() -> None:
    scripts = _alembic_scripts()
    assert migrate.head_revision() == scripts.get_current_head()
    assert migrate.known_revisions() == {script.revision for script in scripts.walk_revisions()}


def test_a_fresh_file_is_migrated_to_head_and_records_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert migrate.recorded_revisions(url) == []
    migrate.migrate(url)
    assert migrate.recorded_revisions(url) == [migrate.head_revision()]
    assert migrate.current_revision_sqlite(url) == migrate.head_revision()


def test_a_database_behind_is_upgraded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.migrate(url, "0001")
    assert migrate.recorded_revisions(url) == ["0001"]
    migrate.migrate(url)
    assert migrate.recorded_revisions(url) == [migrate.head_revision()]


def test_a_file_that_is_not_migrated_records_nothing(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE other (id INTEGER)")
    assert migrate.recorded_revisions(f"sqlite:///{path}") == []
    assert migrate.current_revision_sqlite(f"sqlite:///{path}") is None


def test_a_current_database_does_not_import_alembic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'current.db'}"
    migrate.migrate(url)
    monkeypatch.setattr("builtins.__import__", _refusing_alembic(__import__))
    migrate.migrate(url)


def _refusing_alembic(real: object) -> object:
    def guarded(name: str, *args: object, **kwargs: object) -> object:
        assert not name.startswith("alembic"), "a current database must not need Alembic"
        return real(name, *args, **kwargs)  # type: ignore[operator]

    return guarded
