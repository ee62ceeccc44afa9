"""Companies and their associations through the real path: PostgreSQL -> Debezium -> Kafka ->
one ``cdcbridge sync`` consuming both tables (associations on by default, since companies are
mapped) -> sandbox. Companies and customers are inserted interleaved, each company with its
customers in one transaction (the foreign key wants the company first in the database, but the
two topics are consumed independently, so customers may reach the platform before their
company and wait in the pending set); every association ends right, moving customers moves
their associations, and a company delete follows the delete policy (archive: the company is
archived on HubSpot and its associations go with it)."""

from __future__ import annotations

import json
import random
from typing import Any

import httpx
import psycopg
import pytest

from tests.fakes.private_sandbox import Sandbox
from tests.fakes.processes import wait_for
from tests.fakes.sync_process import SyncGroup

pytestmark = pytest.mark.integration

Conn = psycopg.Connection[tuple[Any, ...]]
COMPANY_COUNT, PER_COMPANY, MOVED = 500, 10, 100  # the numbers
COMPANIES_TOPIC = "cdc.public.companies"


def snapshot(sandbox: Sandbox) -> tuple[dict[str, str], dict[str, set[str]]]:
    """(company source id -> name, contact email -> its companies' source ids) on the sandbox."""
    with httpx.Client(base_url=sandbox.url, timeout=30) as admin:
        listing = admin.get("/admin/contacts").json()["hubspot"]
        contacts = {c["id"]: c["properties"]["email"] for c in listing}
        companies = {
            c["id"]: c["properties"] for c in admin.get("/admin/companies").json()["hubspot"]
        }
        pairs = admin.get("/admin/associations").json()["hubspot"]
    found: dict[str, set[str]] = {}
    for pair in pairs:
        company = companies[pair["companyId"]]["cdcbridge_company_id"]
        found.setdefault(contacts[pair["contactId"]], set()).add(company)
    names = {p["cdcbridge_company_id"]: p.get("name", "") for p in companies.values()}
    return names, found


@pytest.mark.timeout(900)
def test_companies_and_customers_through_sync_end_associated(
    sync_group: SyncGroup, sandbox: Sandbox, pg: Conn
) -> None:
    output = sync_group.platform_setup()
    assert '"object_type": "companies"' in output.replace('":"', '": "')
    sync_group.start_at_end(COMPANIES_TOPIC)
    sync = sync_group.spawn(
        CDCBRIDGE_SYNC_ASSOCIATIONS_RETRY_S="0.5", CDCBRIDGE_SYNC_ASSOCIATIONS_RETRY_CAP_S="5"
    )
    rng = random.Random(16)
    tag = f"co{rng.randrange(10**6)}-{sync_group.group[-8:]}"
    wanted: dict[str, str] = {}
    company_ids: list[int] = []
    for n in range(COMPANY_COUNT):
        with pg.transaction():
            (company,) = pg.execute(
                "INSERT INTO companies (name, employees) VALUES (%s, %s) RETURNING id",
                (f"it {tag} {n}", n),
            ).fetchone() or (None,)
            company_ids.append(int(company))
            for m in range(PER_COMPANY):
                # most join this company; some an earlier one (interleaved across companies)
                target = company if m < PER_COMPANY - 2 else rng.choice(company_ids)
                email = f"{tag}-{n}-{m}@example.com"
                wanted[email] = str(target)
                pg.execute(
                    "INSERT INTO customers (email, company_id) VALUES (%s, %s)", (email, target)
                )

    wrong: list[tuple[str, str, set[str] | None]] = []
    deleted: set[str] = set()

    def right() -> bool:
        names, found = snapshot(sandbox)
        wrong[:] = [(e, c, found.get(e)) for e, c in wanted.items() if found.get(e) != {c}]
        return not wrong and all(str(c) in names for c in company_ids if str(c) not in deleted)

    def wait_right(what: str) -> None:
        try:
            wait_for(right, 300, what, 1.0)
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {len(wrong)} wrong, e.g. {wrong[:3]}") from None

    wait_right("every company and association to be right")
    names, _ = snapshot(sandbox)
    assert names[str(company_ids[3])] == f"it {tag} 3"  # the row's fields, by companies.yaml

    movers = rng.sample(sorted(wanted), MOVED)
    for email in movers:
        target = rng.choice([c for c in company_ids if str(c) != wanted[email]])
        wanted[email] = str(target)
        pg.execute("UPDATE customers SET company_id = %s WHERE email = %s", (target, email))
    wait_right("the moved customers' associations to move")

    # a company delete follows the delete policy (archive on HubSpot): its customers move away
    # first (the foreign key), then the row goes; the company leaves the platform
    gone = company_ids[0]
    home = company_ids[1]
    moved = pg.execute(
        "UPDATE customers SET company_id = %s WHERE company_id = %s RETURNING email", (home, gone)
    ).fetchall()
    for (email,) in moved:
        wanted[str(email)] = str(home)
    pg.execute("DELETE FROM companies WHERE id = %s", (gone,))
    deleted.add(str(gone))
    wait_for(lambda: str(gone) not in snapshot(sandbox)[0], 120, "the company to be archived")
    wait_right("the deleted company's customers to be associated elsewhere")
    _, found = snapshot(sandbox)
    assert all(str(gone) not in companies for companies in found.values())

    assert sync.stop() == 0, sync.log()
    assert sync_group.lag() == 0 and sync_group.lag(COMPANIES_TOPIC) == 0
    log = sync.log()
    assert '"association refused by the platform"' not in log
    missing = sum(
        json.loads(line).get("company_missing", 0)
        for line in log.splitlines()
        if '"associations sent"' in line
    )
    figures = {"companies": COMPANY_COUNT, "customers": len(wanted), "moved": MOVED}
    print(json.dumps({**figures, "associations_waiting_for_their_company": missing}))
