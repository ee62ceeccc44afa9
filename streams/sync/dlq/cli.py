"""``cdcbridge dlq list|replay``: print dead letters, or re-submit them through the normal path
(``streams.sync.dlq.replay`` selects and rebuilds them; ``streams.sync.kafka_boundary`` reads and
writes Kafka). Kafka settings come from ``SyncSettings`` (``CDCBRIDGE_SYNC_*``).
"""

from __future__ import annotations

import argparse
import json
import sys

from cdcbridge.clock import SYSTEM_CLOCK
from streams.sync import kafka_boundary
from streams.sync.cli import settings_from
from streams.sync.dlq.replay import LetterFilter, age, parse_since, replay_record


def register_dlq(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``dlq list`` and ``dlq replay``."""
    dlq = sub.add_parser("dlq", help="inspect or replay the sync dead-letter topic")
    dlq_sub = dlq.add_subparsers(dest="dlq_command", required=True, metavar="ACTION")
    for name, handler, text in (
        ("list", _dlq_list, "print dead letters as JSON lines"),
        ("replay", _dlq_replay, "re-submit dead letters through the normal path"),
    ):
        action = dlq_sub.add_parser(name, help=text)
        action.add_argument("--bootstrap-servers")
        action.add_argument("--since", help="ISO time with zone, or a duration: 15m, 2h, 1d")
        action.add_argument(
            "--filter",
            action="append",
            default=[],
            help="header=value (e.g. error_class=InvalidRecord) or text in message/payload",
        )
        action.set_defaults(handler=handler)


def _selected(args: argparse.Namespace) -> list[kafka_boundary.StoredRecord]:
    settings = settings_from(args)
    now = SYSTEM_CLOCK.time()
    since_ms = parse_since(args.since, now) if args.since else None
    letter_filter = LetterFilter.parse(args.filter)
    records = kafka_boundary.read_topic(settings.bootstrap_servers, settings.dlq_topic, since_ms)
    return [record for record in records if letter_filter.matches(record.headers, record.value)]


def _dlq_list(args: argparse.Namespace) -> int:
    now = SYSTEM_CLOCK.time()
    for record in _selected(args):
        doc = {
            "dlq_partition": record.partition,
            "dlq_offset": record.offset,
            "age_s": round(age(record.timestamp_ms, now).total_seconds(), 1),
            "headers": {k: v.decode(errors="replace") for k, v in record.headers.items()},
            "key": (record.key or b"").decode(errors="replace"),
            "value": (record.value or b"").decode(errors="replace"),
        }
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
    return 0


def _dlq_replay(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    replays = [
        replay_record(r.headers, r.key, r.value, f"{settings.dlq_topic}:{r.partition}:{r.offset}")
        for r in _selected(args)
    ]
    kafka_boundary.produce_records(
        settings.bootstrap_servers, [(r.topic, r.key, r.value, r.headers) for r in replays]
    )
    sys.stdout.write(json.dumps({"replayed": len(replays)}) + "\n")
    return 0
