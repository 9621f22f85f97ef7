"""Carrier link metrics, read from the database at scrape time (see `kit/metrics.py`).

Each link's state as its worker last reported it in `carrier_leases`, so that every process's
`/metrics` tells the same story about the whole deployment.
"""

from __future__ import annotations

import json
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric

from telroute.carriers import repository
from telroute.carriers.service import LINK_COUNTERS, link_state
from telroute.kit.db import Connection, Row


def _link_counters(lease: Row | None) -> dict[str, float]:
    stats: dict[str, Any] = json.loads(lease["stats"]) if lease is not None else {}
    return {
        counter: float(value) if isinstance(value := stats.get(counter), int | float) else 0.0
        for counter in LINK_COUNTERS
    }


async def link_families(connection: Connection, now: int) -> list[Metric]:
    """`telroute_carrier_link_up`, `_state` and `_messages`, one series set per configured carrier."""
    carriers = await repository.all_carriers(connection)
    leases = {row["carrier"]: row for row in await repository.leases(connection)}
    up = GaugeMetricFamily(
        "telroute_carrier_link_up", "1 while a live worker reports the carrier link bound.", labels=["carrier"]
    )
    state = GaugeMetricFamily(
        "telroute_carrier_link_state",
        "The carrier link's state (the series with value 1): bound, unbound, connecting, error, released, "
        "no live worker, not started.",
        labels=["carrier", "state"],
    )
    counters = GaugeMetricFamily(
        "telroute_carrier_link_messages",
        "The link's counters as its holder last reported them (they restart when another worker takes over).",
        labels=["carrier", "counter"],
    )
    for row in carriers:
        name = str(row["name"])
        lease = leases.get(name)
        current, bound = link_state(lease, now)
        up.add_metric([name], 1.0 if bound else 0.0)
        state.add_metric([name, current], 1.0)
        for counter, value in _link_counters(lease).items():
            counters.add_metric([name, counter], value)
    return [up, state, counters]
