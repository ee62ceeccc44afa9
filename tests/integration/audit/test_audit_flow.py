"""The audit on the real stack, for each sandbox platform: 100 % after a sync, exactly the
edited contact and field after an edit made directly in the platform, repaired through the
normal sync path (a Debezium incremental snapshot of that row), and passing again."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from tests.fakes.audit_bridge import Bridge, insert_segment
from tests.fakes.processes import wait_for

pytestmark = pytest.mark.integration

Conn = psycopg.Connection[tuple[Any, ...]]
FIRST_NAME = {"hubspot": "firstname", "marketo": "firstName"}


def test_audit_passes_then_names_the_edited_field_then_repair_restores_it(
    bridge: Bridge, pg: Conn
) -> None:
    tag = f"audit{uuid.uuid4().hex[:8]}"
    rows = insert_segment(pg, tag, 12)
    platform = bridge.platform
    wait_for(
        lambda: sum(e.startswith(tag) for e in platform.contacts()) == len(rows),
        90,
        f"the segment to reach {platform.name}: {bridge.log()[-2000:]}",
    )
    segment = f"email LIKE '{tag}-%'"

    code, report = bridge.audit("--all", "--where", segment, "--no-deletes")
    assert (code, report["match_rate"], report["checked"]) == (0, 1.0, len(rows)), report
    assert report["findings"] == [] and report["passed"]

    source_id, email = rows[3]
    prop = FIRST_NAME[platform.name]
    platform.edit(email, **{prop: "Mallory"})
    code, report = bridge.audit("--all", "--where", segment, "--no-deletes")
    assert code == 1
    assert report["findings"] == [
        {"kind": "value", "source_id": str(source_id), "property": prop, "field": "first_name"}
    ]
    assert report["mismatches_by_field"] == {"first_name": 1}
    assert email not in str(report), "no personal data without --show-values"

    code, shown = bridge.audit(
        "--sample", "5", "--where", f"id = {source_id}", "--show-values", "--no-deletes"
    )
    assert code == 1 and shown["findings"][0]["actual"] == "Mallory"
    assert shown["findings"][0]["expected"] == "Zoë 4"

    code, repaired = bridge.audit("--all", "--where", segment, "--no-deletes", "--repair")
    assert code == 0, repaired
    assert repaired["repair"]["sent"] == 1 and repaired["repair"]["repaired"] == 1
    assert platform.contacts()[email.lower()][prop] == "Zoë 4"
    code, again = bridge.audit("--all", "--where", segment, "--no-deletes")
    assert code == 0 and again["match_rate"] == 1.0


def test_deleted_rows_are_checked_against_the_archive_policy(bridge: Bridge, pg: Conn) -> None:
    """HubSpot archives the contact; Marketo has no archive, so the same policy marks the lead
    ``unsubscribed`` (``streams.platform.deletes``): the audit checks what each vendor shows."""
    tag = f"auditdel{uuid.uuid4().hex[:8]}"
    rows = insert_segment(pg, tag, 3)
    platform = bridge.platform
    wait_for(lambda: sum(e.startswith(tag) for e in platform.contacts()) == 3, 90, "the rows")
    gone_id, gone_email = rows[0]
    pg.execute("DELETE FROM customers WHERE id = %s", (gone_id,))
    if platform.name == "hubspot":
        wait_for(lambda: gone_email not in platform.contacts(), 60, "the archive")
    else:
        wait_for(
            lambda: str(platform.contacts().get(gone_email, {}).get("unsubscribed")).lower()
            == "true",
            60,
            "the lead marked unsubscribed",
        )
    code, report = bridge.audit(
        "--all", "--where", f"email LIKE '{tag}-%'", "--deletes-since", "10m"
    )
    assert code == 0 and report["deletes_checked"] >= 1, report
