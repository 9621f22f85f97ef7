"""`GET /console/api/stream`: Server-Sent Events telling one account's consoles that its messages
changed. The event carries only a marker; the page then re-reads what it shows through the JSON
endpoints, so the stream holds no message data and needs no access checks of its own beyond the
session. A stream ends after `LIFETIME_SECONDS` (the browser reconnects at once), and at once when
the process begins to stop (`stopping`), so that a server shutting down never waits for an open
console to go away."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.responses import StreamingResponse

from telroute.console.notifier import Notifier

LIFETIME_SECONDS = 25.0
PING_SECONDS = 10.0


async def _events(notifier: Notifier, account_id: int, stopping: asyncio.Event) -> AsyncIterator[bytes]:
    yield b"retry: 500\n\n"
    loop = asyncio.get_running_loop()
    ends = loop.time() + LIFETIME_SECONDS
    stopped: asyncio.Future[bool] = asyncio.ensure_future(stopping.wait())
    try:
        async with notifier.watch(account_id) as watch:
            stopped.add_done_callback(lambda _: watch.wake())
            while not stopped.done() and (left := ends - loop.time()) > 0:
                marker = await watch.next(min(PING_SECONDS, left))
                if marker is not None:
                    yield f"event: change\ndata: [{marker[0]}, {marker[1]}]\n\n".encode()
                elif not stopped.done():
                    yield b": ping\n\n"
    finally:
        stopped.cancel()


def events(notifier: Notifier, account_id: int, stopping: asyncio.Event) -> StreamingResponse:
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    body = _events(notifier, account_id, stopping)
    return StreamingResponse(body, media_type="text/event-stream", headers=headers)
