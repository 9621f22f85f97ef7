"""`telroute serve`'s worker in a child process of its own, so that the API and the worker use two cores.

The child is `telroute worker` on the same database and settings, with its health and metrics on a loopback
port of its own (chosen free at each start, and another when a child exits while starting: the port may have
been taken in between). The parent:
- wakes it after each job the API writes, over the child's stdin (one byte per event-loop turn at most), so
  that a send is taken at once, not at the worker's next idle poll;
- serves the child's metrics inside its own `/metrics` (`kit/exposition_merge.py`): one scrape target;
- starts it again when it exits while the parent runs (after 1 s, then twice as long each time, at most
  30 s), and stops it when the parent stops: the child stops when its stdin closes, which happens however
  the parent ends (SIGKILL included), so a child never outlives its parent for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
from typing import IO, Any

import httpx
import structlog

from telroute.config import Settings
from telroute.kit.wakeup import Wakeup

log = structlog.get_logger("telroute.server")

_START_TIMEOUT = 60.0  # seconds for the child to answer /healthz
_START_TRIES = 3  # a child that exits at once may have lost its port to another process: again on another
_STOP_TIMEOUT = 15.0  # the worker's own drain is 5 s; after this, SIGKILL
_FIRST_RESTART, _LONGEST_RESTART = 1.0, 30.0


def apart(settings: Settings) -> bool:
    """Whether `serve` runs its worker in a child process: as asked, else where this process may use two
    cores or more."""
    if settings.worker_process is not None:
        return settings.worker_process
    return len(os.sched_getaffinity(0)) >= 2


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def child_environment(settings: Settings) -> dict[str, str]:
    """The parent's environment with the settings its own options changed (`settings`: those in force)."""
    env = dict(os.environ)
    env.update(
        TELROUTE_DATA_DIR=str(settings.data_dir),
        TELROUTE_DATABASE_URL=settings.resolved_database_url,
        TELROUTE_PUBLIC_BASE_URL=settings.link_base,  # links in callbacks: the API's, not the child's port
        TELROUTE_PROFILE=settings.profile,  # in force: `--profile production` on a sandbox holds for the child too
        TELROUTE_LOG_FORMAT=settings.log_format,
        TELROUTE_LOG_LEVEL=settings.log_level,
        TELROUTE_ALLOW_PRIVATE_TARGETS="true" if settings.private_targets_allowed else "false",
        TELROUTE_CNAM_APPROVAL_DELAY=str(settings.cnam_approval_delay),
    )
    return env


class _ExitedWhileStarting(Exception):
    pass


class WorkerProcess:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._host = "127.0.0.1"
        self._port = 0  # chosen at each start
        self._process: asyncio.subprocess.Process | None = None
        self._wake_pending = False
        self._stopping = False
        self._watching: asyncio.Task[None] | None = None
        self._client = httpx.AsyncClient(timeout=5.0, trust_env=False)

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    async def start(self) -> None:
        """Start the child and wait until it answers; raises SystemExit when it does not."""
        await self._spawn()
        self._watching = asyncio.create_task(self._watch())

    async def _spawn(self) -> None:
        """Start a child, on a free port (another, when one that exits at once may have lost its port)."""
        for tries_left in reversed(range(_START_TRIES)):
            try:
                await self._spawn_once()
                return
            except _ExitedWhileStarting as exc:
                if not tries_left:
                    raise SystemExit(str(exc)) from exc
                log.warning("worker process exited while starting; trying another port", error=str(exc))

    async def _spawn_once(self) -> None:
        self._port = _free_port(self._host)
        command = [sys.executable, "-m", "telroute", "worker", "--host", self._host, "--port", str(self._port)]
        self._process = await asyncio.create_subprocess_exec(
            *command,
            "--wakeups-on-stdin",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,  # its announcement; its log lines go to the shared stderr
            env=child_environment(self._settings),
            start_new_session=True,  # a terminal's Ctrl-C reaches the parent alone, which stops the child
        )
        await self._until_healthy(self._process)
        log.info("worker process running", pid=self._process.pid, metrics=f"http://{self._host}:{self._port}")

    async def _until_healthy(self, process: asyncio.subprocess.Process) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise _ExitedWhileStarting(f"the worker process exited with code {process.returncode} while starting")
            with contextlib.suppress(httpx.HTTPError):
                if (await self._client.get(f"http://{self._host}:{self._port}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
        process.kill()
        raise SystemExit(f"the worker process did not answer within {_START_TIMEOUT:.0f} s")

    async def _watch(self) -> None:
        pause = _FIRST_RESTART
        while not self._stopping:
            assert self._process is not None
            code = await self._process.wait()
            if self._stopping:
                return
            log.error("worker process exited; starting it again", code=code, after_seconds=pause)
            await asyncio.sleep(pause)
            pause = min(2 * pause, _LONGEST_RESTART)
            try:
                await self._spawn()
            except (SystemExit, Exception) as exc:  # tried again after the next pause
                log.error("worker process did not start", error=str(exc))

    def wake(self) -> None:
        """A job was written: wake the child (once per event-loop turn, however many jobs)."""
        if not self._wake_pending:
            self._wake_pending = True
            asyncio.get_running_loop().call_soon(self._send_wake)

    def _send_wake(self) -> None:
        self._wake_pending = False
        process = self._process
        if process is None or process.stdin is None or process.returncode is not None:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            process.stdin.write(b"\n")

    async def metrics(self) -> str | None:
        """The child's exposition text; None when it does not answer."""
        try:
            response = await self._client.get(f"http://{self._host}:{self._port}/metrics")
        except httpx.HTTPError:
            return None
        return response.text if response.status_code == 200 else None

    async def stop(self) -> None:
        self._stopping = True
        process = self._process
        if process is not None and process.returncode is None:
            if process.stdin is not None:
                process.stdin.close()  # the child drains and exits
            try:
                await asyncio.wait_for(process.wait(), _STOP_TIMEOUT)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._watching is not None:
            self._watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watching
        await self._client.aclose()


async def follow_parent(wakeup: Wakeup, stop: asyncio.Event, stream: IO[Any] | None = None) -> None:
    """The child's side: a byte on `stream` (stdin) wakes its worker; the end of it (the parent stopped it, or
    is gone) stops the process."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stream or sys.stdin)
    while await reader.read(4096):
        wakeup.notify()
    stop.set()
