"""Signing in to the console over plain HTTP (no browser), and reading its live stream's events."""

from __future__ import annotations

import queue
import re
import threading
import time

import httpx

from tests.support import loopback

ENDED = "(the stream ended)"


def signed_in(base_url: str, keys: tuple[str, str]) -> httpx.Client:
    """A client holding a console session of the account of `keys`."""
    client = loopback.client(base_url=base_url, timeout=30.0)
    page = client.get("/console")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None, page.text
    form = {"csrf": token.group(1), "access_key": keys[0], "secret_key": keys[1]}
    answer = client.post("/console/sign-in", data=form)
    assert answer.status_code == 303, answer.text
    return client


class Events:
    """The names of the stream's events, with the monotonic time each arrived, read in a thread; `ENDED`
    when the server closes the stream cleanly."""

    def __init__(self, client: httpx.Client) -> None:
        self.arrived: queue.Queue[tuple[str, float]] = queue.Queue()
        self._client = client
        self._opened = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        assert self._opened.wait(10), "the stream did not open"

    def _read(self) -> None:
        try:
            with self._client.stream("GET", "/console/api/stream", timeout=None) as stream:
                for line in stream.iter_lines():
                    self._opened.set()
                    if line.startswith("event: "):
                        self.arrived.put((line.removeprefix("event: "), time.monotonic()))
            self.arrived.put((ENDED, time.monotonic()))  # the server ended the stream cleanly
        except (httpx.HTTPError, RuntimeError):
            pass  # the test closed the client, or the connection broke: no clean end

    def next(self, timeout: float) -> tuple[str, float]:
        return self.arrived.get(timeout=timeout)

    def drain(self) -> None:
        while not self.arrived.empty():
            self.arrived.get_nowait()
