"""kit/random_ids.py: 32 lower-case hex digits, a new value each time; the time-ordered ones sort by the
millisecond they were made in."""

from __future__ import annotations

import re
import time

import pytest

from telroute.kit.random_ids import random_hex, time_ordered_hex
from telroute.messages.model import is_message_id, new_message_id


@pytest.mark.parametrize("make", [random_hex, time_ordered_hex])
def test_an_id_is_32_hex_digits_and_never_repeats(make: object) -> None:
    ids = [make() for _ in range(10_000)]  # type: ignore[operator]
    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in ids)
    assert len(set(ids)) == len(ids)


def test_a_time_ordered_id_sorts_after_those_of_earlier_milliseconds() -> None:
    made = []
    for _ in range(5):
        made.append(time_ordered_hex())
        time.sleep(0.002)
    assert made == sorted(made)
    assert int(made[0][:12], 16) == pytest.approx(time.time() * 1000, abs=5_000)


def test_ids_of_one_millisecond_differ_in_80_random_bits() -> None:
    now = time.time_ns()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "time_ns", lambda: now)
        ids = [time_ordered_hex() for _ in range(1_000)]
    assert len({value[:12] for value in ids}) == 1
    assert len({value[12:] for value in ids}) == 1_000


def test_message_ids_are_time_ordered_and_ones_telroute_recognizes() -> None:
    made = []
    for _ in range(5):
        made.append(new_message_id())
        time.sleep(0.002)
    assert all(is_message_id(value) for value in made)
    assert made == sorted(made)
