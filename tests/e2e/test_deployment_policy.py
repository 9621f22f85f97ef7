"""The deployment decides, every process obeys: the profile and outbound address policy are stored
in the database, and the README's production deployment (an API process with `--no-worker` and a
separate `telroute worker`, no other flags) never sends a callback or media fetch to a private
address. Processes may be stricter than the deployment, never looser (exit code 2)."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support import loopback
from tests.support.databases import on_postgres
from tests.support.isolated import Deployment, deployment, eventually
from tests.support.messaging import error_of, send, sent_id, wait_for_status
from tests.support.receiver import Receiver
from tests.support.server import Server
from tests.support.worker import WorkerProcess

LOOPBACK_SPELLINGS = ("127.0.0.1", "localhost", "[::1]", "2130706433", "0177.0.0.1", "[::ffff:127.0.0.1]")

# The policy's rules do not depend on the database: one run, on PostgreSQL where there is one (the README's
# production deployment).
pytestmark = pytest.mark.one_database


@dataclass
class Production:
    deployment: Deployment
    api: Server
    worker: WorkerProcess
    receiver: Receiver
    client: httpx.Client
    number: str
    early_callback: str  # stored while the deployment was still a sandbox

    def dead_letters(self) -> list[dict[str, Any]]:
        letters: list[dict[str, Any]] = self.deployment.cli_json("webhooks", "dead-letters")
        return letters


def _first_log_line(output: str) -> str:
    return next(line for line in output.splitlines() if line.strip())


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Production]:
    data_dir = tmp_path_factory.mktemp("production")
    with deployment(data_dir) as deployed, Receiver() as receiver:
        # A sandbox first, whose account set a callback on loopback (the sandbox allows it)...
        deployed.cli("init", "--profile", "sandbox")
        keys = deployed.new_account("tenant", sms_per_second=50, mms_per_second=50)
        early = receiver.url("/early-dlr")
        deployed.query(
            "UPDATE accounts SET sms_dlr_callback = :url WHERE access_key = :key", {"url": early, "key": keys[0]}
        )
        if not deployed.cli_json("inventory", "stats")["available"]:
            deployed.cli("inventory", "generate")
        # ...then the README's production deployment, word for word.
        deployed.cli("init", "--profile", "production")
        api = deployed.server("--profile", "production", "--no-worker").start()
        site = Production(deployed, api, WorkerProcess(deployed), receiver, api.client(keys), "", early)
        try:
            site.worker.start()
            found = site.client.get("/v2/numbers/available", params={"starts_with": "1201", "limit": "1"})
            site.number = str(found.json()["data"][0]["id"])
            assert site.client.post(f"/v2/numbers/{site.number}").status_code == 201
            yield site
        finally:
            site.client.close()
            site.worker.kill()  # the worker in place at the end (a test replaces it)
            api.terminate()


def test_every_process_logs_the_stored_production_policy_first(production: Production) -> None:
    for output, process in ((production.api.output(), "serve"), (production.worker.output(), "worker")):
        first = _first_log_line(output)
        assert "deployment policy" in first
        assert f"process={process}" in first
        assert "profile=production" in first
        assert "public addresses only" in first


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_a_private_account_callback_is_refused_when_set(production: Production, host: str) -> None:
    url = f"http://{host}:{production.receiver.port}/dlr"
    response = production.client.put("/v2.1/messages/sms_dlr_callback", json={"callback_url": url})
    error = error_of(response, 422)
    assert error["source"] == {"pointer": "/callback_url"}
    assert "private, loopback or link-local" in error["detail"]


def test_private_number_and_message_callbacks_are_refused_when_set(production: Production) -> None:
    url = f"http://169.254.169.254:{production.receiver.port}/latest"
    response = production.client.post(
        f"/v2/numbers/{production.number}/relationships/sms_callback", json={"callback_url": url}
    )
    assert error_of(response, 422)["source"] == {"pointer": "/callback_url"}
    response = send(production.client, from_=production.number, to="12065550140", body="x", dlr_callback=url)
    assert error_of(response, 422)["source"]["pointer"].endswith("/dlr_callback")
    media = send(
        production.client, from_=production.number, to="12065550141", media_urls=[production.receiver.url("/a.gif")]
    )
    assert "private, loopback or link-local" in error_of(media, 422)["detail"]


def test_the_worker_refuses_a_private_callback_stored_before_and_the_receiver_hears_nothing(
    production: Production,
) -> None:
    message_id = sent_id(send(production.client, from_=production.number, to="12065550142", body="quiet"))
    wait_for_status(production.client, message_id, "delivered", receipts=2)
    letters = eventually(
        lambda: (
            found
            if len(found := [d for d in production.dead_letters() if d["url"] == production.early_callback]) == 2
            else None
        ),
        what="both receipts dead-lettered",
    )
    assert all(letter["last_error"].startswith("refused: ") for letter in letters)
    assert all(letter["attempts"] == 1 for letter in letters)
    assert production.receiver.requests(method=None) == []


def test_admin_endpoints_are_off_without_a_token_in_production(production: Production) -> None:
    response = loopback.post(
        f"{production.api.url}/sandbox/inbound",
        json={"from": "12065550143", "to": production.number, "body": "hi"},
        headers={"Authorization": "Bearer guess"},
    )
    assert error_of(response, 404)
    assert not (production.deployment.data_dir / "admin-token").exists()


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("worker", "--profile", "sandbox"), {}),
        (("worker",), {"TELROUTE_PROFILE": "sandbox"}),
        (("worker",), {"TELROUTE_ALLOW_PRIVATE_TARGETS": "1"}),
        (("serve", "--profile", "sandbox", "--port", "1"), {}),
        (("serve", "--allow-private-targets", "--port", "1"), {}),
        (("init", "--profile", "sandbox"), {}),
        (("policy", "private-targets", "allow"), {}),
    ],
)
def test_nothing_makes_a_production_deployment_looser(
    production: Production, args: tuple[str, ...], env: dict[str, str]
) -> None:
    result = production.deployment.cli(*args, check=False, env_extra=env)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, result.stderr
    assert "production" in errors[0] or "private targets" in errors[0]


def test_an_allowed_network_is_an_explicit_logged_change(production: Production) -> None:
    """The operator whose app lives on a private network allows that network; the change is logged and
    kept, and a worker started after it delivers there (the dead letters, replayed)."""
    changed = production.deployment.cli("policy", "allow-network", "127.0.0.0/8")
    assert "127.0.0.0/8" in changed.stdout
    assert "deployment policy changed" in changed.stderr
    first = _first_log_line(changed.stderr)  # an admin command, too, says first what it runs under
    assert "deployment policy" in first and "process=cli" in first and "profile=production" in first
    shown = production.deployment.cli("policy", "show").stdout
    assert "profile=production private_targets=refused allowed_networks=127.0.0.0/8" in shown.splitlines()[0]
    history = [line.split("  ")[-1] for line in shown.splitlines()[1:]]
    assert history == [
        "created: profile=sandbox private_targets=allowed allowed_networks=none",
        "profile sandbox -> production; private targets refused",
        "allowed 127.0.0.0/8",
    ]
    try:
        production.worker.kill()
        production.worker = WorkerProcess(production.deployment).start()
        assert "public addresses and 127.0.0.0/8" in _first_log_line(production.worker.output())
        production.deployment.cli("webhooks", "replay", "--all")
        production.receiver.wait_until(lambda seen: len(seen) >= 2)
        assert {item.path for item in production.receiver.requests(method="POST")} == {"/early-dlr"}
    finally:
        production.deployment.cli("policy", "remove-network", "127.0.0.0/8")


def test_a_worker_on_a_database_without_a_profile_refuses_to_guess(tmp_path_factory: pytest.TempPathFactory) -> None:
    with deployment(tmp_path_factory.mktemp("no-profile")) as deployed:
        refused = deployed.cli("worker", check=False)
        assert refused.returncode == 2
        assert "telroute init --profile production" in refused.stderr
        worker = WorkerProcess(deployed, ("--profile", "production")).start()
        worker.kill()
        assert deployed.cli_json("policy", "show") == {
            "profile": "production",
            "private_targets": False,
            "allowed_networks": [],
        }


@pytest.mark.sqlite_only
def test_the_data_dir_and_the_database_files_are_private(tmp_path_factory: pytest.TempPathFactory) -> None:
    data_dir = tmp_path_factory.mktemp("private-files")
    assert not on_postgres()
    with deployment(data_dir) as deployed:
        deployed.cli("migrate")
        (data_dir / "telroute.db").chmod(0o644)  # made by an older version
        data_dir.chmod(0o755)
        server = deployed.server().start()
        try:
            with server.client(server.demo_keys()) as client:
                assert client.get("/v2/numbers").status_code == 200
            assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
            for name in ("telroute.db", "telroute.db-wal", "telroute.db-shm", "demo-account.json", "admin-token"):
                assert stat.S_IMODE((data_dir / name).stat().st_mode) == 0o600, name
        finally:
            server.terminate()
