"""The throttle of a warning that can fire thousands of times a second."""

from __future__ import annotations

from telroute.kit.throttle import Throttle


def test_the_first_occurrence_is_reported_at_once() -> None:
    assert Throttle(60).occurred(now=100.0) == 1


def test_occurrences_within_the_interval_are_counted_quietly_and_reported_with_the_next_line() -> None:
    throttle = Throttle(60)
    throttle.occurred(now=100.0)
    assert [throttle.occurred(now=100.0 + second) for second in range(1, 60)] == [None] * 59
    assert throttle.occurred(now=160.0) == 60


def test_after_a_report_the_count_starts_again() -> None:
    throttle = Throttle(10)
    throttle.occurred(now=0.0)
    throttle.occurred(now=5.0)
    assert throttle.occurred(now=10.0) == 2
    assert throttle.occurred(now=25.0) == 1
