"""``cdcbridge lag [--direction outbound|inbound] [--group G] [--topic T] [--json] [--watch]``.

``--direction outbound`` (the default) reads the sync group on the change topic;
``--direction inbound`` reads the write-back group (``cdcbridge-writeback``) on the engagement
topic, with the ``CDCBRIDGE_WRITEBACK_*`` settings. Offsets are the group's Kafka commits in both
directions; write-back commits to Kafka only after the PostgreSQL transaction that stores the
same offsets with the rows (those are authoritative), so the Kafka figure can trail the database
by at most the batch whose asynchronous commit is in flight, never lead it.

One reading by default (status from that reading alone: see ``evaluate``); ``--samples N``
takes N readings ``--interval`` apart first; ``--watch`` redraws a live table every
``--interval`` seconds, judging the status over the last ``--window`` readings. Exit 0 after a
reading, 2 when Kafka could not be read.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import threading

from cdcbridge.clock import SYSTEM_CLOCK
from streams.lag.kafka_reads import LagReadError, read_group
from streams.lag.model import GroupReading
from streams.lag.report import lag_document, lag_table
from streams.mapping.mapping_files import MappingFileError
from streams.sync.settings import SyncSettings
from streams.writeback.consumer import WritebackSettings

CLEAR = "\x1b[H\x1b[2J"
INBOUND_OFFSETS = (
    "Kafka group commits; writeback makes each after the PostgreSQL commit of the same offsets "
    "(cdcbridge_writeback_offsets, authoritative), so they may trail it by one batch"
)


def register_lag(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``lag`` (registered by ``streams.commands``)."""
    lag = sub.add_parser(
        "lag", help="consumer lag per partition in records and seconds, status per group"
    )
    add_arguments(lag)
    lag.set_defaults(handler=run_lag)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bootstrap-servers", help="override CDCBRIDGE_SYNC_BOOTSTRAP_SERVERS")
    parser.add_argument(
        "--direction", choices=("outbound", "inbound"), default="outbound",
        help="outbound: the sync group (default); inbound: the write-back group",
    )  # fmt: skip
    parser.add_argument("--group", help="consumer group (default: the direction's group)")
    parser.add_argument(
        "--topic", action="append", default=[],
        help="also list this topic's partitions the group never committed on (repeatable)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="one JSON document per reading")
    parser.add_argument("--watch", action="store_true", help="live table until Ctrl-C")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between readings")
    parser.add_argument("--samples", type=int, default=1, help="readings before printing")
    parser.add_argument("--window", type=int, default=10, help="readings a status looks at")


def lag_target(args: argparse.Namespace) -> tuple[str, str, list[str]]:
    """Bootstrap servers, group and topics to read for ``args.direction``."""
    settings: SyncSettings | WritebackSettings
    if getattr(args, "direction", "outbound") == "inbound":
        settings = WritebackSettings()
    else:
        settings = SyncSettings()
    bootstrap = args.bootstrap_servers or settings.bootstrap_servers
    group = args.group or settings.group_id
    topics = list(args.topic)
    if not topics and isinstance(settings, WritebackSettings) and group == settings.group_id:
        topics = [settings.topic]
    elif not topics and isinstance(settings, SyncSettings) and group == settings.group_id:
        from streams.sync.subscription import sync_topics

        topics = list(sync_topics(settings))
    return bootstrap, group, topics


def run_lag(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    try:
        bootstrap, group, topics = lag_target(args)
    except MappingFileError as exc:  # the mapped topics cannot be known
        sys.stderr.write(f"lag: {exc}\n")
        return 2
    missing_ok = not args.topic  # a mapped table's topic may not exist yet
    stop = stop or threading.Event()
    window: collections.deque[GroupReading] = collections.deque(maxlen=max(args.window, 1))
    try:
        for index in range(max(args.samples, 1)):
            if index:
                stop.wait(args.interval)
            window.append(read_group(bootstrap, group, topics, SYSTEM_CLOCK, missing_ok=missing_ok))
        while True:
            document = lag_document(list(window))
            if getattr(args, "direction", "outbound") == "inbound":
                document["offsets"] = INBOUND_OFFSETS
            text = json.dumps(document) if args.json else lag_table(document)
            sys.stdout.write((CLEAR if args.watch and not args.json else "") + text + "\n")
            sys.stdout.flush()
            if not args.watch or stop.wait(args.interval):
                return 0
            window.append(read_group(bootstrap, group, topics, SYSTEM_CLOCK, missing_ok=missing_ok))
    except LagReadError as exc:
        sys.stderr.write(f"lag: cannot read group {group}: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 0
