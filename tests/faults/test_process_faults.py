"""Faults of our own processes under load in both directions: ``kill -9`` of sync (five
times, restarted each time as a supervisor would) and of the forwarder (restarted once)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.fakes.processes import wait_for
from tests.faults.harness import FaultRun

pytestmark = [pytest.mark.faults, pytest.mark.timeout(1200)]  # load, fault, drain, audit


@pytest.mark.faults_ci
def test_kill_9_of_sync_five_times(fault_run: Callable[..., FaultRun]) -> None:
    run = fault_run("kill -9 sync x5", hit="sync").start()
    group = run.bridge.group
    with run.fault():  # ends at the fifth restart: its recovery is what is measured
        for kill in range(5):
            if kill:  # each restarted sync is killed once it has delivered
                latest = group.processes[-1]
                wait_for(lambda: bool(latest.batches()), 90,  # noqa: B023 - polled at once
                         f"the restarted sync to deliver: {latest.log()[-1500:]}")  # fmt: skip
            group.processes[-1].kill()
            group.spawn()
    run.until_recovered()
    row = run.finish()
    assert row["sync_restarts"] == 5


def test_kill_9_of_the_forwarder(fault_run: Callable[..., FaultRun]) -> None:
    run = fault_run("kill -9 forwarder", hit="forwarder").start()
    with run.fault():
        run.bridge.forwarder.kill9()
        run.hold(3)  # the forwarder stays dead for 3 s, messages in flight stay invisible
        run.bridge.forwarder = run.bridge.restart_forwarder()
    run.until_recovered()
    run.finish()
