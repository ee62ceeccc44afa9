"""CLI subcommands of this package (registered by ``cdcbridge.cli``)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this package's subcommands. Nothing yet."""
    __import__("streams.sync_commands", fromlist=["register_sync"]).register_sync(sub)
    __import__("streams.map_command", fromlist=["register_map"]).register_map(sub)
    __import__("streams.platform_commands", fromlist=["x"]).register_platform(sub)
    __import__("streams.audit.commands", fromlist=["register_audit"]).register_audit(sub)
    return None
