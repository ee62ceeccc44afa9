"""The demo's closing table: every number worded, missing ones said, lines aligned; the sync's
counters read from its Prometheus text."""

from __future__ import annotations

from collections import Counter

import pytest

from local_stack.demo_metrics import parse_counts
from local_stack.demo_summary import (
    DemoSummary,
    Percentiles,
    percentiles,
    render_table,
    summary_rows,
)

pytestmark = pytest.mark.unit


def full_summary() -> DemoSummary:
    return DemoSummary(
        rows_changed=24, contacts_upserted=19, api_calls=4, api_records=22,
        rate_limited={"TEN_SECONDLY_ROLLING": 2}, dlq_records=1, webhooks_sent=20,
        webhooks_accepted=20, webhooks_forwarded=20,
        outbound=Percentiles(180.4, 420.0, 515.9, 19), inbound=Percentiles(40, 90, 120, 20),
        audit_checked=19, audit_mismatched=0, audit_match_rate=1.0,
    )  # fmt: skip


def test_rows_word_every_number() -> None:
    rows = dict(summary_rows(full_summary()))
    assert rows["rows changed (insert/update/delete)"] == "24"
    assert rows["API calls"] == "4  (5.5 records per call)"
    assert rows["429s by policy"] == "TEN_SECONDLY_ROLLING 2"
    assert rows["DLQ records"] == "1"
    assert rows["webhooks"] == "20 accepted (202) of 20 sent"
    assert rows["webhooks forwarded to Kafka"] == "20"
    assert rows["outbound: commit -> platform"] == (
        "p50 180 ms · p95 420 ms · p99 516 ms  (19 contacts)")
    assert rows["final audit (--all, this run)"] == (
        "100.00% match  (19 rows checked, 0 mismatched)")
    assert "steady load" not in rows


def test_missing_numbers_are_said_not_zeroed() -> None:
    rows = dict(summary_rows(DemoSummary(rows_changed=3, duration_s=60)))
    assert rows["steady load"] == "60 s"
    assert rows["API calls"] == "not measured"
    assert rows["429s by policy"] == "0"
    assert rows["inbound: webhook -> Kafka"] == "not measured"
    assert rows["written back to PostgreSQL"] == "writeback not run in the demo"
    assert rows["final audit (--all, this run)"] == "not run"


def test_table_lines_share_one_width_and_hold_every_row() -> None:
    rows = summary_rows(full_summary())
    table = render_table(rows).splitlines()
    assert len({len(line) for line in table}) == 1
    assert len(table) == len(rows) + 4  # rule, title, rule, rows, rule
    assert table[1].startswith("| demo summary ")
    for (label, value), line in zip(rows, table[3:-1], strict=True):
        assert line.startswith(f"| {label} ") and f"| {value} " in line


def test_percentiles() -> None:
    assert percentiles([]) is None
    assert percentiles([7.0]) == Percentiles(7.0, 7.0, 7.0, 1)
    cut = percentiles([float(n) for n in range(1, 101)])
    assert cut is not None and cut.count == 100
    assert (round(cut.p50_ms, 2), round(cut.p95_ms, 2)) == (50.5, 95.05)
    assert round(cut.p99_ms, 2) == 99.01


def test_sync_counters_from_prometheus_text() -> None:
    text = "\n".join([
        "# TYPE cdcbridge_platform_requests_total counter",
        'cdcbridge_platform_requests_total{platform="hubspot",endpoint="/a",status="200"} 3.0',
        'cdcbridge_platform_requests_total{platform="hubspot",endpoint="/a",status="429"} 2.0',
        "# TYPE cdcbridge_platform_rate_limited_total counter",
        'cdcbridge_platform_rate_limited_total{platform="hubspot",code="TEN_SECONDLY_ROLLING"} 2.0',
        "# TYPE cdcbridge_platform_batch_size_records histogram",
        'cdcbridge_platform_batch_size_records_bucket{le="+Inf"} 3.0',
        "cdcbridge_platform_batch_size_records_count 3.0",
        "cdcbridge_platform_batch_size_records_sum 41.0",
        "# TYPE cdcbridge_sync_records_dead_lettered_total counter",
        'cdcbridge_sync_records_dead_lettered_total{error_class="InvalidRecord"} 1.0',
        "",
    ])  # fmt: skip
    counts = parse_counts(text)
    assert (counts.api_calls, counts.api_records, counts.dead_lettered) == (5, 41, 1)
    assert counts.rate_limited == Counter({"TEN_SECONDLY_ROLLING": 2})
