"""Deletes under each policy, email changes and property provisioning, for HubSpot and Marketo,
against the sandbox (which refuses writes as the vendors do)."""

from __future__ import annotations

import json

import pytest

from cdcbridge.cli import main
from local_stack.sandbox_setup import provision_sandbox, sandbox_settings
from streams.contracts import PropertyValue, RecordOutcome, VendorRecord
from streams.platform import build_catalog
from streams.platform.deletes import DeletePlan, DeletePolicy, UnsupportedDeletePolicy
from streams.platform.provisioning import missing_properties, required_properties, setup
from tests.fakes.platform_sandbox import Sandbox, hubspot_adapter, marketo_adapter

pytestmark = pytest.mark.integration


def record(
    email: str, key: str = "", previous: str | None = None, **props: PropertyValue
) -> VendorRecord:
    return VendorRecord(key or email, email, props, previous_id_value=previous)


def marked(email: str, plan: DeletePlan) -> VendorRecord:
    """The record a delete sends: the plan's properties (as ``BatchDeliverer`` builds it)."""
    return VendorRecord(email, email, plan.properties)


def emails(sandbox: Sandbox, platform: str) -> list[str]:
    return sorted(sandbox.stored(platform))


def test_hubspot_archive_is_the_default_and_keeps_data_restorable(sandbox: Sandbox) -> None:
    adapter = hubspot_adapter(sandbox)
    adapter.upsert_batch([record("a@example.com"), record("b@example.com")])
    plan = DeletePlan.resolve("hubspot", DeletePolicy.ARCHIVE)
    results = plan.send(adapter, [record("a@example.com"), record("never@example.com")])
    assert [r.outcome for r in results] == [RecordOutcome.OK, RecordOutcome.OK]
    assert emails(sandbox, "hubspot") == ["b@example.com"]
    assert sandbox.endpoint("POST /crm/v3/objects/contacts/batch/archive") == {"204": 1}


def test_hubspot_unsubscribe_goes_through_communication_preferences(sandbox: Sandbox) -> None:
    adapter = hubspot_adapter(sandbox)
    adapter.upsert_batch([record("a@example.com", firstname="A")])
    plan = DeletePlan.resolve("hubspot", DeletePolicy.UNSUBSCRIBE)
    results = plan.send(adapter, [record("a@example.com", key="k1")])
    assert results[0].outcome is RecordOutcome.OK and results[0].key == "k1"
    label = "POST /communication-preferences/v4/statuses/batch/unsubscribe-all"
    assert sandbox.endpoint(label) == {"200": 1}
    assert emails(sandbox, "hubspot") == ["a@example.com"]  # the contact stays
    assert sandbox.stored("hubspot")["a@example.com"].get("hs_email_optout") is None


def test_hubspot_unsubscribe_by_a_configured_custom_property_never_creates(
    sandbox: Sandbox,
) -> None:
    adapter = hubspot_adapter(sandbox)
    adapter.upsert_batch([record("a@example.com")])
    plan = DeletePlan.resolve(
        "hubspot", DeletePolicy.UNSUBSCRIBE, {"cdcbridge_marketing_consent": False}
    )
    records = [marked("a@example.com", plan), marked("ghost@example.com", plan)]
    results = plan.send(adapter, records)
    assert [r.outcome for r in results] == [RecordOutcome.OK, RecordOutcome.OK]
    stored = sandbox.stored("hubspot")
    assert stored["a@example.com"]["cdcbridge_marketing_consent"] == "false"
    assert "ghost@example.com" not in stored  # a delete never creates a contact


def test_hubspot_hard_delete_is_refused_at_startup() -> None:
    with pytest.raises(UnsupportedDeletePolicy, match="archive"):
        DeletePlan.resolve("hubspot", DeletePolicy.HARD_DELETE)


def test_marketo_default_delete_marks_unsubscribed_and_keeps_the_lead(sandbox: Sandbox) -> None:
    adapter = marketo_adapter(sandbox)
    adapter.upsert_batch([record("a@example.com", firstName="A")])
    for policy in (DeletePolicy.ARCHIVE, DeletePolicy.UNSUBSCRIBE):
        plan = DeletePlan.resolve("marketo", policy)
        assert dict(plan.properties) == {"unsubscribed": True}
        records = [marked("a@example.com", plan), marked("ghost@example.com", plan)]
        results = plan.send(adapter, records)
        assert [r.outcome for r in results] == [RecordOutcome.OK, RecordOutcome.OK]
    assert emails(sandbox, "marketo") == ["a@example.com"]  # kept; the ghost not created
    assert sandbox.stored("marketo")["a@example.com"]["unsubscribed"] == "true"
    assert sandbox.endpoint("POST /rest/v1/leads/delete.json") == {}


def test_marketo_hard_delete_only_when_asked_for(sandbox: Sandbox) -> None:
    adapter = marketo_adapter(sandbox)
    adapter.upsert_batch([record("a@example.com"), record("b@example.com")])
    plan = DeletePlan.resolve("marketo", DeletePolicy.HARD_DELETE)
    assert plan.send(adapter, [record("a@example.com")])[0].outcome is RecordOutcome.OK
    assert emails(sandbox, "marketo") == ["b@example.com"]
    assert sandbox.endpoint("POST /rest/v1/leads/delete.json") == {"200": 1}


@pytest.mark.parametrize("platform", ["hubspot", "marketo"])
def test_an_email_change_updates_the_contact_in_place(sandbox: Sandbox, platform: str) -> None:
    adapter = hubspot_adapter(sandbox) if platform == "hubspot" else marketo_adapter(sandbox)
    plan_field = "cdcbridge_plan" if platform == "hubspot" else "cdcbridgePlan"
    first = adapter.upsert_batch([record("old@example.com", key="c1", **{plan_field: "a"})])[0]
    moved = record("new@example.com", key="c1", previous="old@example.com", **{plan_field: "b"})
    result = adapter.upsert_batch([moved])[0]
    assert result.outcome is RecordOutcome.OK
    assert result.platform_id == first.platform_id  # the same contact, updated in place
    assert emails(sandbox, platform) == ["new@example.com"]
    assert sandbox.stored(platform)["new@example.com"][plan_field] == "b"


@pytest.mark.parametrize("platform", ["hubspot", "marketo"])
def test_setup_creates_the_custom_properties_once(sandbox: Sandbox, platform: str) -> None:
    sandbox.admin.post("/admin/reset", params={"catalog": "defaults"}).raise_for_status()
    try:
        catalog = build_catalog(sandbox_settings(sandbox.url, platform))
        missing = {p.name for p in missing_properties(catalog)}
        custom = {p.name for p in required_properties(platform) if p.custom}  # type: ignore[arg-type]
        assert missing == custom and custom  # a fresh portal lacks exactly ours
        first = setup(catalog)
        assert set(first.created) == custom and first.complete
        second = setup(catalog)
        assert second.created == [] and second.complete  # idempotent
        assert missing_properties(catalog) == []
    finally:
        provision_sandbox(sandbox.url)


def test_platform_cli_check_setup_check(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.admin.post("/admin/reset", params={"catalog": "defaults"}).raise_for_status()
    for name, value in {
        "CDCBRIDGE_CONFIG_FILE": "/nonexistent",
        "CDCBRIDGE_PLATFORM": "hubspot",
        "CDCBRIDGE_HUBSPOT_BASE_URL": sandbox.url,
        "CDCBRIDGE_HUBSPOT_TOKEN": "sandbox-token",
    }.items():
        monkeypatch.setenv(name, value)
    try:
        assert main(["platform", "check"]) == 1
        missing = json.loads(capsys.readouterr().out)
        assert "cdcbridge_source_id" in missing["missing"]
        assert "crm.schemas.contacts.write" in missing["action"]
        assert main(["platform", "setup"]) == 0
        contacts, companies = map(json.loads, capsys.readouterr().out.splitlines())
        assert set(contacts["created"]) == set(missing["missing"]) and contacts["missing"] == []
        assert companies["object_type"] == "companies"
        assert "cdcbridge_company_id" in companies["created"] and companies["missing"] == []
        assert main(["platform", "check"]) == 0
        assert json.loads(capsys.readouterr().out)["missing"] == []
    finally:
        provision_sandbox(sandbox.url)
