"""The failed-login throttle (see `accounts/auth.py`): one per process, built with its Deps."""

from __future__ import annotations

import time
from collections.abc import Callable

FAILURE_BURST = 10
FAILURES_PER_SECOND = 1.0
MAX_CLIENTS = 100_000


class FailedLogins:
    """GCRA per client: each failure moves the client's theoretical arrival time (`tat`) one interval
    forward; a failure is refused (429) while `tat - now` exceeds the burst's tolerance."""

    def __init__(
        self,
        *,
        burst: int = FAILURE_BURST,
        per_second: float = FAILURES_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self._interval = 1.0 / per_second
        self._tolerance = self._interval * (burst - 1)
        self._clock = clock
        self._max_clients = max_clients
        self._tat: dict[str, float] = {}

    def failed(self, client: str) -> float | None:
        """Record one failure of `client`. None while within the budget (answer 401); otherwise the
        seconds until the next failure would be allowed (answer 429; the refused one is not counted)."""
        now = self._clock()
        tat = max(self._tat.get(client, now), now)
        wait = tat - self._tolerance - now
        if wait > 0:
            return wait
        self._tat[client] = tat + self._interval
        if len(self._tat) > self._max_clients:
            self._forget(now)
        return None

    def _forget(self, now: float) -> None:
        """Drop clients whose budget is whole again; if still too many, the least recently failing."""
        self._tat = {client: tat for client, tat in self._tat.items() if tat > now}
        excess = len(self._tat) - self._max_clients
        if excess > 0:
            for client in sorted(self._tat, key=self._tat.__getitem__)[:excess]:
                del self._tat[client]

    def __len__(self) -> int:
        return len(self._tat)
