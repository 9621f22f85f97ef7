"""Where `serve` runs its worker (`worker_process.apart`), what its child is told (`child_environment`), and how
the child follows its parent over stdin (`follow_parent`)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from telroute.config import Settings
from telroute.kit.wakeup import Wakeup
from telroute.worker_process import apart, child_environment, follow_parent


def test_asked_for_wins_else_two_cores_or_more_mean_a_child() -> None:
    assert apart(Settings(worker_process=True)) is True
    assert apart(Settings(worker_process=False)) is False
    assert apart(Settings()) is (len(os.sched_getaffinity(0)) >= 2)


def test_the_child_gets_the_settings_the_parents_options_changed() -> None:
    settings = Settings(
        data_dir=Path("/srv/telroute"),
        host="127.0.0.1",
        port=9000,
        allow_private_targets=False,
        log_format="json",
        cnam_approval_delay=2.5,
        profile="production",
    )
    env = child_environment(settings)
    assert env["TELROUTE_DATA_DIR"] == "/srv/telroute"
    assert env["TELROUTE_DATABASE_URL"] == "sqlite:////srv/telroute/telroute.db"
    assert env["TELROUTE_PUBLIC_BASE_URL"] == "http://127.0.0.1:9000"  # the API's links, not the child's port
    assert env["TELROUTE_ALLOW_PRIVATE_TARGETS"] == "false"
    assert env["TELROUTE_PROFILE"] == "production"  # the profile in force, which may be stricter than stored
    assert (env["TELROUTE_LOG_FORMAT"], env["TELROUTE_CNAM_APPROVAL_DELAY"]) == ("json", "2.5")
    behind_a_proxy = child_environment(Settings(public_base_url="https://sms.example.com/"))
    assert behind_a_proxy["TELROUTE_PUBLIC_BASE_URL"] == "https://sms.example.com"


async def test_the_child_is_woken_by_a_byte_on_its_stdin_and_stopped_by_its_end() -> None:
    read_end, write_end = os.pipe()
    wakeup, stop = Wakeup(), asyncio.Event()
    with os.fdopen(read_end, "rb", buffering=0) as stream:
        following = asyncio.create_task(follow_parent(wakeup, stop, stream))
        waiting = asyncio.create_task(wakeup.wait())
        os.write(write_end, b"\n")  # what `WorkerProcess.wake` writes
        await asyncio.wait_for(waiting, 5)
        assert not stop.is_set()
        os.close(write_end)  # the parent stopped it, or is gone
        await asyncio.wait_for(following, 5)
        assert stop.is_set()
