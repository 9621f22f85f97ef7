"""`telroute worker --port N` (or TELROUTE_WORKER_PORT) serves the worker's own /healthz, /readyz and /metrics;
without it a worker listens on nothing. Either way SIGTERM drains it and it exits 0 within seconds."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from telroute.kit.clock import system_clock
from tests.e2e.conftest import assert_error
from tests.e2e.test_http_edge import assert_closing_error, head_of_size, read_until_close
from tests.e2e.test_malformed_http import assert_malformed, exchange
from tests.e2e.test_metrics import scrape, scrape_url, value
from tests.support import loopback
from tests.support.isolated import Deployment, deployment, eventually
from tests.support.messaging import buy_number, new_account, send, sent_id, wait_for_status
from tests.support.server import Server, free_port
from tests.support.worker import WorkerProcess

SUBMITTED = {"carrier": "simulator", "status": "submitted"}
DELIVERED = {"level": "2", "status": "delivered"}


def _target(fd: Path) -> str:
    try:
        return os.readlink(fd)
    except FileNotFoundError:  # closed while the directory was read (the process opens and closes connections)
        return ""


def listening_ports(pid: int) -> set[int]:
    """The TCP ports process `pid` listens on (Linux: its socket fds matched against /proc/net/tcp*)."""
    sockets = {link for link in map(_target, Path(f"/proc/{pid}/fd").iterdir()) if link.startswith("socket:")}
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and f"socket:[{fields[9]}]" in sockets:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployment, Server, WorkerProcess, int]]:
    """An API process without a worker, and the deployment's one worker listening on a port of its own."""
    with deployment(tmp_path_factory.mktemp("worker-port")) as deployed:
        api = deployed.server("--no-worker").start()
        port = free_port()
        worker = WorkerProcess(deployed, ("--port", str(port)))
        try:
            worker.start()
            eventually(lambda: _healthy(port), timeout=30, what="the worker's /healthz")
            yield deployed, api, worker, port
        finally:
            worker.kill()
            api.terminate()


def _healthy(port: int) -> bool:
    try:
        return loopback.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_the_worker_serves_health_readiness_and_nothing_else(
    site: tuple[Deployment, Server, WorkerProcess, int],
) -> None:
    _, _, worker, port = site
    assert worker.process is not None and listening_ports(worker.process.pid) == {port}
    assert f"health and metrics on http://127.0.0.1:{port}" in worker.output()
    with loopback.client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {"status": "ready"}
        for path in ("/openapi.json", "/v2/numbers", "/v2.1/messages"):
            assert_error(client.get(path), 404)
        assert_error(client.post("/metrics"), 405)
    assert_malformed(exchange(port, b"G@T /metrics HTTP/1.1\r\n\r\n"), "invalid method")


def test_the_worker_port_has_the_limits_of_the_api_port(site: tuple[Deployment, Server, WorkerProcess, int]) -> None:
    with socket.create_connection(("127.0.0.1", site[3]), timeout=10) as sock:
        sock.sendall(head_of_size(17 * 1024))
        assert_closing_error(read_until_close(sock), 431, "request_header_fields_too_large")
    assert _healthy(site[3])


def test_the_worker_port_shows_the_queue_and_the_workers_own_deliveries(
    site: tuple[Deployment, Server, WorkerProcess, int],
) -> None:
    _, api, _, port = site
    worker_url = f"http://127.0.0.1:{port}"
    before, text = scrape_url(worker_url)
    for family in ("telroute_jobs_queue_depth", "telroute_deliveries_total", "telroute_carrier_link_up"):
        assert f"# TYPE {family} " in text, family
    assert value(before, "telroute_database_up") == 1
    keys = new_account(api, "worker-port")
    with api.client(keys) as client:
        message_id = sent_id(send(client, to="13125550123", from_=buy_number(client), body="via the worker"))
        wait_for_status(client, message_id, "delivered", receipts=2)
    after, _ = scrape_url(worker_url)
    delivered = value(after, "telroute_deliveries_total", **SUBMITTED)
    assert delivered == value(before, "telroute_deliveries_total", **SUBMITTED) + 1
    assert value(after, "telroute_receipts_total", **DELIVERED) > value(before, "telroute_receipts_total", **DELIVERED)
    api_samples, _ = scrape(api)
    assert value(api_samples, "telroute_deliveries_total", **SUBMITTED) == 0, "the API process delivers nothing"


def test_the_worker_port_reads_the_queue_from_the_database(site: tuple[Deployment, Server, WorkerProcess, int]) -> None:
    deployed, _, _, port = site
    later = system_clock() + 3600 * 1_000_000  # not due: the worker leaves it in the queue
    deployed.query(
        "INSERT INTO jobs (kind, payload, run_at_us, attempts, created_at_us) "
        "VALUES ('probe_worker', '{}', :run, 0, :at)",
        {"run": later, "at": system_clock() - 30_000_000},
    )
    try:
        samples, _ = scrape_url(f"http://127.0.0.1:{port}")
        assert value(samples, "telroute_jobs_queue_depth", kind="probe_worker") == 1
        assert value(samples, "telroute_jobs_oldest_age_seconds") >= 30
    finally:
        deployed.query("DELETE FROM jobs WHERE kind = 'probe_worker'")


def test_the_port_from_the_environment_and_sigterm_drains_it(
    site: tuple[Deployment, Server, WorkerProcess, int],
) -> None:
    port = free_port()
    worker = WorkerProcess(site[0], env_extra={"TELROUTE_WORKER_PORT": str(port)}).start()
    try:
        eventually(lambda: _healthy(port), timeout=30, what="the worker's /healthz")
        with loopback.client(timeout=10) as idle:  # a scraper's kept-alive connection must not hold up the exit
            assert idle.get(f"http://127.0.0.1:{port}/metrics").status_code == 200
            code, took = worker.terminate()
        assert code == 0, worker.output()
        assert took < 10, took
        assert not _healthy(port)
    finally:
        worker.kill()


def test_without_a_port_the_worker_listens_nowhere(site: tuple[Deployment, Server, WorkerProcess, int]) -> None:
    worker = WorkerProcess(site[0]).start()
    try:
        assert worker.process is not None
        time.sleep(0.5)  # past start-up: nothing listens later either
        assert listening_ports(worker.process.pid) == set()
        code, took = worker.terminate()
        assert code == 0 and took < 10, (code, took, worker.output())
    finally:
        worker.kill()


def test_a_port_in_use_is_a_clear_error(site: tuple[Deployment, Server, WorkerProcess, int]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = site[0].cli("worker", "--port", str(port), check=False)
    assert result.returncode == 1, result.stderr
    assert f"telroute could not listen on 127.0.0.1:{port} (is the port in use?)" in result.stderr
    assert "Traceback" not in result.stderr
