"""The connections of one listening port that wait for a request, longest-waiting first.

At the connection cap the longest-waiting one (a client that sends nothing or trickles its head, or an idle
kept-alive connection) is closed to admit the new connection: clients that send their request promptly,
such as a load balancer's health check, are still served through a flood of connections that never finish
a request. Only when every connection is inside a request is a new one refused.
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class WaitingConnections(Generic[T]):
    def __init__(self) -> None:
        self._in_order: dict[T, None] = {}  # dicts keep insertion order: the first key waited longest

    def waits(self, connection: T) -> None:
        """`connection` starts waiting for a request (it opened, or answered its last one)."""
        self._in_order.pop(connection, None)
        self._in_order[connection] = None

    def done(self, connection: T) -> None:
        """`connection` has a request to serve, or is closing."""
        self._in_order.pop(connection, None)

    def longest_waiting(self) -> T | None:
        return next(iter(self._in_order), None)

    def __len__(self) -> int:
        return len(self._in_order)
