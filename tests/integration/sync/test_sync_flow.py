"""Postgres -> Debezium -> Kafka -> ``cdcbridge sync`` -> sandbox, on the real stack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from local_stack.endpoints import StackEndpoints
from streams.mapping.mapping_files import MAPPINGS_DIR
from streams.sync import kafka_boundary
from tests.fakes.private_sandbox import Sandbox
from tests.fakes.processes import wait_for
from tests.fakes.sync_process import SyncGroup, unique_email

pytestmark = pytest.mark.integration

Conn = psycopg.Connection[tuple[Any, ...]]


def test_inserts_updates_deletes_end_up_in_the_sandbox_as_mapped(
    sync_group: SyncGroup, sandbox: Sandbox, pg: Conn
) -> None:
    sync = sync_group.spawn()
    email, moved = unique_email("flow"), unique_email("moved")
    row = pg.execute(
        "INSERT INTO customers (email, first_name, last_name, plan, country, lifecycle_stage, "
        "mrr) VALUES (%s, 'Zoë', 'Ñúñez', 'starter', 'de', 'trial', 42.50) RETURNING id",
        (email,),
    ).fetchone()
    assert row is not None
    wait_for(lambda: email in sandbox.contacts(), 60, "the insert to reach the sandbox")
    contact = sandbox.contacts()[email]
    assert contact["firstname"] == "Zoë" and contact["lastname"] == "Ñúñez"
    assert contact["cdcbridge_source_id"] == str(row[0])
    assert contact["country"] == "DE"  # normalised as the mapping says
    assert contact["lifecyclestage"] == "opportunity"  # trial -> opportunity
    assert contact["cdcbridge_mrr"] == "42.50"

    pg.execute("UPDATE customers SET plan = 'pro' WHERE id = %s", (row[0],))
    wait_for(lambda: sandbox.contacts()[email].get("cdcbridge_plan") == "pro", 30, "the update")

    pg.execute("UPDATE customers SET email = %s WHERE id = %s", (moved, row[0]))
    wait_for(lambda: moved in sandbox.contacts(), 30, "the email change")
    contacts = sandbox.contacts()
    assert email not in contacts, "an email change must move the contact, not copy it"
    assert contacts[moved]["cdcbridge_plan"] == "pro"

    pg.execute("DELETE FROM customers WHERE id = %s", (row[0],))
    wait_for(lambda: moved not in sandbox.contacts(), 30, "the delete to archive the contact")
    assert sync.stop() == 0, sync.log()
    assert sync_group.lag() == 0


def test_poison_row_is_dead_lettered_and_replayed_after_the_mapping_is_fixed(
    sync_group: SyncGroup, sandbox: Sandbox, pg: Conn, stack: StackEndpoints, tmp_path: Path
) -> None:
    broken = tmp_path / "customers.yaml"
    real = (MAPPINGS_DIR / "customers.yaml").read_text()
    broken.write_text(
        real.replace("[trim, empty_to_null, country_alpha2]", "[trim, empty_to_null]")
    )
    sync = sync_group.spawn(CDCBRIDGE_SYNC_TABLE_MAPPING_FILE=str(broken))
    poison, fine = unique_email("poison"), unique_email("fine")
    pg.execute("INSERT INTO customers (email, country) VALUES (%s, 'de')", (poison,))
    pg.execute("INSERT INTO customers (email, country) VALUES (%s, 'DE')", (fine,))
    wait_for(lambda: fine in sandbox.contacts(), 60, "the valid row to flow")
    wait_for(lambda: sync_group.lag() == 0, 30, "every offset to be committed")
    letters = list(kafka_boundary.read_topic(stack.bootstrap_servers, sync_group.dlq_topic))
    assert len(letters) == 1
    [letter] = letters
    assert letter.headers["error_class"] == b"InvalidRecord"
    assert b'"de"' in letter.headers["error_message"]  # names the offending value
    assert letter.headers["original_topic"] == b"cdc.public.customers"
    assert {"trace_id", "original_partition", "original_offset"} <= set(letter.headers)
    assert poison not in sandbox.contacts()
    assert sync.stop() == 0

    fixed = sync_group.spawn()  # the mapping is fixed: the default file
    listed = cli(sync_group, "dlq", "list", "--since", "10m", "--filter", "country")
    assert [json.loads(line)["headers"]["error_class"] for line in listed] == ["InvalidRecord"]
    replayed = cli(sync_group, "dlq", "replay", "--filter", "error_class=InvalidRecord")
    assert json.loads(replayed[0]) == {"replayed": 1}
    wait_for(lambda: poison in sandbox.contacts(), 60, "the replayed record")
    assert sandbox.contacts()[poison]["country"] == "DE"
    assert fixed.stop() == 0


def cli(group: SyncGroup, *args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "cdcbridge", *args],
        env=group.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.splitlines()


def test_breaker_stops_the_service_when_most_records_are_invalid(
    sync_group: SyncGroup, sandbox: Sandbox, pg: Conn, tmp_path: Path
) -> None:
    broken = tmp_path / "customers.yaml"
    real = (MAPPINGS_DIR / "customers.yaml").read_text()
    broken.write_text(
        real.replace("[trim, empty_to_null, country_alpha2]", "[trim, empty_to_null]")
    )
    sync = sync_group.spawn(
        CDCBRIDGE_SYNC_TABLE_MAPPING_FILE=str(broken), CDCBRIDGE_SYNC_BREAKER_MIN_RECORDS="20"
    )
    pg.execute(
        "INSERT INTO customers (email, country) "
        "SELECT 'breaker-' || g || '-' || %s || '@example.com', 'de' FROM generate_series(1, 40) g",
        (unique_email("b").split("@")[0],),
    )
    assert sync.process is not None
    wait_for(lambda: not sync.alive(), 60, "the breaker to stop the service")
    assert sync.process.returncode == 2
    assert "broken mapping" in sync.log()
    assert sync_group.lag() >= 20, "the invalid records that tripped it must not be committed"
