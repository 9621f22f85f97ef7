"""A steady stream of SMS sends from a few concurrent clients, in the background, that keeps account of every
answer: the ids that got a 202, how many 503s (each checked to be a JSON:API error), anything else, and the
slowest answer, so that a test can break the database under it and see what the customers saw."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from tests.support import loopback

Keys = tuple[str, str]
NO_ANSWER = -1  # the request got no HTTP answer (refused, reset, timed out)
ANSWER_TIMEOUT = 15.0  # the bound on any answer: a hang beyond it is a failure, not a slow success


@dataclass
class SendLoad:
    base_url: str
    keys: Keys
    sender: str
    clients: int = 4
    pause: float = 0.1  # between one client's sends, so that a run stays under the listing's 1000 MDRs
    max_sends: int = 900
    accepted: dict[str, str] = field(default_factory=dict)  # message id -> to
    answers: Counter[int] = field(default_factory=Counter)  # status code (NO_ANSWER) -> count
    unexpected: list[str] = field(default_factory=list)  # answers that are neither a 202 nor a JSON:API 503
    slowest: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _numbers: itertools.count[int] = field(default_factory=itertools.count)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> SendLoad:
        self._threads = [threading.Thread(target=self._client, name=f"send-{n}") for n in range(self.clients)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=ANSWER_TIMEOUT + 5)

    def count(self, status: int) -> int:
        with self._lock:
            return len(self.accepted) if status == 202 else self.answers[status]

    def summary(self) -> str:
        with self._lock:
            return f"answers {dict(self.answers)}, slowest {self.slowest:.2f} s, unexpected {self.unexpected[:3]}"

    def _client(self) -> None:
        with loopback.client(base_url=self.base_url, auth=self.keys, timeout=ANSWER_TIMEOUT) as client:
            while not self._stop.is_set():
                index = next(self._numbers)
                if index >= self.max_sends:
                    return
                self._send(client, f"1206555{2000 + index:04d}")  # 0001-0004 are the simulator's failures
                self._stop.wait(self.pause)

    def _send(self, client: httpx.Client, to: str) -> None:
        started = time.monotonic()
        try:
            response: httpx.Response | None = client.post(
                "/v2.1/messages", json={"from": self.sender, "to": to, "body": f"load {to}"}
            )
        except httpx.TransportError:
            response = None
        took = time.monotonic() - started
        with self._lock:
            self.slowest = max(self.slowest, took)
            status = NO_ANSWER if response is None else response.status_code
            self.answers[status] += 1
            if response is not None and status == 202:
                self.accepted[response.json()["data"]["id"]] = to
            elif response is None or not _is_jsonapi_503(response):
                self.unexpected.append(f"{status}: {'' if response is None else response.text[:300]}")


def _is_jsonapi_503(response: httpx.Response) -> bool:
    if response.status_code != 503 or not response.headers.get("content-type", "").startswith(
        "application/vnd.api+json"
    ):
        return False
    errors = response.json().get("errors") or [{}]
    return bool(errors[0].get("status") == 503 and errors[0].get("title") == "Server Error")
