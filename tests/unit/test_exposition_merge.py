"""One scrape for `serve` and its worker process (`kit/exposition_merge.py`): counters and histograms add up,
a gauge both have is the serving process's, what only the child has is added."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from telroute.kit.exposition_merge import merged

OURS = b"""# HELP telroute_db_statements_total SQL statements.
# TYPE telroute_db_statements_total counter
telroute_db_statements_total 10.0
# HELP telroute_jobs_queue_depth Jobs.
# TYPE telroute_jobs_queue_depth gauge
telroute_jobs_queue_depth{kind="deliver_message"} 3.0
# HELP latency_seconds Latency.
# TYPE latency_seconds histogram
latency_seconds_bucket{le="1.0"} 1.0
latency_seconds_bucket{le="+Inf"} 2.0
latency_seconds_count 2.0
latency_seconds_sum 1.5
"""
THEIRS = """# HELP telroute_db_statements_total SQL statements.
# TYPE telroute_db_statements_total counter
telroute_db_statements_total 5.0
# HELP telroute_jobs_queue_depth Jobs.
# TYPE telroute_jobs_queue_depth gauge
telroute_jobs_queue_depth{kind="deliver_message"} 3.0
telroute_jobs_queue_depth{kind="deliver_webhook"} 1.0
# HELP telroute_deliveries_total Deliveries.
# TYPE telroute_deliveries_total counter
telroute_deliveries_total{carrier="simulator",status="submitted"} 7.0
# HELP latency_seconds Latency.
# TYPE latency_seconds histogram
latency_seconds_bucket{le="1.0"} 4.0
latency_seconds_bucket{le="+Inf"} 4.0
latency_seconds_count 4.0
latency_seconds_sum 2.0
"""


def samples(text: bytes) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text.decode())
        for sample in family.samples
    }


def test_counters_and_histograms_add_up_gauges_are_not_counted_twice() -> None:
    found = samples(merged(OURS, THEIRS))
    assert found[("telroute_db_statements_total", frozenset())] == 15.0
    assert found[("telroute_jobs_queue_depth", frozenset({("kind", "deliver_message")}))] == 3.0
    assert found[("telroute_jobs_queue_depth", frozenset({("kind", "deliver_webhook")}))] == 1.0
    delivered = frozenset({("carrier", "simulator"), ("status", "submitted")})
    assert found[("telroute_deliveries_total", delivered)] == 7.0
    assert found[("latency_seconds_bucket", frozenset({("le", "1.0")}))] == 5.0
    assert (found[("latency_seconds_count", frozenset())], found[("latency_seconds_sum", frozenset())]) == (6.0, 3.5)


def test_without_a_child_nothing_changes() -> None:
    assert samples(merged(OURS, "")) == samples(OURS)
