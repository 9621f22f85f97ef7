"""Where log lines go: a stream, written once per turn of the event loop.

Under load a serving process logs several lines a message (accepted, submitted, status, one a callback).
Written one by one to a pipe or a journal, each cost a system call and often a wake-up of the reader: about
a twentieth of a message's CPU in a profile of `telroute serve`. Lines logged while an event loop runs are
kept for the rest of that turn and written together at the start of the next one, in the order they were
logged. Outside an event loop (the CLI, start-up) a line is written at once.

A process killed outright loses at most the lines of its last turn; one that ends normally writes the rest
(`flush`, which the serving processes call as their loop ends, and at exit).
"""

from __future__ import annotations

import asyncio
import atexit
import threading
import weakref
from typing import Any, Protocol

_writers: weakref.WeakSet[TurnWriter] = weakref.WeakSet()


class Stream(Protocol):
    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class TurnWriter:
    """A structlog logger (see `kit/logging.py`): every level's lines go to `stream`."""

    def __init__(self, stream: Stream) -> None:
        self._stream = stream
        self._pending: dict[asyncio.AbstractEventLoop, list[str]] = {}  # a loop's list is touched by its thread
        self._lock = threading.Lock()  # whole writes, when several threads run loops (the tests' servers)
        _writers.add(self)

    def __call__(self, *args: Any) -> TurnWriter:
        """structlog's logger factory: one writer for every logger."""
        return self

    def msg(self, message: str) -> None:
        loop = _running_loop()
        if loop is None:
            self._write(message + "\n")
            return
        lines = self._pending.get(loop)
        if lines is None:
            if self._pending:
                self._flush_closed()
            self._pending[loop] = [message]
            loop.call_soon(self.flush, loop)
        else:
            lines.append(message)

    log = debug = info = warn = warning = err = error = critical = exception = failure = fatal = msg

    def flush(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Write the lines waiting for the end of `loop`'s turn (every loop's, when None)."""
        for waiting in [loop] if loop is not None else list(self._pending):
            lines = self._pending.pop(waiting, None)
            if lines:
                self._write("\n".join(lines) + "\n")

    def _flush_closed(self) -> None:
        """Lines of a loop closed before its next turn came go before those of a loop started after it."""
        for waiting in list(self._pending):
            if waiting.is_closed():
                self.flush(waiting)

    def _write(self, text: str) -> None:
        with self._lock:
            self._stream.write(text)
            self._stream.flush()


def flush() -> None:
    """Write what waits: the running loop's lines, or, with no loop running (at exit), every loop's."""
    loop = _running_loop()
    for writer in list(_writers):
        writer.flush(loop)


atexit.register(flush)
