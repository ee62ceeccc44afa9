"""End-to-end benchmark of the outbound path: Postgres commit -> platform acknowledgement.

Starts (or reuses) the local stack, a private sandbox enforcing the ``--tier``'s HubSpot
limit (professional: 190 requests / 10 s, batches of 100; the sync's limiter is configured
with the same tier), and the sync service in this process with a recording metrics backend. Phases:

- ``rate_<N>``: inserts at a fixed N rows/s for ``--seconds`` (small transactions every 50 ms);
  ``rate_<N>_both`` (``--mixes both``): the same N rows/s over both mapped tables, one in
  ``COMPANY_SHARE`` a new company and one new customer in ``LINK_EVERY`` attached to one of
  them (``company_id``), so companies, contacts and their associations share the budget (an
  association is a record of its own for the vendor: linking every customer would need ~19
  calls/s at 1,000 rows/s, the professional tier's whole ceiling);
  reports p50/p95/p99 of ``cdcbridge_sync_end_to_end_seconds`` (Debezium ``source.ts_ms``, the
  database commit, to the platform's answer), records/s delivered, and p50/p95 of each stage
  of a record's latency (``stage_probe.py``: commit -> Kafka, Kafka -> sync poll,
  coalesce/linger, limiter wait, API round trip).
- ``backlog``: ``--backlog`` rows inserted while the service is stopped, then drained;
  reports records per API call (vs the maximum batch size) and records/s.

Each ``--profiles`` entry (``PROFILES``) runs every rate phase with its own settings, one after
the other in the same run, so tuned and untuned figures are measured side by side: the
connector's ``poll.interval.ms`` / ``max.batch.size`` / producer linger are PUT to Kafka
Connect (then restored from ``connectors/debezium-postgres-source.json``) and the sync
settings passed to the service.

Prints one JSON document. Usage:
``python bench/bench_end_to_end.py [--rates 100 500 1000] [--profiles before shipped]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from stage_probe import StageProbe

from cdcbridge.metrics import RecordingMetrics
from local_stack import stack as local
from local_stack.connector_setup import ensure_connector_running
from local_stack.endpoints import StackEndpoints, from_layout
from local_stack.layout import PROJECT_ROOT, StackLayout
from local_stack.sandbox_launcher import private_sandbox
from streams.platform.ratelimit import forget_shared_limiters
from streams.sync import kafka_boundary
from streams.sync.service import run_sync
from streams.sync.settings import SyncSettings

TOPIC = "cdc.public.customers"
TOPICS = (TOPIC, "cdc.public.companies")
COMPANY_SHARE = 0.1  # of the rows in a ``both`` transaction: new companies
LINK_EVERY = 5  # one new customer in 5 belongs to one of the new companies
MIXES = ("customers", "both")
TIER_LIMITS = {"free": 100, "professional": 190}  # HubSpot requests per 10 s, per app
TIER = ["professional"]
E2E = "cdcbridge_sync_end_to_end_seconds"
BATCH = "cdcbridge_platform_batch_size_records"
CONNECTOR = PROJECT_ROOT / "connectors" / "debezium-postgres-source.json"


@dataclass(frozen=True)
class Profile:
    """Connector config overrides and sync settings for one set of rate phases."""

    connector: dict[str, str] = field(default_factory=dict)
    sync: dict[str, Any] = field(default_factory=dict)


PROFILES: dict[str, Profile] = {
    # What connectors/ and streams/sync/settings.py ship.
    "shipped": Profile(),
    # The values shipped before issue 17's tuning (its "before" column).
    "before": Profile(
        {"poll.interval.ms": "50", "max.batch.size": "2048", "producer.override.linger.ms": "5"},
        {"linger_s": 0.02, "partial_batches_in_flight": 1, "partial_batches_wait_for_token": False},
    ),
    # a candidate explored while tuning (issue 17, item 4): the shipped values, uncompressed
    "no_compression": Profile(
        {"producer.override.compression.type": "none"},
    ),
}
PROBE = StageProbe()


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.1)


@contextmanager
def sandbox(log_dir: Path) -> Iterator[str]:
    """A private sandbox enforcing the tier's request limit (``TIER_LIMITS``), the limit the
    sync's limiter is configured with."""
    knobs = {"hubspot_limit": TIER_LIMITS[TIER[0]], "hubspot_window_s": 10}
    with private_sandbox(log_dir / "sandbox.log", platform="hubspot", knobs=knobs) as url:
        yield url


def new_group(stack: StackEndpoints) -> str:
    """A fresh consumer group whose offsets start at the topic's current end."""
    group = f"bench-{uuid.uuid4().hex[:8]}"
    for topic in TOPICS:
        kafka_boundary.commit_group_to_end(stack.bootstrap_servers, group, topic)
    return group


@contextmanager
def sync_service(
    stack: StackEndpoints,
    url: str,
    metrics: RecordingMetrics,
    group: str,
    overrides: dict[str, Any] | None = None,
) -> Iterator[None]:
    """The sync service in a thread of this process, until the block ends."""
    os.environ.update(
        CDCBRIDGE_PLATFORM="hubspot",
        CDCBRIDGE_HUBSPOT_BASE_URL=url,
        CDCBRIDGE_HUBSPOT_TOKEN="sandbox-token",
        CDCBRIDGE_CONFIG_FILE="/nonexistent",
        CDCBRIDGE_HUBSPOT_TIER=TIER[0],
    )
    settings = SyncSettings(
        bootstrap_servers=stack.bootstrap_servers,
        group_id=group,
        dlq_topic=f"{group}-dlq",
        **(overrides or {}),
    )
    forget_shared_limiters()  # the last phase's limiter runs on that service's stopped clock
    stop = threading.Event()
    codes: list[int] = []
    thread = threading.Thread(
        target=lambda: codes.append(run_sync(settings, metrics=metrics, stop=stop))
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(60)
        if codes != [0]:
            raise RuntimeError(f"sync exited with {codes}")


CUSTOMERS_ONLY = (
    "INSERT INTO customers (email, first_name, plan) "
    "SELECT %(tag)s || g || '@example.com', 'n' || g, 'bench' "
    "FROM generate_series(%(first)s::int, %(last)s::int) g"
)
# New companies, and each new customer attached to one of them (its association is due at once).
WITH_COMPANIES = (
    "WITH made AS (INSERT INTO companies (name, plan) SELECT %(tag)s || g, 'bench' "
    "  FROM generate_series(1, %(companies)s::int) g RETURNING id), "
    "ids AS (SELECT array_agg(id) AS a FROM made) "
    "INSERT INTO customers (email, first_name, plan, company_id) "
    "SELECT %(tag)s || g || '@example.com', 'n' || g, 'bench', "
    "CASE WHEN g %% %(link_every)s = 0 THEN ids.a[1 + g %% %(companies)s] END "
    "FROM ids, generate_series(%(first)s::int, %(last)s::int) g"
)


def insert_at_rate(dsn: str, tag: str, rate: int, seconds: float, mix: str = "customers") -> int:
    """Insert ``rate`` rows/s for ``seconds``, one transaction every 50 ms; with ``mix``
    ``both``, ``COMPANY_SHARE`` of each transaction's rows are new companies. Returns rows."""
    tick, per_tick, sent = 0.05, max(rate // 20, 1), 0
    companies = max(round(per_tick * COMPANY_SHARE), 1) if mix == "both" else 0
    customers = max(per_tick - companies, 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        start = time.monotonic()
        for n in range(int(seconds / tick)):
            params = {"tag": f"{tag}-", "first": sent + 1, "last": sent + customers,
                      "companies": companies, "link_every": LINK_EVERY}  # fmt: skip
            conn.execute(WITH_COMPANIES if companies else CUSTOMERS_ONLY, params)
            sent += customers
            pause = start + (n + 1) * tick - time.monotonic()
            if pause > 0:
                time.sleep(pause)  # pacing the load generator, not waiting for a condition
    return sent + companies * int(seconds / tick)


def percentiles(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50_s": round(cuts[49], 3), "p95_s": round(cuts[94], 3), "p99_s": round(cuts[98], 3)}


def rate_phase(
    stack: StackEndpoints, log_dir: Path, rate: int, seconds: float, profile: Profile,
    mix: str = "customers",
) -> dict[str, Any]:
    metrics = RecordingMetrics()
    group = new_group(stack)
    with sandbox(log_dir) as url, sync_service(stack, url, metrics, group, profile.sync):
        warm = insert_at_rate(stack.pg_dsn, f"warm-{uuid.uuid4().hex[:6]}", 20, 0.1)
        wait_for(lambda: len(metrics.timings[E2E]) >= warm, 60, "the warm-up rows")
        PROBE.reset()
        skip = len(metrics.timings[E2E])
        calls_before = len(metrics.timings[BATCH])
        started = time.monotonic()
        rows = insert_at_rate(stack.pg_dsn, f"bench-{uuid.uuid4().hex[:6]}", rate, seconds, mix)
        wait_for(lambda: len(metrics.timings[E2E]) >= skip + rows, 300, "every row delivered")
        elapsed = time.monotonic() - started
        latencies = metrics.timings[E2E][skip : skip + rows]
        sizes = metrics.timings[BATCH][calls_before:]
    return {
        "insert_rate_rows_per_s": rate,
        "tables": "customers" if mix == "customers" else "customers + companies (+ associations)",
        "rows": rows,
        **percentiles(latencies),
        "max_s": round(max(latencies), 3),
        "records_per_s": round(rows / elapsed, 1),
        "api_calls": len(sizes),
        "records_per_call": round(sum(sizes) / max(len(sizes), 1), 1),
        "stages": PROBE.summary(),
    }


def apply_connector(stack: StackEndpoints, overrides: dict[str, str], log_dir: Path) -> None:
    """PUT the shipped connector config with ``overrides`` and wait until it runs again."""
    doc = json.loads(CONNECTOR.read_text())
    doc["config"].update(overrides)
    path = log_dir / "connector.json"
    path.write_text(json.dumps(doc))
    ensure_connector_running(stack.connect_url, path, bootstrap_servers=stack.bootstrap_servers)


def backlog_phase(stack: StackEndpoints, log_dir: Path, rows: int) -> dict[str, Any]:
    metrics = RecordingMetrics()
    group = new_group(stack)
    with sandbox(log_dir) as url:
        with psycopg.connect(stack.pg_dsn, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO customers (email, first_name, plan) "
                "SELECT %s || g || '@example.com', 'n' || g, 'backlog' "
                "FROM generate_series(1, %s::int) g",
                (f"backlog-{uuid.uuid4().hex[:6]}-", rows),
            )
        wait_for(lambda: lag(stack, group) >= rows, 120, "Debezium to publish the backlog")
        with sync_service(stack, url, metrics, group):
            # Throughput from the first acknowledgement on (group join time excluded).
            wait_for(lambda: len(metrics.timings[E2E]) > 0, 120, "the first acknowledgement")
            started, first = time.monotonic(), len(metrics.timings[E2E])
            wait_for(lambda: len(metrics.timings[E2E]) >= rows, 600, "the backlog to drain")
            elapsed = time.monotonic() - started
        sizes = metrics.timings[BATCH]
    return {
        "rows": rows,
        "records_per_s": round((rows - first) / elapsed, 1),
        "api_calls": len(sizes),
        "records_per_call": round(sum(sizes) / max(len(sizes), 1), 1),
        "max_batch_size": 100,
    }


def lag(stack: StackEndpoints, group: str) -> int:
    return sum(row.lag for row in kafka_boundary.group_lag(stack.bootstrap_servers, group, TOPIC))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rates", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument(
        "--profiles", nargs="+", choices=sorted(PROFILES), default=["shipped"],
        help="run the rate phases once per name, in this order (repeat names to interleave)",
    )
    parser.add_argument(
        "--mixes", nargs="+", choices=MIXES, default=list(MIXES),
        help="customers: one table; both: customers and companies with associations",
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--backlog", type=int, default=5_000)
    parser.add_argument("--tier", choices=sorted(TIER_LIMITS), default="professional")
    args = parser.parse_args()
    TIER[0] = args.tier
    layout = StackLayout.default()
    local.up(layout)
    stack = from_layout(layout)
    log_dir = Path(tempfile.mkdtemp(prefix="cdcbridge-bench-"))
    result: dict[str, Any] = {
        "benchmark": "end_to_end",
        "platform": f"sandbox hubspot, {args.tier} tier: {TIER_LIMITS[args.tier]} requests/10 s",
        "seconds_per_rate": args.seconds,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    PROBE.install()
    try:
        for name in args.profiles:
            profile = PROFILES[name]
            apply_connector(stack, profile.connector, log_dir)
            phases = {}
            for mix in args.mixes:
                for rate in args.rates:
                    key = f"rate_{rate}" if mix == "customers" else f"rate_{rate}_{mix}"
                    phases[key] = rate_phase(stack, log_dir, rate, args.seconds, profile, mix)
            runs = result.setdefault("profiles", {})
            runs[name if name not in runs else f"{name}#{len(runs)}"] = phases
    finally:
        PROBE.uninstall()
        apply_connector(stack, {}, log_dir)
    if args.backlog:
        result["backlog"] = backlog_phase(stack, log_dir, args.backlog)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
