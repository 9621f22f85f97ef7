"""One scrape for two processes: a serving process's metrics with those of the worker it runs as a child.

Counters, histograms and summaries add up (each series the sum of both processes', as Prometheus's client
does for the processes of one server); a gauge is the serving process's where it has that series, and
the child's where only the child has it (the job queue's depth, read from the database by both, is not
counted twice). A series of the child that the serving process lacks is added as it is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

_ADDED = frozenset({"counter", "histogram", "summary"})
SeriesKey = tuple[str, tuple[tuple[str, str], ...]]


class _Parsed(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


def _key(sample: Sample) -> SeriesKey:
    return sample.name, tuple(sorted(sample.labels.items()))


def _merge_family(ours: Metric, theirs: Metric) -> None:
    index = {_key(sample): place for place, sample in enumerate(ours.samples)}
    for sample in theirs.samples:
        place = index.get(_key(sample))
        if place is None:
            ours.samples.append(sample)
        elif ours.type in _ADDED:
            mine = ours.samples[place]
            ours.samples[place] = mine._replace(value=mine.value + sample.value)


def merged(ours: bytes, theirs: str) -> bytes:
    """The exposition text `ours` with the child's `theirs` merged into it."""
    families = {family.name: family for family in text_string_to_metric_families(ours.decode("utf-8"))}
    for family in text_string_to_metric_families(theirs):
        mine = families.get(family.name)
        if mine is None or mine.type != family.type:
            families.setdefault(family.name, family)
            continue
        _merge_family(mine, family)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Parsed(list(families.values())))
    return generate_latest(registry)


class Relay:
    """The exposition of a child process that this one runs, if any (`telroute/worker_process.py`)."""

    def __init__(self) -> None:
        self.fetch: Callable[[], Awaitable[str | None]] | None = None

    async def merged_into(self, ours: bytes) -> bytes:
        theirs = None if self.fetch is None else await self.fetch()
        return ours if theirs is None else merged(ours, theirs)
