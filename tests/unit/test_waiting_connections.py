"""Which connection makes room at the connection cap: the one that has waited longest for a request."""

from __future__ import annotations

from telroute.edge.waiting import WaitingConnections


def test_nobody_waits_at_first() -> None:
    assert WaitingConnections[str]().longest_waiting() is None


def test_the_connection_that_waited_longest_comes_first() -> None:
    waiting = WaitingConnections[str]()
    for name in ("a", "b", "c"):
        waiting.waits(name)
    assert waiting.longest_waiting() == "a"
    assert len(waiting) == 3


def test_a_connection_inside_a_request_is_not_waiting() -> None:
    waiting = WaitingConnections[str]()
    waiting.waits("a")
    waiting.waits("b")
    waiting.done("a")
    assert waiting.longest_waiting() == "b"
    waiting.done("b")
    waiting.done("b")
    assert waiting.longest_waiting() is None


def test_waiting_again_after_a_request_starts_the_wait_anew() -> None:
    waiting = WaitingConnections[str]()
    waiting.waits("a")
    waiting.waits("b")
    waiting.done("a")
    waiting.waits("a")
    assert waiting.longest_waiting() == "b"
