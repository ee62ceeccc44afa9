"""One database change followed by its trace id, with grep: the id the sync derives from the
change's position in the WAL is on the sync's log line for the batch that delivered it."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import psycopg
import pytest

from local_stack.endpoints import StackEndpoints
from streams.mapping.change_decoder import decode_change
from streams.sync import kafka_boundary
from tests.fakes.private_sandbox import Sandbox
from tests.fakes.processes import wait_for
from tests.fakes.sync_process import TOPIC, SyncGroup, unique_email

pytestmark = pytest.mark.integration


def test_one_change_is_followed_by_its_trace_id(
    sync_group: SyncGroup, sandbox: Sandbox, stack: StackEndpoints
) -> None:
    sync = sync_group.spawn()
    email = unique_email("follow")
    with psycopg.connect(stack.pg_dsn, autocommit=True) as pg:
        pg.execute("INSERT INTO customers (email, country) VALUES (%s, 'DE')", (email,))
    wait_for(lambda: email in sandbox.contacts(), 60, "the change to reach the sandbox")
    [record] = [
        r for r in kafka_boundary.read_topic(stack.bootstrap_servers, TOPIC)
        if r.value is not None and email.encode() in r.value
    ]  # fmt: skip
    change = decode_change(TOPIC, record.key, record.value)
    trace = change.meta.trace_id  # type: ignore[union-attr]
    assert sync.stop() == 0

    found = subprocess.run(["grep", "-F", trace, str(sync.log_path)], capture_output=True,
                           text=True, check=False)  # fmt: skip
    lines: list[dict[str, Any]] = [json.loads(line) for line in found.stdout.splitlines()]
    delivered = [line for line in lines if line["message"] == "batch delivered"]
    assert delivered, sync.log()
    assert trace in delivered[0]["trace_ids"]
