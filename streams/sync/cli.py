"""``cdcbridge sync`` (``dlq`` is ``streams.sync.dlq.cli``, ``lag`` is ``streams.lag.command``).

Registered by ``streams.commands.register`` through ``register_sync``. Kafka settings come from
``SyncSettings`` (``CDCBRIDGE_SYNC_*``); the platform's from ``PlatformSettings``.
"""

from __future__ import annotations

import argparse

from streams.sync.settings import DeletePolicy, SyncSettings


def register_sync(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sync``."""
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


def settings_from(args: argparse.Namespace) -> SyncSettings:
    """``SyncSettings`` with the command line's overrides (``--bootstrap-servers``, ...)."""
    overrides: dict[str, object] = {}
    if getattr(args, "bootstrap_servers", None):
        overrides["bootstrap_servers"] = args.bootstrap_servers
    if getattr(args, "delete_policy", None):
        overrides["delete_policy"] = DeletePolicy(args.delete_policy)
    return SyncSettings(**overrides)  # type: ignore[arg-type]


def _run_sync(args: argparse.Namespace) -> int:
    from cdcbridge.metrics_setup import metrics_from_env
    from streams.sync.health import HealthSettings, SyncHealth, serve_health
    from streams.sync.service import run_sync

    probes = HealthSettings()
    health = SyncHealth(probes.stale_after_s) if probes.port else None
    if health is not None:
        serve_health(health, probes.port, probes.host)
    return run_sync(settings_from(args), metrics=metrics_from_env(args.metrics_port), health=health)
