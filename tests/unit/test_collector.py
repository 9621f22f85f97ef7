"""kit/collector.py: the garbage collector as a server process sets it before serving."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from telroute.kit import collector


@pytest.fixture
def restored() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_settle_freezes_what_exists_and_collects_the_young_generation_less_often(restored: None) -> None:
    assert gc.get_threshold() != collector.THRESHOLDS
    collector.settle()
    assert gc.get_threshold() == collector.THRESHOLDS
    assert gc.get_freeze_count() > 0
    young = collector.THRESHOLDS[0]
    before = gc.get_stats()[0]["collections"]
    kept: list[list[int]] = [[] for _ in range(young // 2)]  # containers, fewer than a young generation
    assert gc.get_stats()[0]["collections"] == before
    assert len(kept) == young // 2
