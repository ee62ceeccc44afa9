"""``cdcbridge audit`` and ``cdcbridge backfill`` (registered by ``streams.commands``).

``audit --direction inbound`` checks engagement events of the topic against the database
(``streams.audit.inbound``). Exit codes: audit 0 only when every checked field matches
(100 %), 1 on any mismatch, 2 on a usage or configuration error; backfill 0 when the
snapshot completed, 1 on timeout.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from typing import Any

from cdcbridge.clock import SYSTEM_CLOCK

ACTIONS = argparse._SubParsersAction


def register_audit(sub: ACTIONS[argparse.ArgumentParser]) -> None:
    """Add ``audit`` and ``backfill``."""
    audit = sub.add_parser("audit", help="compare the database with the platform, field by field")
    how = audit.add_mutually_exclusive_group()
    how.add_argument("--sample", type=int, help="check N random rows")
    how.add_argument("--all", action="store_true", help="check every row")
    audit.add_argument("--confidence", type=float, help="e.g. 0.99 (default)")
    audit.add_argument("--margin", type=float, help="e.g. 0.01 (default)")
    audit.add_argument("--budget-share", type=float, help="share of the API budget, e.g. 0.2")
    audit.add_argument("--where", help="SQL filter: audit only this segment of the table")
    audit.add_argument(
        "--table", help="mapped table to audit, e.g. public.subscriptions (default customers)"
    )
    audit.add_argument("--seed", type=int, help="random seed of the sample (reproducible)")
    audit.add_argument("--json", action="store_true", help="print the report as JSON")
    audit.add_argument("--show-values", action="store_true", help="include emails and values")
    audit.add_argument("--repair", action="store_true", help="re-send mismatched rows via sync")
    audit.add_argument("--deletes-since", help="check deletes of this window (default 1d)")
    audit.add_argument("--no-deletes", action="store_true", help="skip the delete-policy check")
    audit.add_argument("--metrics-textfile", help="write the run's metrics here (Prometheus)")
    audit.add_argument("--pushgateway", help="push the run's metrics to this Pushgateway URL")
    audit.add_argument(
        "--direction", choices=("outbound", "inbound"), default="outbound",
        help="outbound: database vs platform (default); inbound: engagement topic vs database",
    )  # fmt: skip
    audit.add_argument("--since", help="inbound: audit events of this window (default 1d)")
    audit.add_argument("--bootstrap-servers")
    audit.set_defaults(handler=_audit)

    backfill = sub.add_parser("backfill", help="re-read a table through Debezium and the sync")
    backfill.add_argument("--table", required=True, help="schema.table, e.g. public.customers")
    backfill.add_argument("--where", help="SQL filter of the rows to re-read")
    backfill.add_argument("--timeout-s", type=float, help="give up waiting after this long")
    backfill.add_argument("--bootstrap-servers")
    backfill.set_defaults(handler=_backfill)


def _progress(label: str) -> Any:
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def _audit(args: argparse.Namespace) -> int:
    import psycopg
    from pydantic import ValidationError

    from streams.audit.wiring import AuditJob
    from streams.contracts import FatalPlatformError, TransientPlatformError
    from streams.sync.kafka_boundary import KafkaIOError

    try:
        if args.direction == "inbound":
            from streams.audit.inbound_wiring import run_inbound

            doc = run_inbound(args, SYSTEM_CLOCK, random.Random(args.seed))
        else:
            with AuditJob.from_args(args) as job:
                doc = job.run(random.Random(args.seed), _progress("audit"))
    except (ValidationError, ValueError) as exc:
        sys.stderr.write(f"audit: {exc}\n")
        return 2
    except (psycopg.OperationalError, KafkaIOError) as exc:
        sys.stderr.write(f"audit: cannot reach a source system: {exc}\n")
        return 2
    except (TransientPlatformError, FatalPlatformError) as exc:
        sys.stderr.write(f"audit: the platform did not answer the read-back: {exc}\n")
        return 2
    if args.json:
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, default=str) + "\n")
    else:
        from streams.audit.report import write_table

        write_table(doc, sys.stdout)
        if "repair" in doc:
            sys.stdout.write(f"repair: {json.dumps(doc['repair'])}\n")
    return 0 if doc["passed"] else 1


def _backfill(args: argparse.Namespace) -> int:
    from streams.audit.wiring import run_backfill

    outcome = run_backfill(args, SYSTEM_CLOCK, _progress("backfill"))
    sys.stdout.write(json.dumps(outcome) + "\n")
    return 0 if outcome["complete"] else 1
