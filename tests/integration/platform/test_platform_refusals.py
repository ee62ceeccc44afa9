"""A request the vendor refuses for its input is split until the record at fault is isolated:
that record is INVALID with the vendor's answer, the others are delivered, nothing is retried
forever (issue #18 items 3 and 4). The sandbox refuses as each vendor does (refusals.py)."""

from __future__ import annotations

import pytest

from cdcbridge.metrics import RecordingMetrics
from streams.contracts import DeleteMechanism, RecordOutcome, VendorRecord
from tests.fakes.platform_sandbox import Sandbox, hubspot_adapter, marketo_adapter

pytestmark = pytest.mark.integration

UPSERT = "POST /crm/v3/objects/contacts/batch/upsert"
LEADS = "POST /rest/v1/leads.json"
DELETE = "POST /rest/v1/leads/delete.json"


def batch(size: int, refused: int, first_name: str = "firstname") -> list[VendorRecord]:
    """``first_name`` is the vendor's property: HubSpot ``firstname``, Marketo ``firstName``
    (the sandbox refuses fields outside the vendor's catalog, as the vendors do)."""
    return [
        VendorRecord(
            key=f"k{i}",
            id_value=f"{'refuse-me' if i == refused else 'fine'}{i}@example.com",
            properties={first_name: f"n{i}"},
        )
        for i in range(size)
    ]


@pytest.mark.parametrize("status", [400, 404, 405, 409, 410, 422])
def test_hubspot_isolates_the_refused_record(sandbox: Sandbox, status: int) -> None:
    sandbox.knobs(refuse_input="refuse-me", refuse_status=status)
    metrics = RecordingMetrics()
    adapter = hubspot_adapter(sandbox, metrics=metrics)

    results = adapter.upsert_batch(batch(10, refused=6))

    outcomes = [r.outcome for r in results]
    assert outcomes == [RecordOutcome.OK] * 6 + [RecordOutcome.INVALID] + [RecordOutcome.OK] * 3
    assert results[6].error_code == str(status)
    assert "refuse-me" in (results[6].error_message or "")  # the vendor's answer
    assert len(sandbox.stored("hubspot")) == 9
    calls = sandbox.endpoint(UPSERT)
    assert calls[str(status)] <= 2 * 4  # about 2·log2(10) refused calls, never a retry loop
    assert metrics.total("cdcbridge_platform_refused_records_total") == 1


@pytest.mark.parametrize("code", ["1003", "1011", "609"])
def test_marketo_isolates_the_record_behind_a_request_error(sandbox: Sandbox, code: str) -> None:
    """A request-level error caused by the input used to stop Marketo sync for ever."""
    sandbox.knobs(refuse_input="refuse-me", refuse_marketo_code=code)
    adapter = marketo_adapter(sandbox)

    results = adapter.upsert_batch(batch(10, refused=3, first_name="firstName"))

    assert [r.key for r in results if r.outcome is RecordOutcome.INVALID] == ["k3"]
    assert results[3].error_code == code
    assert len(sandbox.stored("marketo")) == 9


def test_marketo_delete_refused_with_610_dead_letters_only_that_record(sandbox: Sandbox) -> None:
    adapter = marketo_adapter(sandbox)
    records = batch(4, refused=1, first_name="firstName")
    created = adapter.upsert_batch(records)
    assert len(sandbox.stored("marketo")) == 4
    refused_id = created[1].platform_id
    sandbox.knobs(refuse_input=f'"id": {refused_id}}}', refuse_marketo_code="610")

    results = adapter.remove_batch(records, DeleteMechanism.HARD_DELETE)

    assert [r.outcome for r in results] == [
        RecordOutcome.OK, RecordOutcome.INVALID, RecordOutcome.OK, RecordOutcome.OK,
    ]  # fmt: skip
    assert results[1].error_code == "610"
    assert sorted(sandbox.stored("marketo")) == ["refuse-me1@example.com"]


def test_hubspot_email_change_refused_by_batch_update_does_not_block_the_batch(
    sandbox: Sandbox,
) -> None:
    """The issue's case: ``batch/update`` answered 404 for ever and nothing behind it moved."""
    adapter = hubspot_adapter(sandbox)
    [created] = adapter.upsert_batch([VendorRecord("c1", "old@example.com", {"firstname": "A"})])
    sandbox.knobs(refuse_input=f'"id": "{created.platform_id}"', refuse_status=404)
    moved = VendorRecord("c1", "new@example.com", {"firstname": "A"}, "", "old@example.com")
    plain = VendorRecord("c2", "plain@example.com", {"firstname": "B"})

    results = adapter.upsert_batch([moved, plain])

    assert [r.outcome for r in results] == [RecordOutcome.INVALID, RecordOutcome.OK]
    assert results[0].error_code == "404"
    assert sorted(sandbox.stored("hubspot")) == ["old@example.com", "plain@example.com"]
    assert sandbox.endpoint("POST /crm/v3/objects/contacts/batch/update") == {"404": 2}
