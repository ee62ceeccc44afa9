"""A third table with no code (schemas/README.md, "Add a table"), on the real stack: SQL, a
mapping file in CDCBRIDGE_MAPPINGS_DIR and ``cdcbridge connectors apply``; then one ``sync``
carries customers and subscriptions, each table by its own rules, to the sandbox."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from local_stack.connector_setup import ensure_connector_running
from local_stack.endpoints import StackEndpoints
from streams.sync import kafka_boundary
from tests.conftest import CONNECTOR_FILE
from tests.fakes.private_sandbox import Sandbox
from tests.fakes.processes import wait_for
from tests.fakes.sync_process import SyncGroup, unique_email

pytestmark = pytest.mark.integration

Conn = psycopg.Connection[tuple[Any, ...]]
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "add_a_table"
TOPIC = "cdc.public.subscriptions"


@pytest.fixture
def mappings_dir(tmp_path: Path, pg: Conn, stack: StackEndpoints) -> Iterator[Path]:
    """The user's side of adding a table: its SQL and its mapping file, nothing else."""
    pg.execute((EXAMPLE / "subscriptions.sql").read_text())
    folder = tmp_path / "mappings"
    folder.mkdir()
    shutil.copy(EXAMPLE / "subscriptions.yaml", folder)
    yield folder
    # leave the connector as the other tests expect it (the package's tables)
    ensure_connector_running(stack.connect_url, Path(CONNECTOR_FILE))


def cdcbridge(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cdcbridge", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_a_table_added_with_sql_and_a_mapping_file_flows_end_to_end(
    sync_group: SyncGroup, sandbox: Sandbox, pg: Conn, stack: StackEndpoints, mappings_dir: Path
) -> None:
    env = {**sync_group.env, "CDCBRIDGE_MAPPINGS_DIR": str(mappings_dir)}
    applied = cdcbridge(
        env, "connectors", "apply", "--connect-url", stack.connect_url,
        "--bootstrap-servers", stack.bootstrap_servers,
    )  # fmt: skip
    assert applied.returncode == 0, applied.stderr
    config = requests.get(
        f"{stack.connect_url}/connectors/cdcbridge-postgres-source/config", timeout=10
    ).json()
    assert "public.subscriptions" in config["table.include.list"].split(",")
    setup = cdcbridge(env, "platform", "setup")  # creates cdcbridge_subscription_* properties
    assert setup.returncode == 0, setup.stdout + setup.stderr
    sync_group.start_at_end(TOPIC)  # (applied created the topic)
    sync = sync_group.spawn(CDCBRIDGE_MAPPINGS_DIR=str(mappings_dir))

    emails = [unique_email("third") for _ in range(20)]
    ids: dict[str, int] = {}
    for index, email in enumerate(emails):  # interleaved: the same email in both tables
        pg.execute("INSERT INTO customers (email, plan) VALUES (%s, 'starter')", (email,))
        row = pg.execute(
            "INSERT INTO subscriptions (customer_email, plan, status) VALUES (%s, %s, %s) "
            "RETURNING id",
            (email.upper(), f"Plan-{index}", "trial" if index % 2 else "active"),
        ).fetchone()
        assert row is not None
        ids[email] = int(row[0])

    def all_arrived() -> bool:
        contacts = sandbox.contacts()
        return all(
            contacts.get(e, {}).get("cdcbridge_subscription_plan") and e in contacts
            and contacts[e].get("cdcbridge_plan") == "starter"
            for e in emails
        )

    wait_for(all_arrived, 90, "customers and their subscriptions to reach the sandbox")
    contacts = sandbox.contacts()
    for index, email in enumerate(emails):
        assert contacts[email]["cdcbridge_subscription_plan"] == f"plan-{index}"
        assert contacts[email]["cdcbridge_subscription_status"] == (
            "trialing" if index % 2 else "active"
        )
        assert contacts[email]["cdcbridge_plan"] == "starter"  # the customers table's own

    first = emails[0]
    pg.execute("UPDATE subscriptions SET status = 'cancelled' WHERE id = %s", (ids[first],))
    wait_for(
        lambda: sandbox.contacts()[first].get("cdcbridge_subscription_status") == "canceled",
        60, "the subscription update",
    )  # fmt: skip
    pg.execute("DELETE FROM subscriptions WHERE id = %s", (ids[first],))
    poison = unique_email("poison-sub")
    pg.execute(
        "INSERT INTO subscriptions (customer_email, plan, status) VALUES (%s, %s, 'active')",
        (poison, "x" * 101),  # longer than the table's canonical schema allows
    )
    marker = unique_email("after")
    pg.execute("INSERT INTO customers (email) VALUES (%s)", (marker,))
    wait_for(lambda: marker in sandbox.contacts(), 60, "a later customer")
    wait_for(
        lambda: sync_group.lag(TOPIC) == 0 and sync_group.lag() == 0, 60, "both topics committed"
    )
    # the delete was ignored (target.on_delete): the contact keeps its subscription properties
    assert sandbox.contacts()[first]["cdcbridge_subscription_status"] == "canceled"
    assert poison not in sandbox.contacts()
    letters = list(kafka_boundary.read_topic(stack.bootstrap_servers, sync_group.dlq_topic))
    assert [letter.headers["source_table"] for letter in letters] == [b"public.subscriptions"]
    assert letters[0].headers["original_topic"] == TOPIC.encode()
    assert sync.stop() == 0, sync.log()

    # `cdcbridge map` reads the table's captured envelopes as sync does
    captured = [
        json.dumps({"topic": r.topic, "key": (r.key or b"").decode(), "value": r.value.decode()})
        for r in kafka_boundary.read_topic(stack.bootstrap_servers, TOPIC)
        if r.value is not None and f'"id":{ids[emails[1]]},'.encode() in r.value
    ]
    assert captured, "the subscription's change record"
    mapped = cdcbridge(env, "map", "--target", "hubspot", stdin="\n".join(captured) + "\n")
    assert mapped.returncode == 0, mapped.stdout + mapped.stderr
    document = json.loads(mapped.stdout.splitlines()[0])["ok"]
    assert document["id_value"] == emails[1] and document["object_type"] == "contacts"
    assert document["properties"]["cdcbridge_subscription_status"] == "trialing"

    # `cdcbridge audit --table` reads the contacts back and compares the table's own properties
    kept = sorted(ids[e] for e in emails[1:])
    audited = cdcbridge(
        {**env, "CDCBRIDGE_PG_DSN": stack.pg_dsn},
        "audit", "--table", "public.subscriptions", "--all", "--json", "--no-deletes",
        "--where", f"id BETWEEN {kept[0]} AND {kept[-1]}",
    )  # fmt: skip
    assert audited.returncode == 0, audited.stdout + audited.stderr
    report = json.loads(audited.stdout)
    assert report["passed"] is True and report["checked"] == len(kept), report
