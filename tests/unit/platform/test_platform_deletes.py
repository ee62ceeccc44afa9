"""The delete policy resolved per vendor (``streams.platform.deletes``) and the pure parts of
HubSpot's consent calls (``hubspot_consent``)."""

from __future__ import annotations

import pytest

from streams.contracts import DeleteMechanism, RecordOutcome, RecordResult, VendorRecord
from streams.platform.deletes import DeletePlan, DeletePolicy, UnsupportedDeletePolicy
from streams.platform.hubspot import HubSpotAdapter
from streams.platform.hubspot_consent import (
    absent_is_done,
    parse_unsubscribe_all,
    unsubscribe_all_body,
)
from streams.platform.marketo import MarketoAdapter

pytestmark = pytest.mark.unit

RESOLVED = [
    ("hubspot", DeletePolicy.ARCHIVE, None, DeleteMechanism.ARCHIVE, {}),
    ("hubspot", DeletePolicy.UNSUBSCRIBE, None, DeleteMechanism.UNSUBSCRIBE_ALL, {}),
    ("hubspot", DeletePolicy.UNSUBSCRIBE, {"x_optout": True}, DeleteMechanism.FIELD_UPDATE,
     {"x_optout": True}),
    ("marketo", DeletePolicy.ARCHIVE, None, DeleteMechanism.FIELD_UPDATE, {"unsubscribed": True}),
    ("marketo", DeletePolicy.UNSUBSCRIBE, None, DeleteMechanism.FIELD_UPDATE,
     {"unsubscribed": True}),
    ("marketo", DeletePolicy.UNSUBSCRIBE, {"cdcbridgeDeleted": True},
     DeleteMechanism.FIELD_UPDATE, {"cdcbridgeDeleted": True}),
    ("marketo", DeletePolicy.HARD_DELETE, None, DeleteMechanism.HARD_DELETE, {}),
    ("marketo", DeletePolicy.IGNORE, None, None, {}),
]  # fmt: skip


@pytest.mark.parametrize("platform,policy,configured,mechanism,properties", RESOLVED)
def test_each_policy_resolves_to_the_vendors_mechanism(
    platform: str,
    policy: DeletePolicy,
    configured: dict[str, bool] | None,
    mechanism: DeleteMechanism | None,
    properties: dict[str, bool],
) -> None:
    plan = DeletePlan.resolve(platform, policy, configured)
    assert plan.mechanism is mechanism
    assert dict(plan.properties) == properties


def test_no_default_policy_destroys_data() -> None:
    for platform in ("hubspot", "marketo"):
        plan = DeletePlan.resolve(platform, DeletePolicy.ARCHIVE)
        assert plan.mechanism is not DeleteMechanism.HARD_DELETE


def test_each_adapter_offers_what_its_policies_resolve_to() -> None:
    assert DeleteMechanism.HARD_DELETE not in HubSpotAdapter.supported_deletes
    assert DeleteMechanism.ARCHIVE not in MarketoAdapter.supported_deletes  # Marketo has none
    for policy in (DeletePolicy.ARCHIVE, DeletePolicy.UNSUBSCRIBE):
        assert DeletePlan.resolve("hubspot", policy).mechanism in HubSpotAdapter.supported_deletes
    for policy in (DeletePolicy.ARCHIVE, DeletePolicy.UNSUBSCRIBE, DeletePolicy.HARD_DELETE):
        assert DeletePlan.resolve("marketo", policy).mechanism in MarketoAdapter.supported_deletes
    with pytest.raises(UnsupportedDeletePolicy, match="not offered for HubSpot"):
        DeletePlan.resolve("hubspot", DeletePolicy.HARD_DELETE)


def test_unsubscribe_all_answers_map_to_records() -> None:
    records = [
        VendorRecord("k1", "A@example.com", {}),
        VendorRecord("k2", "bad", {}),
        VendorRecord("k3", "c@example.com", {}),
    ]
    assert unsubscribe_all_body(records) == {"inputs": ["A@example.com", "bad", "c@example.com"]}
    doc = {
        "results": [{"subscriberIdString": "a@example.com", "statuses": []}],
        "errors": [
            {"category": "VALIDATION_ERROR", "message": "bad email", "context": {"ids": ["bad"]}}
        ],
    }
    found = parse_unsubscribe_all(doc, records)
    assert found["a@example.com"].outcome is RecordOutcome.OK
    assert found["bad"].outcome is RecordOutcome.INVALID
    assert found["bad"].error_message == "bad email"
    assert "c@example.com" not in found  # not mentioned: no result (the caller retries it)


def test_a_delete_time_update_of_an_absent_contact_is_done() -> None:
    records = [VendorRecord("k1", "gone@example.com", {}), VendorRecord("k2", "x@example.com", {})]
    answers = {
        "gone@example.com": RecordResult(
            "k1", RecordOutcome.INVALID, error_code="OBJECT_NOT_FOUND"
        ),
        "x@example.com": RecordResult("k2", RecordOutcome.INVALID, error_code="VALIDATION_ERROR"),
    }
    done = absent_is_done(records, answers)
    assert done["gone@example.com"].outcome is RecordOutcome.OK
    assert done["x@example.com"].outcome is RecordOutcome.INVALID
