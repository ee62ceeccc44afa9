"""A cold stack in its own folder: `up` brings every component up, `down` leaves no process."""

from __future__ import annotations

import pytest

from local_stack import stack
from local_stack.isolated import isolated_layout, pid_alive, stack_pids

pytestmark = pytest.mark.integration


def test_cold_up_then_down_leaves_no_process() -> None:
    with isolated_layout() as layout:
        stack.up(layout)
        cluster = (layout.root / "postgres").resolve()  # as root: in the postgres user's home
        assert (cluster / "data" / "PG_VERSION").exists()
        statuses = {s.name: s.up for s in stack.status(layout)}
        assert statuses["postgres"] and statuses["kafka"] and statuses["connect"]
        assert statuses["sqs"]
        pids = stack_pids(layout)
        assert {"postgres", "kafka", "connect", "sqs"} <= set(pids)
        assert all(pid_alive(p) for p in pids.values())
        stopped = stack.down(layout)
        assert {"postgres", "kafka", "connect", "sqs"} <= set(stopped)
        still = {name: pid for name, pid in pids.items() if pid_alive(pid)}
        assert still == {}, f"still running after down: {still}"
        assert stack.down(layout) == [], "a second down found something to stop"
    assert not cluster.exists(), "the throwaway stack left its PostgreSQL cluster behind"
