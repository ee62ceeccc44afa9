"""Fixtures for the sync integration tests: a private sandbox, sync processes, Postgres.

Each test gets its own sandbox (a free port, so contacts and request counts are its own) and
its own consumer group, whose offsets start at the current end of the CDC topic
(``tests.fakes.sync_process``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from local_stack.endpoints import StackEndpoints
from local_stack.sandbox_launcher import private_sandbox
from tests.fakes.private_sandbox import Sandbox
from tests.fakes.sync_process import SyncGroup


@pytest.fixture
def sandbox_factory(tmp_path: Path) -> Iterator[Callable[[], Sandbox]]:
    """Starts private sandboxes (HubSpot) on free ports; stops them all at teardown."""
    numbers = itertools.count()
    with ExitStack() as running:

        def start() -> Sandbox:
            log_path = tmp_path / f"sandbox-{next(numbers)}.log"
            return Sandbox(running.enter_context(private_sandbox(log_path, platform="hubspot")))

        yield start


@pytest.fixture
def sandbox(sandbox_factory: Callable[[], Sandbox]) -> Sandbox:
    return sandbox_factory()


@pytest.fixture
def sync_group(
    stack: StackEndpoints, cdc_connector: str, sandbox: Sandbox, tmp_path: Path
) -> Iterator[SyncGroup]:
    group = SyncGroup(stack, sandbox, tmp_path)
    try:
        yield group
    finally:
        group.cleanup()
