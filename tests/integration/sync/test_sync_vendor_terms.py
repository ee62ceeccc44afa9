"""``cdcbridge sync`` on the vendors' terms, on the real stack: Marketo email change and default
delete (a field update, never ``leads/delete.json``), HubSpot unsubscribe through communication
preferences, and no start while the vendor lacks the properties our mapping writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from local_stack.sandbox_launcher import private_sandbox
from tests.fakes.processes import wait_for
from tests.fakes.sync_process import SyncGroup, unique_email

pytestmark = pytest.mark.integration

Conn = psycopg.Connection[tuple[Any, ...]]


@pytest.fixture
def marketo_url(tmp_path: Path) -> Iterator[str]:
    with private_sandbox(tmp_path / "marketo-sandbox.log", platform="marketo") as url:
        yield url


def leads(url: str) -> dict[str, dict[str, Any]]:
    listing = httpx.get(f"{url}/admin/contacts", timeout=10).json()["marketo"]
    return {str(c["properties"].get("email", "")).lower(): {**c["properties"], "id": c["id"]}
            for c in listing}  # fmt: skip


def endpoint_calls(url: str, label: str) -> dict[str, int]:
    by_endpoint = httpx.get(f"{url}/admin/requests", timeout=10).json()["by_endpoint"]
    found: dict[str, int] = by_endpoint.get(label, {})
    return found


def test_marketo_email_change_lands_in_place_and_delete_only_unsubscribes(
    sync_group: SyncGroup, marketo_url: str, pg: Conn
) -> None:
    sync = sync_group.spawn(
        CDCBRIDGE_PLATFORM="marketo",
        CDCBRIDGE_MARKETO_BASE_URL=marketo_url,
        CDCBRIDGE_MARKETO_CLIENT_ID="sandbox-client",
        CDCBRIDGE_MARKETO_CLIENT_SECRET="sandbox-secret",
    )
    email, moved = unique_email("mkto"), unique_email("mkto-moved")
    # opted in, so ``unsubscribed`` (the negated consent) is "false" until the delete sets it
    row = pg.execute(
        "INSERT INTO customers (email, first_name, plan, marketing_opt_in, opt_in_at) "
        "VALUES (%s, 'Ann', 'pro', true, now()) RETURNING id",
        (email,),
    ).fetchone()
    assert row is not None
    wait_for(lambda: email in leads(marketo_url), 60, "the insert to reach Marketo")
    lead_id = leads(marketo_url)[email]["id"]
    assert leads(marketo_url)[email]["cdcbridgePlan"] == "pro"
    assert leads(marketo_url)[email]["unsubscribed"] == "false"

    pg.execute("UPDATE customers SET email = %s WHERE id = %s", (moved, row[0]))
    wait_for(lambda: moved in leads(marketo_url), 30, "the email change")
    assert email not in leads(marketo_url)
    assert leads(marketo_url)[moved]["id"] == lead_id  # updated in place (updateOnly by id)

    pg.execute("DELETE FROM customers WHERE id = %s", (row[0],))
    wait_for(lambda: leads(marketo_url)[moved].get("unsubscribed") == "true", 30, "the delete")
    assert endpoint_calls(marketo_url, "POST /rest/v1/leads/delete.json") == {}
    assert sync.stop() == 0, sync.log()


def test_hubspot_unsubscribe_policy_uses_communication_preferences(
    sync_group: SyncGroup, pg: Conn
) -> None:
    sandbox_url = sync_group.env["CDCBRIDGE_HUBSPOT_BASE_URL"]
    sync = sync_group.spawn(CDCBRIDGE_SYNC_DELETE_POLICY="unsubscribe")
    email = unique_email("optout")
    row = pg.execute("INSERT INTO customers (email) VALUES (%s) RETURNING id", (email,)).fetchone()
    assert row is not None
    label = "POST /communication-preferences/v4/statuses/batch/unsubscribe-all"

    def stored() -> set[str]:
        contacts = httpx.get(f"{sandbox_url}/admin/contacts", timeout=10).json()["hubspot"]
        return {str(c["properties"]["email"]) for c in contacts}

    wait_for(lambda: email in stored(), 60, "the insert")
    pg.execute("DELETE FROM customers WHERE id = %s", (row[0],))
    wait_for(lambda: endpoint_calls(sandbox_url, label) == {"200": 1}, 60, "the unsubscribe")
    assert email in stored()  # kept, not archived
    assert sync.stop() == 0, sync.log()


def test_sync_refuses_to_start_while_properties_are_missing(sync_group: SyncGroup) -> None:
    sandbox_url = sync_group.env["CDCBRIDGE_HUBSPOT_BASE_URL"]
    httpx.post(f"{sandbox_url}/admin/reset?catalog=defaults", timeout=10).raise_for_status()
    sync = sync_group.spawn()
    assert sync.process is not None
    assert sync.process.wait(60) == 2
    assert "cdcbridge_source_id" in sync.log() and "cdcbridge platform setup" in sync.log()
