"""Which database the suite runs on: SQLite files by default, PostgreSQL when
TELROUTE_TEST_DATABASE_URL names one (scripts/test creates a fresh database for each run)."""

from __future__ import annotations

import os
from pathlib import Path

POSTGRES_URL = os.environ.get("TELROUTE_TEST_DATABASE_URL") or None
SQLITE_FILE = "telroute.db"


def on_postgres() -> bool:
    return POSTGRES_URL is not None


def database_url_for(data_dir: Path) -> str:
    return POSTGRES_URL or f"sqlite:///{(data_dir / SQLITE_FILE).resolve()}"
