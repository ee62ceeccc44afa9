"""What the demo's sync process counted, read from its Prometheus ``/metrics`` endpoint."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import requests
from prometheus_client.parser import text_string_to_metric_families


@dataclass
class SyncCounts:
    """Counters of one sync process (monotonic since it started)."""

    api_calls: int = 0
    api_records: int = 0
    dead_lettered: int = 0
    delivered: int = 0
    rate_limited: Counter[str] = field(default_factory=Counter)


def parse_counts(text: str) -> SyncCounts:
    """``SyncCounts`` from a Prometheus text exposition (families absent count 0)."""
    counts = SyncCounts()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            value = int(sample.value)
            if sample.name == "cdcbridge_platform_requests_total":
                counts.api_calls += value
            elif sample.name == "cdcbridge_platform_batch_size_records_sum":
                counts.api_records += value
            elif sample.name == "cdcbridge_sync_records_dead_lettered_total":
                counts.dead_lettered += value
            elif sample.name == "cdcbridge_sync_records_delivered_total":
                counts.delivered += value
            elif sample.name == "cdcbridge_platform_rate_limited_total" and value:
                counts.rate_limited[sample.labels.get("code", "?")] += value
    return counts


def scrape(port: int, timeout_s: float = 5.0) -> SyncCounts:
    """Read the sync's counters. Raises ``requests.RequestException`` when it does not answer."""
    response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=timeout_s)
    response.raise_for_status()
    return parse_counts(response.text)
