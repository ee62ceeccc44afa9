"""Exactly one token refresh when 8 concurrent callers see their token rejected."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from streams.contracts import RecordOutcome, RecordResult, VendorRecord
from streams.platform.hubspot import HubSpotAdapter
from streams.platform.marketo import MarketoAdapter
from tests.fakes.platform_sandbox import (
    Sandbox,
    hubspot_adapter,
    marketo_adapter,
    marketo_auth,
)

pytestmark = pytest.mark.integration

CALLERS = 8


def _together(adapter: HubSpotAdapter | MarketoAdapter) -> list[RecordResult]:
    barrier = threading.Barrier(CALLERS)

    def call(i: int) -> RecordResult:
        barrier.wait(timeout=10)
        email = f"c{i}@example.com"
        return adapter.upsert_batch([VendorRecord(key=email, id_value=email, properties={})])[0]

    with ThreadPoolExecutor(CALLERS) as pool:
        return list(pool.map(call, range(CALLERS)))


def test_one_refresh_after_401_under_8_callers(sandbox: Sandbox) -> None:
    # The sandbox's HubSpot routes also take its OAuth tokens: 401 when they expire.
    adapter = hubspot_adapter(sandbox, auth=marketo_auth(sandbox, style="post_basic"))
    adapter.upsert_batch([VendorRecord(key="w", id_value="warm@example.com", properties={})])
    sandbox.admin.post("/admin/tokens/expire").raise_for_status()

    results = _together(adapter)

    assert [r.outcome for r in results] == [RecordOutcome.OK] * CALLERS
    assert sandbox.endpoint("POST /identity/oauth/token") == {"200": 2}  # initial + one refresh
    assert sandbox.endpoint("POST /crm/v3/objects/contacts/batch/upsert").get("401", 0) >= 1


def test_one_refresh_after_602_under_8_callers(sandbox: Sandbox) -> None:
    adapter = marketo_adapter(sandbox)
    adapter.upsert_batch([VendorRecord(key="w", id_value="warm@example.com", properties={})])
    sandbox.admin.post("/admin/tokens/expire").raise_for_status()

    results = _together(adapter)

    assert [r.outcome for r in results] == [RecordOutcome.OK] * CALLERS
    assert sandbox.endpoint("GET /identity/oauth/token") == {"200": 2}
    assert sandbox.endpoint("POST /rest/v1/leads.json").get("200:602", 0) >= 1
