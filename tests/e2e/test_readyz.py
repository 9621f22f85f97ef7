"""`/readyz` is 200 only while the database answers and its schema is at this server's migration head;
otherwise a 503 JSON:API error that says why, and ready again by itself once that is fixed. `/healthz`
(alive) stays 200 throughout."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from telroute import openapi
from telroute.kit.migrate import head_revision
from tests.e2e.test_openapi_contract import Contract
from tests.support.databases import on_postgres
from tests.support.isolated import Deployment, api_only, eventually
from tests.support.server import Server

CONTRACT = Contract(openapi.document())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployment, Server]]:
    with api_only(tmp_path_factory.mktemp("readyz")) as site:
        yield site


def _ready(server: Server) -> httpx.Response:
    with CONTRACT.client(server) as client:
        assert client.get("/healthz").status_code == 200
        return client.get("/readyz")


def _not_ready(server: Server, *fragments: str) -> None:
    response = _ready(server)
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    [error] = response.json()["errors"]
    assert error["code"] == "not_ready" and error["title"] == "Server Error"
    for fragment in fragments:
        assert fragment in error["detail"], error["detail"]


def test_ready_when_the_schema_is_at_head(site: tuple[Deployment, Server]) -> None:
    response = _ready(site[1])
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_not_ready_while_the_schema_is_behind_or_ahead(site: tuple[Deployment, Server]) -> None:
    deployed, server = site
    head = head_revision()
    try:
        deployed.query("UPDATE alembic_version SET version_num = :old", {"old": "0000_older"})
        _not_ready(server, "revision 0000_older", f"needs {head}", "telroute migrate")
        deployed.query("UPDATE alembic_version SET version_num = :new", {"new": "9999_newer"})
        _not_ready(server, "revision 9999_newer")
        deployed.query("DELETE FROM alembic_version")
        _not_ready(server, "revision none")
    finally:
        deployed.query("DELETE FROM alembic_version")
        deployed.query("INSERT INTO alembic_version (version_num) VALUES (:head)", {"head": head})
    assert _ready(server).status_code == 200


def test_not_ready_without_a_schema(site: tuple[Deployment, Server]) -> None:
    deployed, server = site
    try:
        deployed.query("ALTER TABLE alembic_version RENAME TO alembic_version_away")
        _not_ready(server, "schema cannot be read", "telroute migrate")
    finally:
        deployed.query("ALTER TABLE alembic_version_away RENAME TO alembic_version")
    assert _ready(server).status_code == 200


def _psql(url: str, statement: str) -> None:
    parts = urlsplit(url)
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))
    subprocess.run(["psql", admin, "-qc", statement], check=True, capture_output=True, text=True, timeout=60)


@pytest.mark.postgres_only
@pytest.mark.skipif(not on_postgres(), reason="an unreachable database is made by refusing PostgreSQL connections")
def test_not_ready_while_the_database_refuses_connections_then_ready_by_itself(site: tuple[Deployment, Server]) -> None:
    deployed, server = site
    name = urlsplit(deployed.database_url).path.lstrip("/")
    try:
        _psql(deployed.database_url, f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        _psql(deployed.database_url, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        _not_ready(server, "database")
    finally:
        _psql(deployed.database_url, f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
    eventually(lambda: _ready(server).status_code == 200, timeout=15, what="ready again")
