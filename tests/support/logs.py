"""The logs of in-process servers, each in a file of its own as a real server's output would be.

structlog's configuration is process-wide: it is set once (telroute's own, as `telroute serve` sets it) with
a stream that copies every line to the file of each in-process server running at the time, and lines not
logged by a server's thread to the test's stderr as before (a server's lines there would appear between
tests). With two servers running at once, each file holds both servers' lines. Warnings and errors of the
standard `logging` module (uvicorn's) go to those files too."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import IO

from telroute.kit.logging import configure

_lock = threading.Lock()
_sinks: list[IO[str]] = []
_configured = False
SERVER_THREAD = "telroute-server"  # the prefix of the names of in-process servers' threads


class _Copies:
    """A text stream writing to the open sinks and, with `echo`, to whatever `sys.stderr` is then unless
    written from a server's thread."""

    def __init__(self, *, echo: bool) -> None:
        self.echo = echo

    def write(self, text: str) -> int:
        with _lock:
            for sink in _sinks:
                sink.write(text)
                sink.flush()
        if self.echo and not threading.current_thread().name.startswith(SERVER_THREAD):
            sys.stderr.write(text)
        return len(text)

    def flush(self) -> None:
        if self.echo:
            sys.stderr.flush()


def _configure_once() -> None:
    global _configured
    with _lock:
        if _configured:
            return
        with contextlib.redirect_stderr(_Copies(echo=True)):
            configure("console", "info")
        handler = logging.StreamHandler(_Copies(echo=False))
        handler.setLevel(logging.WARNING)
        logging.getLogger().addHandler(handler)
        _configured = True


class LogSink:
    """While entered, every log line of this process is also written to `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def __enter__(self) -> LogSink:
        _configure_once()
        self._file = self.path.open("a")
        with _lock:
            _sinks.append(self._file)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        assert self._file is not None
        with _lock:
            _sinks.remove(self._file)
        self._file.close()
