"""One process: the HTTP API, the worker, or both, sharing one event loop and one Deps. A worker-only
process listens only when given a port, for its health and metrics."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Callable, Iterator

import structlog
import uvicorn
from starlette.types import ASGIApp

from telroute.app import create_app, create_ops_app
from telroute.bootstrap import Deps, SettingsHook, build, log_policy
from telroute.config import Profile, Settings
from telroute.edge.limits import EdgeLimits
from telroute.edge.open_files import make_room_for
from telroute.edge.protocol import protocol_for
from telroute.kit import collector, log_writer
from telroute.kit.logging import configure as configure_logging
from telroute.runtime import Runtime
from telroute.worker_process import WorkerProcess, apart, follow_parent

log = structlog.get_logger("telroute.server")


class _HttpServer(uvicorn.Server):
    """uvicorn without its own signal handling: this process shuts down in one place."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn calls sys.exit() when it cannot listen, and a SystemExit raised in a task escapes the
        # event loop past every `finally`: make it an error that `_serve_http` reports and shuts down on.
        try:
            await super().startup(sockets)
        except SystemExit as exc:
            raise OSError(f"the HTTP server did not start (exit code {exc.code})") from exc


def _install_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)


async def _serve_http(
    app: ASGIApp, settings: Settings, host: str, port: int, stop: asyncio.Event, announce: Callable[[], None]
) -> None:
    """Serve `app` with the edge limits of `settings` (announcing it once listening) until `stop` is set or
    the server fails; then drain and set `stop`."""
    make_room_for(settings.http_max_connections)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="off",
        log_level="warning",
        access_log=False,
        http=protocol_for(EdgeLimits.from_settings(settings)),
        ws="none",  # telroute serves no WebSocket: an upgrade request is an ordinary request, whatever is installed
        # uvicorn annotates an int, but only passes it to loop.call_later, which takes seconds as a float.
        timeout_keep_alive=settings.http_keep_alive_timeout,  # type: ignore[arg-type]
        timeout_graceful_shutdown=8,
        server_header=False,
    )
    server = _HttpServer(config)
    serving = asyncio.create_task(server.serve())
    while not server.started and not serving.done():
        await asyncio.sleep(0.01)
    if not server.started:
        with contextlib.suppress(BaseException):
            await serving
        raise SystemExit(f"telroute could not listen on {host}:{port} (is the port in use?)")
    announce()
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopping.cancel()
    await serving
    stop.set()


async def run(
    settings: Settings,
    *,
    http: bool,
    worker: bool,
    announce: Callable[[str], None] = print,
    before_serving: Callable[[Deps], object] | None = None,
    creates: Profile | None = None,
    complete_settings: SettingsHook | None = None,
    parent: bool = False,
) -> None:
    """Run until SIGTERM/SIGINT. `creates`: the profile to store when the deployment has none yet
    (a process without it refuses to start on such a deployment). `complete_settings`: see `build`. With
    `http` and `worker`, the worker runs in a child process where `worker_process.apart` says so. `parent`:
    this is that child, woken and stopped through its stdin."""
    configure_logging(settings.log_format, settings.log_level)
    deps = await build(settings, creates=creates, requires_profile=True, complete=complete_settings)
    log_policy(deps.settings, "serve" if http else "worker")
    stop = deps.stopping
    _install_signals(stop)
    runtime = Runtime(deps)
    child = WorkerProcess(deps.settings) if http and worker and apart(deps.settings) else None
    # On SIGTERM the HTTP side and the worker drain at the same time, so that together they fit in 10 s.
    stopping = asyncio.create_task(_stop_when(stop, runtime, child))
    following = asyncio.create_task(follow_parent(deps.wakeup, stop)) if parent else None
    try:
        if before_serving is not None:
            result = before_serving(deps)
            if asyncio.iscoroutine(result):
                await result
        await runtime.start(worker=worker and child is None)
        if child is not None:
            await child.start()
            deps.wakeup.also(child.wake)
            deps.metrics_relay.fetch = child.metrics
        collector.settle()
        await _serve(deps, stop, _after_the_logs(announce), http=http)
    finally:
        stop.set()
        await stopping
        if following is not None:
            following.cancel()
        await deps.close()
        log_writer.flush()


def _after_the_logs(announce: Callable[[str], None]) -> Callable[[str], None]:
    """The announcement follows the start-up's log lines (the deployment's policy first), which wait for
    the end of the event loop's turn."""

    def announced(message: str) -> None:
        log_writer.flush()
        announce(message)

    return announced


async def _serve(deps: Deps, stop: asyncio.Event, announce: Callable[[str], None], *, http: bool) -> None:
    """The API, a worker's health and metrics port, or nothing at all: wait for `stop`."""
    settings = deps.settings
    if http:
        host, port = settings.host, settings.port
        message = f"telroute listening on http://{host}:{port}"
        await _serve_http(create_app(deps), settings, host, port, stop, lambda: announce(message))
    elif settings.worker_port is not None:
        host, port = settings.worker_host, settings.worker_port
        message = f"telroute worker running; health and metrics on http://{host}:{port}"
        await _serve_http(create_ops_app(deps), settings, host, port, stop, lambda: announce(message))
    else:
        announce("telroute worker running")
        await stop.wait()


async def _stop_when(stop: asyncio.Event, runtime: Runtime, child: WorkerProcess | None) -> None:
    await stop.wait()
    await asyncio.gather(runtime.stop(), *([child.stop()] if child is not None else []))
