"""`telroute serve` with its worker in a child process (`--worker-process`, the default on two cores or more):
messages go end to end through the child, the parent's `/metrics` includes the child's counters, a child
that dies is started again and takes the work up, and the child never outlives its parent: it stops with a
SIGTERM of the parent and by itself when the parent is killed; a child whose port was taken before it bound
it starts on another. With `--worker-in-process` there is no child."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest

from telroute import worker_process
from telroute.config import settings_from_env
from tests.e2e.test_metrics import scrape_url, value
from tests.support.isolated import Deployment, deployment, eventually
from tests.support.messaging import buy_number, send, sent_id
from tests.support.receiver import Receiver, Recorded
from tests.support.server import Server, children


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


# The child's life (its start, restarts, end, port) does not depend on the database: run once.
ONE_DATABASE = pytest.mark.one_database


def pid_of(server: Server) -> int:
    assert server.process is not None
    return server.process.pid


def worker_of(server: Server) -> int:
    [child] = eventually(partial(children, pid_of(server)), what="the worker process")
    assert "worker" in Path(f"/proc/{child}/cmdline").read_text()
    return child


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[Deployment]:
    with deployment(tmp_path) as found:
        yield found


def deliver_one(server: Server, deployed: Deployment, receiver: Receiver, name: str) -> None:
    """A message from a new account's new number, through to its level-2 DLR callback."""
    keys = deployed.new_account(name)
    with server.client(keys) as client:
        number = buy_number(client)
        callback = {"callback_url": receiver.url(f"/{name}")}
        assert client.put("/v2.1/messages/sms_dlr_callback", json=callback).status_code == 204
        sent_id(send(client, to="12065550100", from_=number, body=name))
    receiver.wait_until(partial(level_2_at, f"/{name}"))


def level_2_at(path: str, recorded: list[Recorded]) -> bool:
    return any(item.path == path and item.json()["data"]["attributes"]["level"] == 2 for item in recorded)


def test_messages_go_through_the_child_and_its_counters_are_in_the_parents_metrics(deployed: Deployment) -> None:
    server = deployed.server("--worker-process", TELROUTE_SIMULATOR_RECEIPT_DELAY="0.05").start()
    try:
        worker_of(server)
        with Receiver() as receiver:
            deliver_one(server, deployed, receiver, "through")
        samples, _ = scrape_url(server.url)
        # Counted in the child alone (the parent runs no deliveries): served by the parent.
        assert value(samples, "telroute_deliveries_total", carrier="simulator", status="submitted") == 1
        assert value(samples, "telroute_receipts_total", level="2", status="delivered") == 1
    finally:
        assert server.terminate() == 0


@ONE_DATABASE
def test_a_killed_child_is_started_again_and_takes_the_work_up(deployed: Deployment) -> None:
    server = deployed.server("--worker-process", TELROUTE_SIMULATOR_RECEIPT_DELAY="0.05").start()
    try:
        first = worker_of(server)
        os.kill(first, signal.SIGKILL)
        eventually(lambda: [pid for pid in children(pid_of(server)) if pid != first], what="a new worker")
        eventually(lambda: "worker process exited; starting it again" in server.output(), what="the restart logged")
        with Receiver() as receiver:
            deliver_one(server, deployed, receiver, "after")
    finally:
        assert server.terminate() == 0


@ONE_DATABASE
def test_the_child_stops_with_the_parent_however_it_ends(deployed: Deployment) -> None:
    stopped = deployed.server("--worker-process").start()
    child = worker_of(stopped)
    assert stopped.terminate() == 0
    assert not alive(child)
    killed = deployed.server("--worker-process").start()
    child = worker_of(killed)
    killed.kill()  # SIGKILL: the child's stdin ends, and it drains and exits by itself
    eventually(lambda: not alive(child), timeout=15, what="the child gone after its parent was killed")


@ONE_DATABASE
def test_in_process_there_is_no_child(deployed: Deployment) -> None:
    server = deployed.server("--worker-in-process").start()
    try:
        time.sleep(0.5)
        assert children(pid_of(server)) == []
        with Receiver() as receiver:
            deliver_one(server, deployed, receiver, "inside")
    finally:
        assert server.terminate() == 0


@ONE_DATABASE
def test_the_child_answers_only_on_loopback(deployed: Deployment) -> None:
    server = deployed.server("--worker-process").start()
    try:
        child = worker_of(server)
        command = Path(f"/proc/{child}/cmdline").read_text().split("\0")
        host, port = command[command.index("--host") + 1], command[command.index("--port") + 1]
        assert host == "127.0.0.1"
        assert httpx.get(f"http://{host}:{port}/healthz", timeout=5).status_code == 200
    finally:
        assert server.terminate() == 0


@ONE_DATABASE
def test_by_default_the_worker_runs_apart_where_there_are_two_cores(deployed: Deployment) -> None:
    server = deployed.server(TELROUTE_WORKER_PROCESS="").start()  # neither asked for: the default
    try:
        if len(os.sched_getaffinity(0)) >= 2:
            worker_of(server)
        else:
            time.sleep(0.5)
            assert children(pid_of(server)) == []
    finally:
        assert server.terminate() == 0


@ONE_DATABASE
async def test_a_child_whose_port_was_taken_meanwhile_is_started_on_another(
    deployed: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The port is chosen free, then given to the child: another process may take it in between."""
    deployed.cli("init", "--profile", "sandbox")  # as `serve` does before it starts its child
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        first_choice = [int(taken.getsockname()[1])]
        choose = worker_process._free_port
        monkeypatch.setattr(
            worker_process, "_free_port", lambda host: first_choice.pop() if first_choice else choose(host)
        )
        child = worker_process.WorkerProcess(settings_from_env(deployed.env()))
        await child.start()
        try:
            assert child.pid is not None and alive(child.pid)
            assert not first_choice  # the taken port was tried first
            exposition = await child.metrics()
            assert exposition is not None and "telroute_jobs_queue_depth" in exposition
        finally:
            await child.stop()
        assert child.pid is not None and not alive(child.pid)
