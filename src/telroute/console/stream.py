"""`GET /console/api/stream`: Server-Sent Events telling one account's consoles that its messages
changed. The event carries only a marker; the page then re-reads what it shows through the JSON
endpoints, so the stream holds no message data and needs no access checks of its own beyond the
session. A stream ends after `LIFETIME_SECONDS` (the browser reconnects at once), so that a server
shutting down never waits long for an open console."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

from starlette.responses import StreamingResponse

from telroute.console.notifier import Notifier

LIFETIME_SECONDS = 25.0
PING_SECONDS = 10.0


async def _events(notifier: Notifier, account_id: int) -> AsyncIterator[bytes]:
    yield b"retry: 500\n\n"
    loop = asyncio.get_running_loop()
    ends = loop.time() + LIFETIME_SECONDS
    async with notifier.watch(account_id) as queue:
        while (left := ends - loop.time()) > 0:
            marker = None
            with contextlib.suppress(TimeoutError):
                marker = await asyncio.wait_for(queue.get(), min(PING_SECONDS, left))
            if marker is None:
                yield b": ping\n\n"
            else:
                yield f"event: change\ndata: {json.dumps(list(marker))}\n\n".encode()


def events(notifier: Notifier, account_id: int) -> StreamingResponse:
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(_events(notifier, account_id), media_type="text/event-stream", headers=headers)
