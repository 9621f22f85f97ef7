"""One process: the HTTP API, the worker, or both, sharing one event loop and one Deps."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator

import structlog
import uvicorn

from telroute.app import create_app
from telroute.bootstrap import Deps, build
from telroute.config import Settings
from telroute.kit.logging import configure as configure_logging
from telroute.runtime import Runtime

log = structlog.get_logger("telroute.server")


class _HttpServer(uvicorn.Server):
    """uvicorn without its own signal handling: this process shuts down in one place."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _install_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)


async def _serve_http(deps: Deps, stop: asyncio.Event, announce: Callable[[str], None]) -> None:
    settings = deps.settings
    config = uvicorn.Config(
        create_app(deps),
        host=settings.host,
        port=settings.port,
        lifespan="off",
        log_level="warning",
        access_log=False,
        http="httptools",
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
        raise SystemExit(f"telroute could not listen on {settings.host}:{settings.port} (is the port in use?)")
    announce(f"telroute listening on http://{settings.host}:{settings.port}")
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
) -> None:
    configure_logging(settings.log_format, settings.log_level)
    deps = await build(settings)
    stop = asyncio.Event()
    _install_signals(stop)
    runtime = Runtime(deps)
    # On SIGTERM the HTTP side and the worker drain at the same time, so that together they fit in 10 s.
    stopping = asyncio.create_task(_stop_when(stop, runtime))
    try:
        if before_serving is not None:
            result = before_serving(deps)
            if asyncio.iscoroutine(result):
                await result
        await runtime.start(worker=worker)
        if http:
            await _serve_http(deps, stop, announce)
        else:
            announce("telroute worker running")
            await stop.wait()
    finally:
        stop.set()
        await stopping
        await deps.close()


async def _stop_when(stop: asyncio.Event, runtime: Runtime) -> None:
    await stop.wait()
    await runtime.stop()
