"""A small real HTTP server on 127.0.0.1 for end-to-end tests: the customer's side of callbacks
and the media host of MMS.

It records every request (method, path, query, headers, body), answers each path with configured
status codes (a sequence: the last one repeats), serves configured bytes per path, and can be slow
on purpose. It runs in a thread; use it as a context manager so its socket and threads are closed.

    with Receiver() as receiver:
        receiver.respond("/dlr", 500, 500, 200)            # two failures, then success
        receiver.serve("/cat.jpg", b"...", content_type="image/jpeg")
        receiver.serve_size("/big.bin", 400_000)
        url = receiver.url("/dlr")
        ...
        [callback] = receiver.wait_for(1, path="/dlr")
        callback.json()
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request as the receiver saw it. Header names are lower case."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    received_at: float  # time.monotonic()

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True, slots=True)
class Served:
    body: bytes
    content_type: str = "application/octet-stream"
    status: int = 200
    send_length: bool = True  # False: no Content-Length, the body ends when the connection closes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Answers:
    statuses: list[int]
    body: bytes = b""
    content_type: str = "application/json"
    served: int = 0

    def next_status(self) -> int:
        status = self.statuses[min(self.served, len(self.statuses) - 1)]
        self.served += 1
        return status


def sized_content(size: int, seed: int = 0) -> bytes:
    """`size` deterministic bytes (not all equal, so a truncated or shifted copy is noticed)."""
    pattern = bytes((seed + index * 7) % 251 for index in range(251))
    return (pattern * (size // len(pattern) + 1))[:size]


class _ThreadingServer(ThreadingMixIn, HTTPServer):
    daemon_threads = False  # joined by server_close()
    block_on_close = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # a client that went away mid-answer is not a test failure


class Receiver:
    def __init__(self, host: str = "127.0.0.1", *, default_post_status: int = 200) -> None:
        self._host = host
        self._default_post_status = default_post_status
        self._lock = threading.Condition()
        self._requests: list[Recorded] = []
        self._answers: dict[str, _Answers] = {}
        self._served: dict[str, Served] = {}
        self._delays: dict[str, float] = {}
        self._stopping = threading.Event()
        self._server: _ThreadingServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> Receiver:
        self._server = _ThreadingServer((self._host, 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="receiver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "the receiver is not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # configuration

    def respond(self, path: str, *statuses: int, body: bytes = b"", content_type: str = "application/json") -> None:
        """Answer requests to `path` (other than served GETs) with these statuses in turn; the last repeats."""
        if not statuses:
            raise ValueError("give at least one status")
        with self._lock:
            self._answers[path] = _Answers(list(statuses), body, content_type)

    def serve(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str = "application/octet-stream",
        status: int = 200,
        send_length: bool = True,
        headers: dict[str, str] | None = None,
    ) -> str:
        """Serve `body` to GET (and HEAD) requests of `path`; returns the full URL."""
        with self._lock:
            self._served[path] = Served(body, content_type, status, send_length, dict(headers or {}))
        return self.url(path)

    def serve_size(self, path: str, size: int, *, content_type: str = "application/octet-stream", seed: int = 0) -> str:
        return self.serve(path, sized_content(size, seed), content_type=content_type)

    def delay(self, path: str, seconds: float) -> None:
        """Wait this long before answering requests to `path` (cut short when the receiver stops)."""
        with self._lock:
            self._delays[path] = seconds

    # what was received

    def requests(self, path: str | None = None, method: str | None = None) -> list[Recorded]:
        with self._lock:
            return [item for item in self._requests if _matches(item, path, method)]

    def wait_for(
        self, count: int, path: str | None = None, method: str | None = "POST", timeout: float = 15.0
    ) -> list[Recorded]:
        """Block until at least `count` matching requests (POSTs unless `method` says otherwise) arrived,
        else AssertionError; return them all."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [item for item in self._requests if _matches(item, path, method)]
                remaining = deadline - time.monotonic()
                if len(found) >= count:
                    return found
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} {method or 'any'} request(s) to {path or 'any path'} "
                        f"within {timeout} s, got {len(found)}: {found!r}"
                    )
                self._lock.wait(remaining)

    def wait_until(self, predicate: Callable[[list[Recorded]], bool], timeout: float = 15.0) -> list[Recorded]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(list(self._requests)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"condition not met within {timeout} s; received {self._requests!r}")
                self._lock.wait(remaining)
            return list(self._requests)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    # serving

    def _record(self, item: Recorded) -> None:
        with self._lock:
            self._requests.append(item)
            self._lock.notify_all()

    def _plan(self, method: str, path: str) -> tuple[float, Served]:
        with self._lock:
            delay = self._delays.get(path, 0.0)
            served = self._served.get(path)
            if served is not None and method in ("GET", "HEAD"):
                return delay, served
            answers = self._answers.get(path)
            if answers is not None:
                return delay, Served(answers.body, answers.content_type, answers.next_status())
            if method in ("GET", "HEAD"):
                return delay, Served(b'{"error": "not found"}', "application/json", 404)
            return delay, Served(b"", "application/json", self._default_post_status)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: no idle keep-alive threads
            timeout = 10.0

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                body = self._read_body()
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver._record(Recorded(self.command, parts.path, parts.query, headers, body, time.monotonic()))
                delay, answer = receiver._plan(self.command, parts.path)
                if delay and receiver._stopping.wait(delay):
                    return
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", answer.content_type)
                    if answer.send_length:
                        self.send_header("Content-Length", str(len(answer.body)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    return

            def _read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks: list[bytes] = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler


def _matches(item: Recorded, path: str | None, method: str | None) -> bool:
    return (path is None or item.path == path) and (method is None or item.method == method)
