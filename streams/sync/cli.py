"""``cdcbridge sync``, ``cdcbridge dlq list|replay`` and ``cdcbridge lag``.

Registered by ``streams.commands.register`` through ``register_sync``. Kafka settings come from
``SyncSettings`` (``CDCBRIDGE_SYNC_*``); the platform's from ``PlatformSettings``.
"""

from __future__ import annotations

import argparse
import json
import sys

from cdcbridge.clock import SYSTEM_CLOCK
from streams.lag.command import add_arguments as add_lag_arguments
from streams.lag.command import run_lag
from streams.sync import kafka_boundary
from streams.sync.dlq.replay import LetterFilter, age, parse_since, replay_record
from streams.sync.settings import DeletePolicy, SyncSettings


def register_sync(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sync``, ``dlq`` and ``lag``."""
    sync = sub.add_parser("sync", help="run the sync service (CDC topics -> platform)")
    sync.add_argument("--bootstrap-servers", help="override CDCBRIDGE_SYNC_BOOTSTRAP_SERVERS")
    sync.add_argument(
        "--delete-policy", choices=[p.value for p in DeletePolicy], help="archive (default)"
    )
    sync.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        help="serve Prometheus /metrics on this port (0: off; env CDCBRIDGE_METRICS_PORT)",
    )
    sync.set_defaults(handler=_run_sync)

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

    lag = sub.add_parser(
        "lag", help="consumer lag per partition in records and seconds, status per group"
    )
    add_lag_arguments(lag)
    lag.set_defaults(handler=run_lag)


def _settings(args: argparse.Namespace) -> SyncSettings:
    overrides: dict[str, object] = {}
    if getattr(args, "bootstrap_servers", None):
        overrides["bootstrap_servers"] = args.bootstrap_servers
    if getattr(args, "delete_policy", None):
        overrides["delete_policy"] = DeletePolicy(args.delete_policy)
    return SyncSettings(**overrides)  # type: ignore[arg-type]


def _run_sync(args: argparse.Namespace) -> int:
    from cdcbridge.prometheus import metrics_from_env
    from streams.sync.health import HealthSettings, SyncHealth, serve_health
    from streams.sync.service import run_sync

    probes = HealthSettings()
    health = SyncHealth(probes.stale_after_s) if probes.port else None
    if health is not None:
        serve_health(health, probes.port, probes.host)
    return run_sync(_settings(args), metrics=metrics_from_env(args.metrics_port), health=health)


def _selected(args: argparse.Namespace) -> list[kafka_boundary.StoredRecord]:
    settings = _settings(args)
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
    settings = _settings(args)
    replays = [
        replay_record(r.headers, r.key, r.value, f"{settings.dlq_topic}:{r.partition}:{r.offset}")
        for r in _selected(args)
    ]
    kafka_boundary.produce_records(
        settings.bootstrap_servers, [(r.topic, r.key, r.value, r.headers) for r in replays]
    )
    sys.stdout.write(json.dumps({"replayed": len(replays)}) + "\n")
    return 0
