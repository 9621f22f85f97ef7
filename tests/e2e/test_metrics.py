"""`/metrics`: Prometheus text with requests by route template and status and their latency histograms, the
job queue (depth by kind, oldest job's age) and carrier link states read from the database at scrape time,
and the delivery, receipt and callback counters."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from telroute.kit.clock import system_clock
from tests.support import loopback
from tests.support.isolated import Deployment, api_only
from tests.support.messaging import buy_number, new_account, wait_for_status
from tests.support.receiver import Receiver
from tests.support.server import Server

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(server: Server) -> tuple[Samples, str]:
    return scrape_url(server.url)


def scrape_url(base: str) -> tuple[Samples, str]:
    """The samples of `GET {base}/metrics` (an API's or a worker's port) and its text."""
    response = loopback.get(f"{base}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples, response.text


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_by_route_template_and_status(server: Server) -> None:
    keys = new_account(server, "metrics")
    route = "/v2/numbers/{number}"
    before, _ = scrape(server)
    with server.client(keys) as api:
        for number in ("12065550198", "12065550199", "13125550177"):
            assert api.get(f"/v2/numbers/{number}").status_code == 404
        assert api.get("/v2/numbers/12").status_code == 400
        assert api.get("/no/such/path").status_code == 404
        assert api.put("/v2/numbers/12065550198").status_code == 405
    after, text = scrape(server)
    key = {"method": "GET", "route": route}
    assert value(after, "telroute_http_requests_total", **key, status="404") == (
        value(before, "telroute_http_requests_total", **key, status="404") + 3
    )
    assert value(after, "telroute_http_requests_total", **key, status="400") >= 1
    assert value(after, "telroute_http_requests_total", method="PUT", route=route, status="405") >= 1
    assert value(after, "telroute_http_requests_total", method="GET", route="<unmatched>", status="404") >= 1
    count = value(after, "telroute_http_request_duration_seconds_count", **key)
    assert count - value(before, "telroute_http_request_duration_seconds_count", **key) == 4
    assert value(after, "telroute_http_request_duration_seconds_bucket", **key, le="+Inf") == count
    assert value(after, "telroute_http_request_duration_seconds_sum", **key) > 0
    for raw in ("12065550198", "13125550177", "/no/such/path"):
        assert raw not in text, f"a raw path ({raw}) became a label value"
    assert "# TYPE telroute_http_request_duration_seconds histogram" in text
    assert "_created" not in text


def test_the_process_and_delivery_metric_families_are_exposed(server: Server) -> None:
    _, text = scrape(server)
    for family, kind in (
        ("telroute_deliveries_total", "counter"),
        ("telroute_receipts_total", "counter"),
        ("telroute_callbacks_total", "counter"),
        ("telroute_jobs_queue_depth", "gauge"),
        ("telroute_jobs_oldest_age_seconds", "gauge"),
        ("telroute_carrier_link_up", "gauge"),
        ("telroute_carrier_link_state", "gauge"),
        ("telroute_database_up", "gauge"),
        ("process_resident_memory_bytes", "gauge"),
    ):
        assert f"# TYPE {family} {kind}" in text, family


@pytest.mark.sqlite_only  # on PostgreSQL the shared database's jobs go to any server's worker
def test_deliveries_receipts_and_callbacks_are_counted(server: Server) -> None:
    keys = new_account(server, "metrics-delivery")
    before, _ = scrape(server)
    with Receiver() as receiver, server.client(keys) as api:
        number = buy_number(api)
        sent = api.post(
            "/v2.1/messages",
            json={"to": "13125550123", "from": number, "body": "count me", "dlr_callback": receiver.url("/dlr")},
        )
        wait_for_status(api, sent.json()["data"]["id"], "delivered", receipts=2)
        receiver.wait_for(2, path="/dlr")
    after, _ = scrape(server)
    for name, labels in (
        ("telroute_receipts_total", {"level": "1", "status": "smsc submit"}),
        ("telroute_receipts_total", {"level": "2", "status": "delivered"}),
        ("telroute_deliveries_total", {"carrier": "simulator", "status": "submitted"}),
        ("telroute_callbacks_total", {"event": "dlr", "outcome": "success"}),
    ):
        assert value(after, name, **labels) > value(before, name, **labels), (name, labels)


# --- what a scrape reads from the database: a deployment of its own, without a worker to change it ------


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployment, Server]]:
    with api_only(tmp_path_factory.mktemp("metrics")) as site:
        yield site


def test_an_empty_queue_and_no_carriers(quiet: tuple[Deployment, Server]) -> None:
    samples, _ = scrape(quiet[1])
    assert value(samples, "telroute_database_up") == 1
    assert value(samples, "telroute_jobs_oldest_age_seconds") == 0
    assert not [key for key in samples if key[0] in ("telroute_jobs_queue_depth", "telroute_carrier_link_up")]


def test_queue_depth_by_kind_and_the_oldest_jobs_age(quiet: tuple[Deployment, Server]) -> None:
    deployed, server = quiet
    now = system_clock()
    later = now + 3600 * 1_000_000
    jobs = [("probe_a", now - 120_000_000), ("probe_a", now - 5_000_000), ("probe_a", now), ("probe_b", now)]
    try:
        for kind, created in jobs:
            deployed.query(
                "INSERT INTO jobs (kind, payload, run_at_us, attempts, created_at_us) "
                "VALUES (:kind, '{}', :run, 0, :at)",
                {"kind": kind, "run": later, "at": created},
            )
        samples, _ = scrape(server)
        assert value(samples, "telroute_jobs_queue_depth", kind="probe_a") == 3
        assert value(samples, "telroute_jobs_queue_depth", kind="probe_b") == 1
        assert 120 <= value(samples, "telroute_jobs_oldest_age_seconds") < 180
    finally:
        deployed.query("DELETE FROM jobs WHERE kind IN ('probe_a', 'probe_b')")
    samples, _ = scrape(server)
    assert value(samples, "telroute_jobs_queue_depth", kind="probe_a") == 0
    assert value(samples, "telroute_jobs_oldest_age_seconds") == 0


def test_carrier_link_state_comes_from_the_lease_rows(quiet: tuple[Deployment, Server]) -> None:
    deployed, server = quiet
    now = system_clock()
    stats = json.dumps({"bound": True, "sent": 42, "receipts": 40, "inbound": 3, "errors": 1, "in_flight": 2})
    leases = [
        ("bound-link", now + 60_000_000, "bound", stats),
        ("dead-link", now - 1_000_000, "bound", "{}"),  # its worker stopped renewing
        ("stopped-link", 0, "released", "{}"),
        ("connecting-link", now + 60_000_000, "connecting", "{}"),
    ]
    try:
        for name in ("bound-link", "dead-link", "stopped-link", "connecting-link", "unstarted-link"):
            deployed.query(
                "INSERT INTO carriers (name, kind, config, created_at_us, updated_at_us) "
                "VALUES (:name, 'smpp', '{}', 0, 0)",
                {"name": name},
            )
        for name, expires, state, stat in leases:
            deployed.query(
                "INSERT INTO carrier_leases (carrier, holder, expires_at_us, state, stats, updated_at_us) "
                "VALUES (:name, 'host:1', :expires, :state, :stats, :now)",
                {"name": name, "expires": expires, "state": state, "stats": stat, "now": now},
            )
        samples, _ = scrape(server)
    finally:
        deployed.query("DELETE FROM carrier_leases")
        deployed.query("DELETE FROM carriers")
    expected = {
        "bound-link": ("bound", 1.0),
        "dead-link": ("no live worker", 0.0),
        "stopped-link": ("released", 0.0),
        "connecting-link": ("connecting", 0.0),
        "unstarted-link": ("not started", 0.0),
    }
    for name, (state, up) in expected.items():
        assert value(samples, "telroute_carrier_link_up", carrier=name) == up, name
        assert value(samples, "telroute_carrier_link_state", carrier=name, state=state) == 1, name
    assert value(samples, "telroute_carrier_link_messages", carrier="bound-link", counter="sent") == 42
    assert value(samples, "telroute_carrier_link_messages", carrier="bound-link", counter="in_flight") == 2
    assert value(samples, "telroute_carrier_link_messages", carrier="dead-link", counter="sent") == 0


def test_a_scrape_is_cheap(quiet: tuple[Deployment, Server]) -> None:
    started = time.perf_counter()
    for _ in range(20):
        scrape(quiet[1])
    assert (time.perf_counter() - started) / 20 < 0.25
