"""CLI subcommands of this package (registered by ``cdcbridge.cli``); each command's module sits
beside what it runs."""

from __future__ import annotations

import argparse

from streams.audit.commands import register_audit
from streams.lag.command import register_lag
from streams.mapping.cli import register_map
from streams.platform.cli import register_platform
from streams.sync.cli import register_sync
from streams.sync.dlq.cli import register_dlq


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sync``, ``dlq``, ``lag``, ``map``, ``platform`` and ``audit``."""
    register_sync(sub)
    register_dlq(sub)
    register_lag(sub)
    register_map(sub)
    register_platform(sub)
    register_audit(sub)
