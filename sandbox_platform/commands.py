"""CLI subcommands of this package (registered by ``cdcbridge.cli``)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this package's subcommands. Nothing yet."""
    return None
