"""The simulator's outcome rules, which live in `carriers/simulator.py` alone."""

from __future__ import annotations

import pytest

from telroute.carriers.simulator import simulator_state


@pytest.mark.parametrize(
    ("to", "state"),
    [
        ("12065550001", "UNDELIV"),
        ("12065550002", "EXPIRED"),
        ("12065550004", None),
        ("12065550003", "DELIVRD"),  # 0003 is refused at submit by the simulator carrier itself
        ("12065550005", "DELIVRD"),
        ("12065510001", "UNDELIV"),
        ("12065500010", "DELIVRD"),
    ],
)
def test_simulator_outcome_by_last_four_digits(to: str, state: str | None) -> None:
    assert simulator_state(to) == state
