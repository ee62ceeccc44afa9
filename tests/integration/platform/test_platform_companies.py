"""Both adapters' companies and contact → company associations against the sandbox: upsert by
the unique company key, per-record refusals, an association whose company is not there yet
answers RETRY ``COMPANY_NOT_FOUND``, moving and detaching, and company deletes."""

from __future__ import annotations

from typing import Any

import pytest

from streams.contracts import (
    COMPANIES,
    COMPANY_LINK,
    COMPANY_NOT_FOUND,
    CONTACT_COMPANY,
    DeleteMechanism,
    FatalPlatformError,
    PlatformAdapter,
    RecordOutcome,
    TransientPlatformError,
    VendorRecord,
)
from tests.fakes.platform_sandbox import Sandbox, hubspot_adapter, marketo_adapter

pytestmark = pytest.mark.integration

COMPANY_FIELDS = {
    "hubspot": {"name": "name", "bad": "no_such_property"},
    "marketo": {"name": "company", "bad": "noSuchField"},
}


def adapter(sandbox: Sandbox, platform: str) -> PlatformAdapter:
    return hubspot_adapter(sandbox) if platform == "hubspot" else marketo_adapter(sandbox)


def company(platform: str, source_id: str, name: str) -> VendorRecord:
    field = COMPANY_FIELDS[platform]["name"]
    return VendorRecord(source_id, source_id, {field: name}, object_type=COMPANIES)


def contact(email: str) -> VendorRecord:
    return VendorRecord(email.split("@")[0], email, {})


def link(email: str, company_id: str | None) -> VendorRecord:
    return VendorRecord(
        email.split("@")[0], email, {COMPANY_LINK: company_id}, object_type=CONTACT_COMPANY
    )


def contacts_of(sandbox: Sandbox, platform: str) -> list[dict[str, Any]]:
    listing: list[dict[str, Any]] = sandbox.admin.get("/admin/contacts").json()[platform]
    return listing


def links(sandbox: Sandbox, platform: str) -> dict[str, str]:
    """Contact email → the company's source id, as the platform keeps the association."""
    doc = sandbox.admin.get("/admin/associations").json()[platform]
    if platform == "marketo":
        leads = {str(c["id"]): c["properties"]["email"] for c in contacts_of(sandbox, platform)}
        return {leads[a["leadId"]]: a["externalCompanyId"] for a in doc}
    contacts = {str(c["id"]): c["properties"]["email"] for c in contacts_of(sandbox, platform)}
    listing = sandbox.admin.get("/admin/companies").json()["hubspot"]
    companies = {str(c["id"]): c["properties"]["cdcbridge_company_id"] for c in listing}
    return {contacts[a["contactId"]]: companies[a["companyId"]] for a in doc}


@pytest.mark.parametrize("platform", ["hubspot", "marketo"])
def test_company_upsert_by_our_key_with_per_record_refusals(
    sandbox: Sandbox, platform: str
) -> None:
    vendor = adapter(sandbox, platform)
    bad_field = COMPANY_FIELDS[platform]["bad"]
    bad = VendorRecord("2", "2", {bad_field: "x"}, object_type=COMPANIES)
    first = vendor.upsert_batch([company(platform, "1", "Acme"), bad])
    assert [r.outcome for r in first] == [RecordOutcome.OK, RecordOutcome.INVALID]
    assert first[0].created is True
    again = vendor.upsert_batch([company(platform, "1", "Acme GmbH")])
    assert again[0].created is False and again[0].platform_id == first[0].platform_id
    stored = sandbox.admin.get("/admin/companies").json()[platform]
    assert [c["properties"][COMPANY_FIELDS[platform]["name"]] for c in stored] == ["Acme GmbH"]


@pytest.mark.parametrize("platform", ["hubspot", "marketo"])
def test_association_waits_for_its_company_then_moves_and_detaches(
    sandbox: Sandbox, platform: str
) -> None:
    vendor = adapter(sandbox, platform)
    vendor.upsert_batch([contact("ana@example.com"), contact("bo@example.com")])
    early = vendor.upsert_batch([link("ana@example.com", "10"), link("bo@example.com", None)])
    assert early[0].outcome is RecordOutcome.RETRY and early[0].error_code == COMPANY_NOT_FOUND
    assert early[1].outcome is RecordOutcome.OK  # nothing to detach
    vendor.upsert_batch([company(platform, "10", "Ten"), company(platform, "20", "Twenty")])
    done = vendor.upsert_batch([link("ana@example.com", "10"), link("bo@example.com", "10")])
    assert [r.outcome for r in done] == [RecordOutcome.OK, RecordOutcome.OK]
    assert links(sandbox, platform) == {"ana@example.com": "10", "bo@example.com": "10"}
    vendor.upsert_batch([link("ana@example.com", "20"), link("bo@example.com", None)])
    assert links(sandbox, platform) == {"ana@example.com": "20"}  # moved, and detached
    gone = vendor.upsert_batch([link("nobody@example.com", "20")])
    assert gone[0].outcome is RecordOutcome.INVALID and gone[0].error_code == "CONTACT_NOT_FOUND"


@pytest.mark.parametrize(
    ("platform", "mechanism"),
    [("hubspot", DeleteMechanism.ARCHIVE), ("marketo", DeleteMechanism.HARD_DELETE)],
)
def test_company_delete_removes_it_and_its_associations(
    sandbox: Sandbox, platform: str, mechanism: DeleteMechanism
) -> None:
    vendor = adapter(sandbox, platform)
    vendor.upsert_batch([contact("ana@example.com")])
    vendor.upsert_batch([company(platform, "10", "Ten")])
    vendor.upsert_batch([link("ana@example.com", "10")])
    removed = vendor.remove_batch(
        [company(platform, "10", "Ten"), company(platform, "99", "-")], mechanism
    )
    assert [r.outcome for r in removed] == [RecordOutcome.OK, RecordOutcome.OK]  # 99: nothing
    assert sandbox.admin.get("/admin/companies").json()[platform] == []
    assert links(sandbox, platform) == {}
    with pytest.raises(FatalPlatformError):
        vendor.remove_batch([company(platform, "10", "Ten")], DeleteMechanism.FIELD_UPDATE)


def test_one_call_never_mixes_object_types(sandbox: Sandbox) -> None:
    with pytest.raises(FatalPlatformError, match="mixes object types"):
        hubspot_adapter(sandbox).upsert_batch(
            [contact("a@example.com"), company("hubspot", "1", "A")]
        )


def calls(sandbox: Sandbox) -> dict[str, int]:
    """Endpoint → requests answered so far."""
    by_endpoint = sandbox.admin.get("/admin/requests").json()["by_endpoint"]
    return {endpoint: sum(statuses.values()) for endpoint, statuses in by_endpoint.items()}


def test_new_contacts_joining_companies_this_process_wrote_cost_one_call(
    sandbox: Sandbox,
) -> None:
    """Doing less: contact and company ids come from our own upserts, and a contact the upsert
    created has no association to read; a later move reads the current association again."""
    vendor = hubspot_adapter(sandbox)
    vendor.upsert_batch([company("hubspot", "10", "Ten"), company("hubspot", "20", "Twenty")])
    people = [f"p{n}@example.com" for n in range(5)]
    vendor.upsert_batch([contact(email) for email in people])
    before = calls(sandbox)
    done = vendor.upsert_batch([link(email, "10") for email in people])
    assert {r.outcome for r in done} == {RecordOutcome.OK}
    spent = {k: v - before.get(k, 0) for k, v in calls(sandbox).items() if v != before.get(k)}
    assert spent == {"POST /crm/v4/associations/{from}/{to}/batch/associate/default": 1}
    vendor.upsert_batch([link(people[0], "20")])
    assert links(sandbox, "hubspot") == {**dict.fromkeys(people, "10"), people[0]: "20"}


def test_a_contact_deleted_behind_our_back_is_read_again(sandbox: Sandbox) -> None:
    """A remembered contact id gone stale (archived in HubSpot by hand, then re-created with a
    new id): the associate answer's error drops what was remembered, and the retry reads."""
    vendor = hubspot_adapter(sandbox)
    vendor.upsert_batch([company("hubspot", "10", "Ten")])
    vendor.upsert_batch([contact("ana@example.com")])
    other = hubspot_adapter(sandbox)  # another writer, with its own memory
    other.remove_batch([contact("ana@example.com")], DeleteMechanism.ARCHIVE)
    other.upsert_batch([contact("ana@example.com")])
    with pytest.raises(TransientPlatformError):
        vendor.upsert_batch([link("ana@example.com", "10")])
    again = vendor.upsert_batch([link("ana@example.com", "10")])
    assert again[0].outcome is RecordOutcome.OK
    assert links(sandbox, "hubspot") == {"ana@example.com": "10"}
