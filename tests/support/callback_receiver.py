"""A customer's callback endpoint under load, for the crash tests: hundreds of concurrent POSTs.

`tests/support/receiver.py` is the general receiver (media, scripted status sequences). This one
exists for volume: its listen backlog is deep (the stdlib default of 5 drops connection attempts
under a burst of callbacks, and a dropped SYN costs the sender a 1-3 s retransmit, enough to hit
its timeout after the request was in fact received), and it answers every POST to a path with a
status and an optional delay that can be changed while requests are in flight.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlsplit

from tests.support.receiver import Recorded


class _Server(ThreadingMixIn, HTTPServer):
    request_queue_size = 1024
    daemon_threads = False  # joined by server_close()
    block_on_close = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # the sender died mid-request (the point of the crash tests)


class CallbackReceiver:
    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._requests: list[Recorded] = []
        self._behaviour: dict[str, tuple[int, float]] = {}
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="callback-receiver"
        )

    def __enter__(self) -> CallbackReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()  # held answers return at once
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def answer(self, path: str, status: int = 200, *, delay: float = 0.0) -> None:
        """From now on, answer POSTs to `path` with `status` after `delay` seconds (default: 200 at once).
        Requests already waiting keep the delay they started with."""
        with self._lock:
            self._behaviour[path] = (status, delay)

    def requests(self, path: str | None = None) -> list[Recorded]:
        with self._lock:
            return [item for item in self._requests if path is None or item.path == path]

    def wait_until(self, predicate: Callable[[list[Recorded]], bool], *, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self._requests):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"not within {timeout} s: {what} ({len(self._requests)} requests received)")
                self._lock.wait(remaining)

    def _record(self, item: Recorded) -> tuple[int, float]:
        with self._lock:
            self._requests.append(item)
            self._lock.notify_all()
            return self._behaviour.get(item.path, (200, 0.0))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: no idle threads to join
            timeout = 10.0

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                parts = urlsplit(self.path)
                status, delay = receiver._record(
                    Recorded("POST", parts.path, parts.query, headers, body, time.monotonic())
                )
                if delay and receiver._stopping.wait(delay):
                    return
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler
