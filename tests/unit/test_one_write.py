"""A response's head and body in one write (`edge/one_write.py`): what is written in one event-loop turn
reaches the socket's transport as one write at the end of that turn; a close or half-close writes what is
held first; an abort drops it."""

from __future__ import annotations

import asyncio
from typing import Any

from telroute.edge.one_write import OneWriteTransport


class Recording(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, Any]] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.calls.append(("write", bytes(data)))

    def write_eof(self) -> None:
        self.calls.append(("write_eof", None))

    def close(self) -> None:
        self.closing = True
        self.calls.append(("close", None))

    def abort(self) -> None:
        self.closing = True
        self.calls.append(("abort", None))

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0


async def next_turn() -> None:
    await asyncio.sleep(0)


async def test_the_writes_of_one_turn_are_one_write_at_its_end() -> None:
    socket = Recording()
    transport = OneWriteTransport(socket, asyncio.get_running_loop())
    transport.write(b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n")
    transport.write(b"{}")
    assert socket.calls == []
    assert transport.get_write_buffer_size() == 46
    await next_turn()
    assert socket.calls == [("write", b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}")]
    transport.write(b"later")
    await next_turn()
    assert socket.calls[-1] == ("write", b"later")


async def test_a_close_or_half_close_writes_what_is_held_first_and_an_abort_drops_it() -> None:
    socket = Recording()
    transport = OneWriteTransport(socket, asyncio.get_running_loop())
    transport.write(b"head")
    transport.write_eof()
    assert socket.calls == [("write", b"head"), ("write_eof", None)]
    transport.write(b"body")
    transport.close()
    assert socket.calls[-2:] == [("write", b"body"), ("close", None)]
    await next_turn()  # nothing more is written once closed
    assert socket.calls[-1] == ("close", None)
    dropped = Recording()
    aborting = OneWriteTransport(dropped, asyncio.get_running_loop())
    aborting.write(b"never")
    aborting.abort()
    await next_turn()
    assert dropped.calls == [("abort", None)]


async def test_everything_else_is_the_transports() -> None:
    socket = Recording()
    transport = OneWriteTransport(socket, asyncio.get_running_loop())
    assert transport.is_closing() is False
    socket.closing = True
    assert transport.is_closing() is True
