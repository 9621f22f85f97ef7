"""kit/metrics.py's counters: each call counts once, under its own labels, in the registry /metrics serves."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest

from telroute.kit import metrics


def sample(name: str, labels: dict[str, str]) -> float:
    value = metrics.REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_each_count_adds_one_to_its_own_label_set() -> None:
    success = {"event": "unit-test-event", "outcome": "success"}
    failure = {"event": "unit-test-event", "outcome": "failure"}
    before = sample("telroute_callbacks_total", success), sample("telroute_callbacks_total", failure)
    metrics.count_callback("unit-test-event", "success")
    metrics.count_callback("unit-test-event", "success")
    metrics.count_callback("unit-test-event", "failure")
    assert sample("telroute_callbacks_total", success) == before[0] + 2
    assert sample("telroute_callbacks_total", failure) == before[1] + 1


@pytest.mark.parametrize(
    ("count", "name", "labels"),
    [
        (
            partial(metrics.count_delivery, "unit-carrier", "submitted"),
            "telroute_deliveries_total",
            {"carrier": "unit-carrier", "status": "submitted"},
        ),
        (
            partial(metrics.count_receipt, 2, "unit-status"),
            "telroute_receipts_total",
            {"level": "2", "status": "unit-status"},
        ),
        (
            partial(metrics.count_smpp_event, "unit-carrier", "generic_nack"),
            "telroute_smpp_events_total",
            {"carrier": "unit-carrier", "event": "generic_nack"},
        ),
    ],
    ids=["delivery", "receipt", "smpp-event"],
)
def test_deliveries_receipts_and_smpp_events_are_counted(
    count: Callable[[], None], name: str, labels: dict[str, str]
) -> None:
    before = sample(name, labels)
    count()
    assert sample(name, labels) == before + 1
