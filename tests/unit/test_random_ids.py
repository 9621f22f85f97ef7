"""kit/random_ids.py: 32 lower-case hex digits, a new value each time."""

from __future__ import annotations

import re

from telroute.kit.random_ids import random_hex
from telroute.messages.model import is_message_id, new_message_id


def test_a_random_id_is_32_hex_digits_and_never_repeats() -> None:
    ids = [random_hex() for _ in range(10_000)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in ids)
    assert len(set(ids)) == len(ids)


def test_a_new_message_id_is_one_telroute_recognizes() -> None:
    assert is_message_id(new_message_id())
