"""SQL statements per delivered message, counted by `kit/db` and read from `/metrics`: from the POST
(authentication included) to the level-2 DLR callback, one `telroute serve` on the suite's database.
A count, not a time: it only changes when the code issues more or fewer statements. The messages go one at
a time, each waiting for its level-2 callback: messages in flight together share reads, claims and job
ends (`kit/coalesce.py`), by amounts that depend on timing (a loaded run once counted 14.4 per message
where others counted 11). Alone, a message's count is the same in every run, and higher than under load
(`benchmarks/run` measures that: docs/performance.md). The bound is the figure measured. What a process
does by itself whether messages flow or not (the idle worker's empty claims, the console's change
publisher, the scrape of `/metrics`) is measured over an idle window before and one after, and taken off
at the higher rate."""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial

import httpx
import pytest

from tests.e2e.test_metrics import scrape_url, value
from tests.support.databases import on_postgres
from tests.support.isolated import deployment
from tests.support.messaging import buy_number, send, sent_id
from tests.support.receiver import Receiver, Recorded
from tests.support.server import Server

MESSAGES = 20
# Measured per delivered message alone (send, submit, receipt, two callbacks, and the worker's claims between
# them): 33.5 on SQLite, where the send's sender and opt-out check is one of them (33 before a receipt alone
# went the way of a batch of receipts, a statement more); 20.6 on PostgreSQL, where the whole send is one
# statement (22.7 when it was three). With the worker in a process of its own (`serve`'s default on two
# cores or more): 37.0 on SQLite, where each process reads `PRAGMA data_version` (counted) to see the other's
# commits, and 20.3 on PostgreSQL (19.4 in one process).
STATEMENTS_PER_MESSAGE = {("sqlite", "0"): 34, ("postgres", "0"): 21, ("sqlite", "1"): 37, ("postgres", "1"): 21}
IDLE_WINDOW = 2.0  # seconds of idling measured before the sends and after
SLACK = 1.0  # per message: the idle worker's polling, taken off at an idle window's rate, varies a little


@pytest.fixture(scope="module", params=["0", "1"], ids=["worker-in-process", "worker-process"])
def counted(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, httpx.Client, Receiver]]:
    data_dir = tmp_path_factory.mktemp("statements")
    with deployment(data_dir) as deployed, Receiver() as receiver:
        server = deployed.server(TELROUTE_SIMULATOR_RECEIPT_DELAY="0.05", TELROUTE_WORKER_PROCESS=request.param)
        server.start()
        keys = deployed.new_account("counted", sms_per_second=10_000, mms_per_second=10_000)
        try:
            with server.client(keys) as client:
                yield server, client, receiver
        finally:
            server.terminate()


def level_2_callbacks(recorded: list[Recorded]) -> int:
    return sum(1 for item in recorded if item.path == "/dlr" and item.json()["data"]["attributes"]["level"] == 2)


def level_2_reached(count: int, recorded: list[Recorded]) -> bool:
    return level_2_callbacks(recorded) >= count


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
    idle_before = idle_statements_per_second(server)
    before, started = statements(server), time.monotonic()
    ids = set()
    for sent in range(1, MESSAGES + 1):  # one at a time: no count shared with another message's
        ids.add(sent_id(send(client, to="12065550100", from_=number, body="counted")))
        receiver.wait_until(partial(level_2_reached, sent), timeout=30)
    spent, elapsed = statements(server) - before, time.monotonic() - started
    # The idle rate once more, after: on a loaded machine one window may catch the worker's polling slowed.
    background = max(idle_before, idle_statements_per_second(server)) * elapsed
    per_message = (spent - background) / MESSAGES
    figure = STATEMENTS_PER_MESSAGE[
        "postgres" if on_postgres() else "sqlite", server.env_extra["TELROUTE_WORKER_PROCESS"]
    ]
    print(f"{per_message:.1f} statements per delivered message ({background:.0f} idle ones off)")
    assert len(ids) == MESSAGES
    assert per_message <= figure + SLACK, f"{per_message:.1f} statements per message ({background:.0f} idle ones off)"
