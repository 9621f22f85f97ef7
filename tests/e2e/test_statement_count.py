"""SQL statements per delivered message, counted by `kit/db` and read from `/metrics`: from the POST
(authentication included) to the level-2 DLR callback, one `telroute serve` on the suite's database.
A count, not a time: it only changes when the code issues more or fewer statements. The bound is the
figure reached (docs/performance.md). What a process does by itself whether messages flow or not (the
idle worker's empty claims, the sandbox's virtual-clock refresh, the console's change publisher, the
scrape of `/metrics`) is measured first, over an idle window, and taken off at the same rate."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e.test_metrics import scrape_url, value
from tests.support.databases import on_postgres
from tests.support.isolated import deployment
from tests.support.messaging import buy_number, send, sent_id
from tests.support.receiver import Receiver, Recorded
from tests.support.server import Server

MESSAGES = 60
# Measured per delivered message (send, submit, receipt, two callbacks); see docs/performance.md. The send's
# opt-out check (STOP) is one of them.
STATEMENTS_PER_MESSAGE = {"sqlite": 23, "postgres": 12}
IDLE_WINDOW = 2.0  # seconds of idling measured before the sends
SLACK = 0.5  # per message: the count moves by a fraction between runs (postponed callbacks under load)


@pytest.fixture(scope="module")
def counted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, httpx.Client, Receiver]]:
    data_dir = tmp_path_factory.mktemp("statements")
    with deployment(data_dir) as deployed, Receiver() as receiver:
        server = deployed.server(TELROUTE_SIMULATOR_RECEIPT_DELAY="0.2").start()
        keys = deployed.new_account("counted", sms_per_second=10_000, mms_per_second=10_000)
        try:
            with server.client(keys) as client:
                yield server, client, receiver
        finally:
            server.terminate()


def level_2_callbacks(recorded: list[Recorded]) -> int:
    return sum(1 for item in recorded if item.path == "/dlr" and item.json()["data"]["attributes"]["level"] == 2)


def statements(server: Server) -> float:
    samples, _ = scrape_url(server.url)
    return value(samples, "telroute_db_statements_total")


def idle_statements_per_second(server: Server) -> float:
    first = statements(server)
    time.sleep(IDLE_WINDOW)
    return (statements(server) - first) / IDLE_WINDOW


def test_statements_per_delivered_message_stay_within_the_measured_figure(
    counted: tuple[Server, httpx.Client, Receiver],
) -> None:
    server, client, receiver = counted
    number = buy_number(client)
    response = client.put("/v2.1/messages/sms_dlr_callback", json={"callback_url": receiver.url("/dlr")})
    assert response.status_code == 204, response.text
    idle_rate = idle_statements_per_second(server)
    before, started = statements(server), time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        sends = pool.map(lambda _: send(client, to="12065550100", from_=number, body="counted"), range(MESSAGES))
        responses = list(sends)
    ids = {sent_id(response) for response in responses}
    receiver.wait_until(lambda recorded: level_2_callbacks(recorded) >= MESSAGES, timeout=60)
    background = idle_rate * (time.monotonic() - started)
    per_message = (statements(server) - before - background) / MESSAGES
    figure = STATEMENTS_PER_MESSAGE["postgres" if on_postgres() else "sqlite"]
    assert len(ids) == MESSAGES
    assert per_message <= figure + SLACK, f"{per_message:.1f} statements per message ({background:.0f} idle ones off)"
