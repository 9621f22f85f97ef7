"""A response's head and body in one write.

uvicorn writes a response's status line and headers when the app starts the response, and its body apart,
each `transport.write` a `send` system call of its own (uvloop writes at once when nothing is queued): two
calls and often two TCP segments for every small JSON:API answer. The transport a response is written
through here keeps what is written during one event-loop turn and writes it once, at the end of that turn
(before a close or a half-close, at once). Writes of later turns are never held longer than their turn.
"""

from __future__ import annotations

import asyncio
from typing import Any


class OneWriteTransport:
    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(bytes(data))

    def writelines(self, lines: list[bytes]) -> None:
        for data in lines:
            self.write(data)

    def flush(self) -> None:
        if self._held:
            data, self._held = b"".join(self._held), []
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._held = []
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(data) for data in self._held)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
