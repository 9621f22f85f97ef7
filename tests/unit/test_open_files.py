"""The soft open-file limit a process sets so that its connection cap can be reached."""

from __future__ import annotations

import resource

from telroute.edge.open_files import soft_limit_to_set

UNLIMITED = resource.RLIM_INFINITY


def test_a_soft_limit_with_room_is_kept() -> None:
    assert soft_limit_to_set(soft=4096, hard=4096, needed=1100) is None
    assert soft_limit_to_set(soft=UNLIMITED, hard=UNLIMITED, needed=1100) is None


def test_a_low_soft_limit_is_raised_to_what_is_needed() -> None:
    assert soft_limit_to_set(soft=1024, hard=524_288, needed=1100) == 1100
    assert soft_limit_to_set(soft=1024, hard=UNLIMITED, needed=1100) == 1100


def test_it_is_raised_no_further_than_the_hard_limit() -> None:
    assert soft_limit_to_set(soft=256, hard=1024, needed=1100) == 1024
    assert soft_limit_to_set(soft=1024, hard=1024, needed=1100) is None
