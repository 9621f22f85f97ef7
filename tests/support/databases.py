"""Which database the suite runs on: SQLite files by default, PostgreSQL when
TELROUTE_TEST_DATABASE_URL names one (scripts/test creates a fresh database for each run).

Under pytest-xdist each worker runs on a database of its own, named after the run's with the worker's id
appended (`telroute_test_123_gw0`), so that the workers' shared servers never claim each other's jobs;
`tests/conftest.py` creates it when the worker starts and `scripts/test` drops them all at the end."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

SQLITE_FILE = "telroute.db"


def with_database(url: str, name: str) -> str:
    """`url` naming the database `name` instead."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _postgres_url() -> str | None:
    url = os.environ.get("TELROUTE_TEST_DATABASE_URL") or None
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if url is None or worker is None:
        return url
    return with_database(url, f"{urlsplit(url).path.lstrip('/')}_{worker}")


POSTGRES_URL = _postgres_url()


def on_postgres() -> bool:
    return POSTGRES_URL is not None


def database_url_for(data_dir: Path) -> str:
    return POSTGRES_URL or f"sqlite:///{(data_dir / SQLITE_FILE).resolve()}"
