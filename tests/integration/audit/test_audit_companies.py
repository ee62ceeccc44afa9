"""The audit of a second mapped table, ``public.companies``, on the real stack for each sandbox
platform: companies read back by their source id (HubSpot ``batch/read`` by the unique
``cdcbridge_company_id``, Marketo ``companies.json`` by ``externalCompanyId``) match after a
sync, a deleted company is checked against the delete policy (gone: HubSpot archives it under
the default policy; Marketo, which has no company archive, deletes it under ``hard_delete``),
and a change the platform never received is named by property and canonical field."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import psycopg
import pytest

from tests.fakes.audit_bridge import Bridge
from tests.fakes.processes import wait_for

pytestmark = pytest.mark.integration

Conn = psycopg.Connection[tuple[Any, ...]]
ID_PROPERTY = {"hubspot": "cdcbridge_company_id", "marketo": "externalCompanyId"}
NAME_PROPERTY = {"hubspot": "name", "marketo": "company"}


def company_ids_on(bridge: Bridge) -> set[str]:
    """The source ids of the companies the sandbox holds (admin API: no vendor call)."""
    platform = bridge.platform.name
    url = f"{bridge.platform.url}/admin/companies?platform={platform}"
    listing = httpx.get(url, timeout=10).json()[platform]
    return {str(c["properties"].get(ID_PROPERTY[platform])) for c in listing}


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    "sync_env", [{"marketo": {"CDCBRIDGE_SYNC_DELETE_POLICY": "hard_delete"}}]
)
def test_companies_audit_matches_checks_deletes_and_names_a_missed_change(
    bridge: Bridge, pg: Conn
) -> None:
    setup = bridge.cli("platform", "setup")  # HubSpot's unique company property
    assert setup.returncode == 0, setup.stdout + setup.stderr
    tag = f"auditco{uuid.uuid4().hex[:8]}"
    ids = [
        str(row[0])
        for n in range(6)
        for row in pg.execute(
            "INSERT INTO companies (name, domain, industry, employees, plan, country) "
            "VALUES (%s, %s, 'Software', %s, 'Pro', 'de') RETURNING id",
            (f"{tag} {n}", f"{tag}-{n}.example.com", 10 * n),
        ).fetchall()
    ]
    wait_for(
        lambda: set(ids) <= company_ids_on(bridge), 90, f"the companies: {bridge.log()[-2000:]}"
    )
    pg.execute("DELETE FROM companies WHERE id = %s", (int(ids[0]),))
    wait_for(lambda: ids[0] not in company_ids_on(bridge), 90, "the company delete")

    segment = f"name LIKE '{tag} %'"
    args = ("--table", "public.companies", "--all", "--where", segment)
    code, report = bridge.audit(*args, "--deletes-since", "10m")
    assert (code, report["match_rate"], report["checked"]) == (0, 1.0, 5), report
    # the topic's other deletes of the window count too (other tests' companies: gone here)
    assert report["deletes_checked"] >= 1 and report["findings"] == [], report

    bridge.stop()  # a change the platform never receives
    pg.execute("UPDATE companies SET name = name || ' renamed' WHERE id = %s", (int(ids[2]),))
    bridge.env["CDCBRIDGE_AUDIT_SETTLE_TIMEOUT_S"] = "3"  # the stopped sync never catches up
    code, report = bridge.audit(*args, "--no-deletes")
    assert code == 1, report
    name = NAME_PROPERTY[bridge.platform.name]
    found = {(f["kind"], f["source_id"], f["property"], f["field"]) for f in report["findings"]}
    found -= {("value", ids[2], "cdcbridge_updated_at", "updated_at")}  # its trigger (HubSpot)
    assert found == {("value", ids[2], name, "name")}, report
