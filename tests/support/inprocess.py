"""`telroute serve` inside the test process: the same app, edge protocol, sandbox seeding and worker as the
real command, served by uvicorn on a free port from an event loop of its own in a background thread.

For tests of the API itself (contract, validation, isolation, errors): a real socket and real HTTP, without a
second interpreter to start. Tests of the process (signals, crashes, several processes, the CLI) keep
`tests.support.server.Server`.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

import uvloop

from telroute import bootstrap, sandbox
from telroute.app import create_app
from telroute.config import Settings, settings_from_env
from telroute.kit import log_writer
from telroute.runtime import Runtime
from telroute.server import _serve_http  # the very serving code of `telroute serve`, edge limits included
from tests.support.logs import SERVER_THREAD, LogSink
from tests.support.server import Server, base_env, free_port

START_TIMEOUT = 90.0
_PORT_TRIES = 3  # a free port taken by another process between its choice and the bind: another port


class _PortTaken(Exception):
    pass


@dataclass
class InProcessServer(Server):
    """A `Server` (`.url`, `.port`, `.data_dir`, `.client()`, `.demo_keys()`, `.output()`, `.start()`,
    `.terminate()`) without a process: `args` are not taken, `kill` is not possible."""

    worker: bool = True
    _loop: asyncio.AbstractEventLoop | None = None
    _stop: asyncio.Event | None = None
    _thread: threading.Thread | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _failure: BaseException | None = None

    def settings(self) -> Settings:
        return settings_from_env(base_env(self.data_dir, **self.env_extra)).with_overrides(port=self.port)

    def start(self, *, timeout: float = START_TIMEOUT) -> InProcessServer:
        assert not self.args, "an in-process server takes settings (env_extra), not command-line arguments"
        for _ in range(_PORT_TRIES - 1):
            try:
                return self._start_once(timeout)
            except _PortTaken:
                self.port = free_port()
                self._ready, self._failure = threading.Event(), None
        return self._start_once(timeout)

    def _start_once(self, timeout: float) -> InProcessServer:
        settings = self.settings()
        bootstrap.prepare_database(settings)  # before the loop: Alembic runs its own on PostgreSQL
        self.log_path = self.data_dir / f"server-{self.port}.log"
        name = f"{SERVER_THREAD}-{self.port}"
        self._thread = threading.Thread(target=self._run, args=(settings,), name=name, daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or self._failure is not None:
            if isinstance(self._failure, SystemExit) and "could not listen" in str(self._failure):
                self._thread.join(timeout)
                raise _PortTaken(str(self._failure))
            raise RuntimeError(f"in-process server did not start: {self._failure!r}\n{self.output()}")
        return self

    def _run(self, settings: Settings) -> None:
        assert self.log_path is not None
        with LogSink(self.log_path):
            try:
                uvloop.run(self._serve(settings))
            except BaseException as exc:  # reported by start() or terminate()
                self._failure = exc
            finally:
                self._ready.set()

    async def _serve(self, settings: Settings) -> None:
        self._loop = asyncio.get_running_loop()
        deps = await bootstrap.build(
            settings,
            creates=settings.requested_profile or "sandbox",
            requires_profile=True,
            complete=sandbox.with_admin_token,
        )
        self._stop = stop = deps.stopping
        runtime = Runtime(deps)
        try:
            await sandbox.prepare(deps)
            await runtime.start(worker=self.worker)
            await _serve_http(create_app(deps), deps.settings, "127.0.0.1", self.port, stop, self._ready.set)
        finally:
            await runtime.stop()
            await deps.close()
            log_writer.flush()

    def terminate(self, timeout: float = 15.0) -> int:
        """Stop serving and the worker; 0 when it stopped cleanly (the exit code `Server.terminate` gives)."""
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise RuntimeError(f"in-process server still running {timeout} s after being told to stop")
        return 0 if self._failure is None else 1

    def output(self) -> str:
        return self.log_path.read_text() if self.log_path and self.log_path.exists() else ""

    def kill(self) -> None:
        raise NotImplementedError("an in-process server cannot be killed: use Server for that")
