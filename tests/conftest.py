"""Shared pytest fixtures: the stack every integration test runs against.

Order (see ``local_stack.endpoints``): an env-supplied cluster, else testcontainers when a
Docker engine answers, else the local stack started by the project itself. A local stack this
session started is stopped at the end of the session (set ``CDCBRIDGE_KEEP_STACK=1`` to keep it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from local_stack.containers import testcontainers_available
from local_stack.endpoints import StackEndpoints, docker_engine_reachable, from_env, from_layout
from local_stack.layout import PROJECT_ROOT, StackLayout

CONNECTOR_FILE = PROJECT_ROOT / "connectors" / "debezium-postgres-source.json"


@pytest.fixture(scope="session")
def stack() -> Iterator[StackEndpoints]:
    """The running stack's endpoints (Postgres, Kafka, Connect, SQS, sandbox platform)."""
    supplied = from_env()
    if supplied is not None:
        yield supplied
        return
    if docker_engine_reachable() and testcontainers_available():
        from local_stack.containers import container_stack

        with container_stack() as endpoints:
            yield endpoints
        return
    from local_stack import stack as local

    layout = StackLayout.default()
    was_running = all(s.up for s in local.status(layout) if s.name != "sandbox")
    local.up(layout)
    try:
        yield from_layout(layout)
    finally:
        if not was_running and os.environ.get("CDCBRIDGE_KEEP_STACK") != "1":
            local.down(layout)


@pytest.fixture(scope="session")
def cdc_connector(stack: StackEndpoints) -> str:
    """The Debezium connector applied and RUNNING; returns its name."""
    from local_stack.connector_setup import ensure_connector_running

    return ensure_connector_running(
        stack.connect_url, Path(CONNECTOR_FILE), bootstrap_servers=stack.bootstrap_servers
    )


@pytest.fixture
def pg(stack: StackEndpoints) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
    """An autocommit connection to the stack's PostgreSQL."""
    with psycopg.connect(stack.pg_dsn, autocommit=True) as conn:
        yield conn
