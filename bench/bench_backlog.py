"""Backlog catch-up: changes queued while the platform is down, then the drain.

On the local stack, with the sync service running in this process against a private sandbox
at the ``--tier``'s HubSpot limit (professional: 190 requests / 10 s, 100 records per call):

1. the sandbox goes down (``outage_s``: every vendor request answered 503);
2. ``--keys`` customers are inserted, then updated until ``--changes`` changes are queued
   (100,000 changes to 10,000 keys by default); the sync consumes them all (its
   ``max_outstanding`` is raised to hold them: coalescing needs the backlog in memory) while
   its calls keep failing; the outage lasts ``--outage-tail-s`` (60) more seconds, as an
   outage outlasts the changes made during it. The batches in flight retry meanwhile, and
   each retry first folds in the newer changes of its keys (``Coalescer.absorb``). A call
   waiting inside the HTTP transport's own retries (urllib3, up to ~30 s) keeps the body of
   its last batch-level retry: with no tail, up to concurrency x 100 keys are sent twice;
3. the platform comes back; we time the drain until every change is acknowledged.

Reports the time to drain (from the platform's return, retry backoff included), the drain rate
from the first acknowledgement to the last (records per second vs the vendor ceiling: requests
per second x 100 records), and the API records sent after the return vs the distinct keys.
Asserts: at most one API record per distinct key (coalescing) and a drain rate of at least 95%
of the vendor ceiling. The naive baseline (one call per change, at the same limit) is
computed: changes / requests per second.

Prints one JSON document. ``python bench/bench_backlog.py [--keys 10000 --changes 100000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Final

import psycopg
import requests
from bench_end_to_end import (
    BATCH,
    CONNECTOR,
    E2E,
    TIER,
    TIER_LIMITS,
    new_group,
    sandbox,
    sync_service,
    wait_for,
)

from cdcbridge.metrics import RecordingMetrics
from local_stack import stack as local
from local_stack.connector_setup import ensure_connector_running
from local_stack.endpoints import StackEndpoints, from_layout
from local_stack.layout import StackLayout

CONSUMED: Final = "cdcbridge_sync_records_consumed_total"
MAX_BATCH = 100


def queue_changes(dsn: str, tag: str, keys: int, changes: int) -> int:
    """Insert ``keys`` customers, then update all of them until ``changes`` changes exist."""
    done = 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO customers (email, first_name, plan, mrr) "
            "SELECT %s || g || '@example.com', 'n' || g, 'backlog', 0 "
            "FROM generate_series(1, %s::int) g",
            (f"{tag}-", keys),
        )
        done += keys
        while done < changes:
            count = min(keys, changes - done)
            conn.execute(
                "UPDATE customers SET mrr = mrr + 1 WHERE id IN (SELECT id FROM customers "
                "WHERE email LIKE %s ORDER BY id LIMIT %s)",
                (f"{tag}-%", count),
            )
            done += count
    return done


def knobs(url: str, **values: object) -> None:
    requests.patch(f"{url}/admin/knobs", json=values, timeout=10).raise_for_status()


def backlog(
    stack: StackEndpoints, log_dir: Path, keys: int, changes: int, tail_s: float
) -> dict[str, Any]:
    metrics = RecordingMetrics()
    limit = TIER_LIMITS[TIER[0]]
    overrides = {"max_outstanding": changes + keys}
    with sandbox(log_dir) as url, sync_service(stack, url, metrics, new_group(stack), overrides):
        # the service is up (its start-up calls done) before the platform goes down
        warm = queue_changes(stack.pg_dsn, f"warm-{uuid.uuid4().hex[:6]}", 1, 1)
        wait_for(lambda: len(metrics.timings[E2E]) >= warm, 120, "the warm-up row")
        knobs(url, outage_s=3600.0)
        queued = queue_changes(stack.pg_dsn, f"catchup-{uuid.uuid4().hex[:6]}", keys, changes)
        wait_for(
            lambda: metrics.total(CONSUMED) >= queued + warm, 900, "the sync to read the backlog"
        )
        time.sleep(tail_s)  # the outage going on: its length is what this phase is about
        calls_before = len(metrics.timings[BATCH])
        acked_before = len(metrics.timings[E2E])
        knobs(url, outage_s=0.0)
        back = time.monotonic()
        wait_for(lambda: len(metrics.timings[E2E]) > acked_before, 300, "the first ack")
        first = time.monotonic()
        first_acked = len(metrics.timings[E2E])
        wait_for(lambda: len(metrics.timings[E2E]) >= acked_before + queued, 900, "the drain")
        last = time.monotonic()
        sizes = metrics.timings[BATCH][calls_before:]
    ceiling = limit / 10 * MAX_BATCH
    sent = int(sum(sizes))
    drain_rate = (sent - _records_in_first_ack(first_acked - acked_before, sizes)) / max(
        last - first, 1e-3
    )
    return {
        "changes_queued": queued,
        "outage_tail_s": tail_s,
        "distinct_keys": keys,
        "api_calls_after_return": len(sizes),
        "api_records_after_return": sent,
        "api_records_per_key": round(sent / keys, 3),
        "time_to_drain_s": round(last - back, 2),
        "wait_for_first_ack_s": round(first - back, 2),
        "drain_records_per_s": round(drain_rate, 1),
        "vendor_ceiling_records_per_s": ceiling,
        "drain_vs_ceiling": round(drain_rate / ceiling, 3),
        "naive_one_call_per_change_s": round(queued / (limit / 10), 1),
        "speedup_vs_naive": round(queued / (limit / 10) / max(last - back, 1e-3), 1),
    }


def _records_in_first_ack(acked: int, sizes: list[float]) -> int:
    """API records of the calls done by the first acknowledgement (excluded from the rate)."""
    return int(sizes[0]) if sizes and acked else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--tier", choices=sorted(TIER_LIMITS), default="professional")
    parser.add_argument("--outage-tail-s", type=float, default=60.0)
    args = parser.parse_args()
    TIER[0] = args.tier
    layout = StackLayout.default()
    local.up(layout)
    stack = from_layout(layout)
    servers = stack.bootstrap_servers
    ensure_connector_running(stack.connect_url, CONNECTOR, bootstrap_servers=servers)
    log_dir = Path(tempfile.mkdtemp(prefix="cdcbridge-bench-backlog-"))
    result: dict[str, Any] = {
        "benchmark": "backlog_catch_up",
        "platform": f"sandbox hubspot, {args.tier} tier: {TIER_LIMITS[args.tier]} requests/10 s",
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        **backlog(stack, log_dir, args.keys, args.changes, args.outage_tail_s),
    }
    result["passed"] = {
        "at_most_one_record_per_key": result["api_records_after_return"] <= args.keys,
        "drain_at_least_95pct_of_ceiling": result["drain_vs_ceiling"] >= 0.95,
    }
    print(json.dumps(result, indent=2))
    return 0 if all(result["passed"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
