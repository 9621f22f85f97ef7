"""Prometheus metrics at `GET /metrics`.

Two kinds:

- Counted in this process as things happen: HTTP requests (by method, matched route *template* and
  status, with a latency histogram, from `HttpMetrics`, a pure-ASGI middleware), and the counters the
  delivery, callback and SMPP code paths bump (`count_delivery`, `count_receipt`, `count_callback`,
  `count_smpp_event`), and the SQL statements and transactions this process's `Database` counted
  (`telroute_db_statements_total`, `telroute_db_transactions_total`).
- Read from the database at scrape time, so that they are the same whichever process is scraped:
  the job queue (depth by kind, age of the oldest job), and whatever the `sources` passed to
  `exposition` add (`app.py` passes each carrier link's state, from `carriers/metrics.py`).
  These describe the whole deployment: do not sum them over processes.

Everything lives in one registry of this module (`REGISTRY`), not prometheus_client's global one. "This
process" is, for `serve` with its worker in a child process, both: its `/metrics` adds the child's counts
(`kit/exposition_merge.py`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from telroute.kit import jobs
from telroute.kit.clock import Clock
from telroute.kit.db import Database

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UNMATCHED = "<unmatched>"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

Source = Callable[[Database, int], Awaitable[list[Metric]]]
"""Metric families read from the database at scrape time, given the clock's `now` (microseconds)."""

disable_created_metrics()  # type: ignore[no-untyped-call]  # no `_created` series beside each counter
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

HTTP_REQUESTS = Counter(
    "telroute_http_requests",
    "HTTP requests answered, by method, matched route template and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "telroute_http_request_duration_seconds",
    "Time from receiving a request to the end of its response, by method and route template.",
    ["method", "route"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "telroute_deliveries",
    "Outbound messages handed to a route by this process's worker, by carrier and outcome.",
    ["carrier", "status"],
    registry=REGISTRY,
)
RECEIPTS = Counter(
    "telroute_receipts",
    "Delivery receipts recorded by this process, by level (1 platform, 2 carrier) and status.",
    ["level", "status"],
    registry=REGISTRY,
)
CALLBACKS = Counter(
    "telroute_callbacks",
    "Callbacks handled by this process, by event and outcome: POSTs (success, failure, dead_letter) and "
    "postponed (not sent: every connection to the receiver was busy; no try was used).",
    ["event", "outcome"],
    registry=REGISTRY,
)
SMPP_EVENTS = Counter(
    "telroute_smpp_events",
    "Faults this process's SMPP links met, by carrier and event: connection_lost, throttled, queue_full, "
    "generic_nack, response_timeout, unknown_receipt, unbind_received.",
    ["carrier", "event"],
    registry=REGISTRY,
)


class _Children:
    """A counter's labelled children, each looked up once (`labels()` validates and locks at every call; a
    message counts four or five times on its way)."""

    def __init__(self, counter: Counter) -> None:
        self._counter = counter
        self._children: dict[tuple[str, ...], Any] = {}

    def inc(self, *labels: str) -> None:
        child = self._children.get(labels)
        if child is None:
            child = self._children[labels] = self._counter.labels(*labels)
        child.inc()


_DELIVERIES, _RECEIPTS, _CALLBACKS = _Children(DELIVERIES), _Children(RECEIPTS), _Children(CALLBACKS)
_SMPP_EVENTS = _Children(SMPP_EVENTS)


def count_delivery(carrier: str, status: str) -> None:
    _DELIVERIES.inc(carrier, status)


def count_receipt(level: int, status: str) -> None:
    _RECEIPTS.inc(str(level), status)


def count_callback(event: str, outcome: str) -> None:
    _CALLBACKS.inc(event, outcome)


def count_smpp_event(carrier: str, event: str) -> None:
    _SMPP_EVENTS.inc(carrier, event)


def declare_smpp_events(carrier: str, events: Iterable[str]) -> None:
    """Expose each of a link's event counters from the start, at 0 until the event happens."""
    for event in events:
        SMPP_EVENTS.labels(carrier, event)


# --- HTTP --------------------------------------------------------------------------------------


class _Observers:
    """The labelled children of the HTTP metrics, looked up once per label set (`labels()` is slow)."""

    def __init__(self) -> None:
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (HTTP_REQUESTS.labels(method, route, str(status)), HTTP_DURATION.labels(method, route))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)


_OBSERVERS = _Observers()


class HttpMetrics:
    """Pure-ASGI middleware: counts and times every HTTP request by its matched route template
    (`/v2/numbers/{number}`, never the raw path, so label values stay few). Requests that match no
    route are labelled `<unmatched>`; methods outside the usual seven, `OTHER`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception escaping the app becomes a 500 outside this middleware

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            _OBSERVERS.observe(method, route, status, time.perf_counter() - started)


# --- read from the database at scrape time ----------------------------------------------------


class _Families(Collector):
    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


async def _queue_families(database: Database, now: int) -> list[Metric]:
    _, oldest = await jobs.queue_depth(database)
    by_kind = await jobs.depth_by_kind(database)
    depth = GaugeMetricFamily(
        "telroute_jobs_queue_depth", "Jobs in the queue (due, leased or waiting to retry), by kind.", labels=["kind"]
    )
    for kind, count in sorted(by_kind.items()):
        depth.add_metric([kind], count)
    age = GaugeMetricFamily(
        "telroute_jobs_oldest_age_seconds",
        "Age of the oldest job in the queue (0 when it is empty).",
        value=0.0 if oldest is None else max(0.0, (now - int(oldest)) / 1_000_000),
    )
    return [depth, age]


async def _database_families(database: Database, clock: Clock, sources: Sequence[Source]) -> list[Metric]:
    started = time.perf_counter()
    try:
        now = clock()
        families = await _queue_families(database, now)
        for source in sources:
            families.extend(await source(database, now))
        reachable = 1.0
    except Exception:  # the database is down: say so, and still serve the process's own metrics
        families, reachable = [], 0.0
    families.append(
        GaugeMetricFamily("telroute_database_up", "1 when this scrape could read the database.", value=reachable)
    )
    families.append(
        GaugeMetricFamily(
            "telroute_metrics_scrape_database_seconds",
            "Time this scrape spent reading the database.",
            value=time.perf_counter() - started,
        )
    )
    return families


def _statement_families(database: Database) -> list[Metric]:
    """This process's statement and transaction counts, read before the scrape's own statements."""
    statements = CounterMetricFamily(
        "telroute_db_statements", "SQL statements this process sent to the database.", value=database.counted.statements
    )
    transactions = CounterMetricFamily(
        "telroute_db_transactions",
        "Transactions (units of work) this process committed.",
        value=database.counted.transactions,
    )
    return [statements, transactions]


async def exposition(database: Database, clock: Clock, sources: Sequence[Source] = ()) -> bytes:
    """The text of one scrape: this process's metrics, then the database's (the job queue's, then each
    source's in order)."""
    scraped = CollectorRegistry()
    counted = _statement_families(database)
    scraped.register(_Families([*counted, *await _database_families(database, clock, sources)]))
    return generate_latest(REGISTRY) + generate_latest(scraped)
