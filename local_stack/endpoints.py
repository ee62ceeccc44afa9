"""Where the tests and the demo find the stack, in this order:

1. an environment-supplied cluster (``CDCBRIDGE_BOOTSTRAP_SERVERS`` plus ``CDCBRIDGE_PG_DSN``,
   ``CDCBRIDGE_CONNECT_URL``, ``CDCBRIDGE_SQS_ENDPOINT``, ``CDCBRIDGE_SANDBOX_URL``);
2. testcontainers, when a Docker engine answers (our users' laptops; see ``containers.py``);
3. the local stack this project starts itself (our machines and CI) — always works.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from local_stack.layout import StackLayout


@dataclass(frozen=True)
class StackEndpoints:
    bootstrap_servers: str
    pg_dsn: str
    connect_url: str
    sqs_endpoint: str
    sandbox_url: str
    origin: str  # "env", "testcontainers" or "local"


def from_env() -> StackEndpoints | None:
    servers = os.environ.get("CDCBRIDGE_BOOTSTRAP_SERVERS")
    if not servers:
        return None
    local = from_layout(StackLayout.default())
    return StackEndpoints(
        bootstrap_servers=servers,
        pg_dsn=os.environ.get("CDCBRIDGE_PG_DSN", local.pg_dsn),
        connect_url=os.environ.get("CDCBRIDGE_CONNECT_URL", local.connect_url),
        sqs_endpoint=os.environ.get("CDCBRIDGE_SQS_ENDPOINT", local.sqs_endpoint),
        sandbox_url=os.environ.get("CDCBRIDGE_SANDBOX_URL", local.sandbox_url),
        origin="env",
    )


def from_layout(layout: StackLayout) -> StackEndpoints:
    return StackEndpoints(
        bootstrap_servers=layout.bootstrap_servers,
        pg_dsn=layout.pg_dsn,
        connect_url=layout.connect_url,
        sqs_endpoint=layout.sqs_endpoint,
        sandbox_url=layout.sandbox_url,
        origin="local",
    )


def docker_engine_reachable() -> bool:
    """True when a Docker engine socket answers (never on our machines or CI)."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        return True
    import socket

    path = host.removeprefix("unix://")
    if not os.path.exists(path):
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        try:
            sock.connect(path)
        except OSError:
            return False
    return True
