"""A database that is briefly out of reach: JSON:API 503s while it is, and recovery by itself after.

PostgreSQL only: the outage is made by refusing new connections to the test's own database and
ending the server's sessions (the shared cluster keeps running for everyone else)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests.support.isolated import deployment, eventually

pytestmark = pytest.mark.postgres_only


def _psql_admin(database_url: str, statement: str) -> None:
    parts = urlsplit(database_url)
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    subprocess.run(["psql", admin, "-qc", statement], check=True, capture_output=True, timeout=30)


def test_requests_get_503_during_an_outage_and_succeed_after_it(tmp_path: Path) -> None:
    with deployment(tmp_path) as deployed:
        server = deployed.server().start()
        name = urlsplit(deployed.database_url).path.lstrip("/")
        try:
            keys = deployed.new_account("outage")
            with server.client(keys) as client:
                assert client.get("/v2/numbers").status_code == 200
                _psql_admin(deployed.database_url, f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
                _psql_admin(
                    deployed.database_url,
                    f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
                )

                def unavailable() -> httpx.Response | None:
                    try:
                        response = client.get("/v2/numbers")
                    except httpx.TransportError:  # a connection the server was using when the outage began
                        return None
                    return response if response.status_code == 503 else None

                response = eventually(unavailable, timeout=20, what="a 503 while the database is away")
                error = response.json()["errors"][0]
                assert error["status"] == 503
                assert error["title"] == "Server Error"
                assert response.headers["content-type"].startswith("application/vnd.api+json")
                assert "Traceback" not in response.text
                assert client.get("/readyz").status_code == 503

                _psql_admin(deployed.database_url, f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
                eventually(lambda: client.get("/v2/numbers").status_code == 200, timeout=30, what="recovery")
                assert client.get("/readyz").status_code == 200
        finally:
            _psql_admin(deployed.database_url, f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
            server.terminate()
