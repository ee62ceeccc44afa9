"""kill -9 while associations are pending loses none of them (issue 16): a customer's offset is
held until its association is applied, so the records of customers whose company has not
reached the platform yet are re-read after a crash.

The first instance consumes the customers' topic only (its companies never reach the platform,
so every association stays pending while the contacts are delivered); it is killed mid-way. The
restarted instance consumes both topics: the companies land, and every customer re-read is
associated. Before the hold, the contacts' offsets committed at once and about half of the
associations were lost for good.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from tests.fakes.private_sandbox import Sandbox
from tests.fakes.processes import wait_for
from tests.fakes.sync_process import SyncGroup, SyncProcess

pytestmark = pytest.mark.integration

Conn = psycopg.Connection[tuple[Any, ...]]
CUSTOMERS, PER_COMPANY = 500, 10
COMPANIES_TOPIC = "cdc.public.companies"


def delivered(sync: SyncProcess) -> int:
    """Records of the batches the engine finished (contacts confirmed)."""
    return sum(b["api_records"] for b in sync.batches())


def committed(group: SyncGroup) -> int:
    """Customer records whose offsets the group committed since the test began."""
    return sum(
        row.committed - group.start_offsets[row.partition]
        for row in group.lag_rows()
        if row.committed is not None
    )


@pytest.mark.timeout(600)
def test_kill_9_with_associations_pending_loses_none(
    sync_group: SyncGroup,
    sandbox: Sandbox,
    pg: Conn,
    record_property: Callable[[str, object], None],
) -> None:
    sync_group.platform_setup()
    sync_group.start_at_end(COMPANIES_TOPIC)
    first = sync_group.spawn(
        CDCBRIDGE_SYNC_TOPIC="cdc.public.customers", CDCBRIDGE_SYNC_ASSOCIATIONS="1"
    )
    tag = f"akill-{uuid.uuid4().hex[:8]}"
    wanted: dict[str, str] = {}
    for n in range(CUSTOMERS // PER_COMPANY):
        with pg.transaction():
            (company,) = pg.execute(
                "INSERT INTO companies (name) VALUES (%s) RETURNING id", (f"{tag} {n}",)
            ).fetchone() or (None,)
            for m in range(PER_COMPANY):
                email = f"{tag}-{n}-{m}@example.com"
                wanted[email] = str(company)
                pg.execute(
                    "INSERT INTO customers (email, company_id) VALUES (%s, %s)", (email, company)
                )

    # mid-way: half the customers' batches are through the engine (contacts confirmed, their
    # associations tried and pending), then six commit intervals (0.5 s) for an offset to commit
    wait_for(lambda: delivered(first) >= CUSTOMERS // 2, 120, "half the customers", 0.2)
    deadline = time.monotonic() + 3.0
    while committed(sync_group) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)  # polling for a commit that must not come, with a deadline
    first.kill()
    delivered_at_kill, committed_at_kill = len(sandbox.tagged(tag)), committed(sync_group)
    assert sandbox.associations(tag) == {}, "an association applied: none was pending"

    restarted = sync_group.spawn()  # both topics: the companies land now
    lost: list[str] = []

    def all_associated() -> bool:
        found = sandbox.associations(tag)
        lost[:] = [e for e, c in wanted.items() if found.get(e) != {c}]
        return not lost

    try:
        wait_for(all_associated, 240, "every association after the restart", 1.0)
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}: {len(lost)} of {CUSTOMERS} lost ({committed_at_kill} offsets had committed "
            f"at the kill), e.g. {lost[:3]}"
        ) from None
    # every delivered customer waited for its association: its offset was held, not committed
    assert committed_at_kill == 0, f"{committed_at_kill} offsets committed with links pending"
    wait_for(
        lambda: sync_group.lag() == 0 and sync_group.lag(COMPANIES_TOPIC) == 0,
        60,
        "every offset committed",
        0.5,
    )
    assert restarted.stop() == 0, restarted.log()
    figures = {"delivered_at_kill": delivered_at_kill, "committed_at_kill": committed_at_kill}
    for name, value in figures.items():
        record_property(name, value)
    print(json.dumps({**figures, "customers": CUSTOMERS, "associations_lost": len(lost)}))
