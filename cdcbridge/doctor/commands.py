"""``cdcbridge doctor [--json]``: run every check; exit 0 (all OK), 1 (warnings), 2 (failures).

Endpoints default to the environment (``CDCBRIDGE_SYNC_BOOTSTRAP_SERVERS``, ``CDCBRIDGE_PG_DSN``,
``CDCBRIDGE_CONNECT_URL``, ``CDCBRIDGE_WEBHOOKS_SQS_ENDPOINT``), else to the local stack's.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from cdcbridge.doctor.model import CheckResult, DoctorContext, exit_code, render_json, render_text
from cdcbridge.doctor.registry import CHECKS

DEFAULT_CONNECTOR = Path("connectors/debezium-postgres-source.json")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    doctor = sub.add_parser(
        "doctor", help="preflight: every dependency OK / WARN / FAIL with the fix"
    )
    doctor.add_argument("--json", action="store_true", help="one JSON document")
    doctor.add_argument("--bootstrap-servers")
    doctor.add_argument("--pg-dsn")
    doctor.add_argument("--connect-url")
    doctor.add_argument("--connector-file", type=Path, default=DEFAULT_CONNECTOR)
    doctor.add_argument("--expected-partitions", type=int, default=3)
    doctor.add_argument(
        "--max-retained-wal-mb",
        type=int,
        default=1024,
        help="warn when the replication slot retains more WAL than this",
    )
    doctor.add_argument(
        "--max-lag-seconds",
        type=float,
        default=60.0,
        help="warn when the sync's oldest unsynced change is older (the latency SLO)",
    )
    doctor.add_argument("--timeout", type=float, default=5.0, help="seconds per dependency")
    doctor.set_defaults(handler=run_doctor)


def context(args: argparse.Namespace) -> DoctorContext:
    from local_stack.endpoints import from_layout
    from local_stack.layout import StackLayout

    local = from_layout(StackLayout.default())
    return DoctorContext(
        bootstrap_servers=args.bootstrap_servers
        or os.environ.get("CDCBRIDGE_SYNC_BOOTSTRAP_SERVERS", local.bootstrap_servers),
        pg_dsn=args.pg_dsn or os.environ.get("CDCBRIDGE_PG_DSN", local.pg_dsn),
        connect_url=args.connect_url or os.environ.get("CDCBRIDGE_CONNECT_URL", local.connect_url),
        connector_file=args.connector_file,
        sqs_endpoint=os.environ.get("CDCBRIDGE_WEBHOOKS_SQS_ENDPOINT", local.sqs_endpoint),
        expected_partitions=args.expected_partitions,
        max_retained_wal_bytes=args.max_retained_wal_mb * 1024 * 1024,
        max_lag_seconds=args.max_lag_seconds,
        timeout_s=args.timeout,
    )


def run_doctor(args: argparse.Namespace) -> int:
    ctx = context(args)
    results: list[CheckResult] = []
    for check in CHECKS:
        results.extend(check(ctx))
    sys.stdout.write((render_json(results) if args.json else render_text(results)) + "\n")
    return exit_code(results)
