"""Canonical -> HubSpot / Marketo properties and back."""

from __future__ import annotations

import pytest

from streams.contracts import CustomerDelete, CustomerUpsert, InvalidRecord, SyncMeta
from streams.mapping.change_decoder import decode_change
from streams.mapping.vendor_mapping import from_vendor
from streams.mapping.vendor_record import VendorRecordBuilder, upsert_record
from tests.unit.mapping.mapping_fixtures import TOPIC, fixture_bytes

pytestmark = pytest.mark.unit

META = SyncMeta("public.customers", 1796011331004, "trace-1", 24023928)


def decoded(name: str) -> CustomerUpsert:
    change = decode_change(TOPIC, None, fixture_bytes(name))
    assert isinstance(change, CustomerUpsert)
    return change


def test_hubspot_record_uses_hubspot_names_and_string_values() -> None:
    record = upsert_record("hubspot", decoded("update_email_change"))
    assert record.key == "1042"
    assert record.id_value == "ana@garcia.dev"
    assert record.previous_id_value == "ana.garcia@example.com"
    assert record.trace_id == decoded("update_email_change").meta.trace_id
    props = record.properties
    assert props["email"] == "ana@garcia.dev"
    assert props["firstname"] == "Ana" and props["lastname"] == "Garcia"
    assert props["lifecyclestage"] == "lead"
    assert props["cdcbridge_source_id"] == "1042"
    assert props["cdcbridge_marketing_consent"] == "true"
    assert props["cdcbridge_attributes"] == '{"beta":true,"seats":12,"tier":"gold"}'
    assert all(isinstance(v, str) for v in props.values())


def test_hubspot_lifecycle_values() -> None:
    change = CustomerUpsert(
        "1", {"email": "a@b.co", "lifecycle_stage": "marketing_qualified_lead"}, META
    )
    assert upsert_record("hubspot", change).properties["lifecyclestage"] == "marketingqualifiedlead"
    assert upsert_record("marketo", change).properties["leadStatus"] == "MQL"


def test_marketo_record_uses_marketo_names_and_native_values() -> None:
    props = upsert_record("marketo", decoded("create")).properties
    assert props["firstName"] == "Ana" and props["lastName"] == "Garcia"
    assert props["cdcbridgeSourceId"] == "1042"
    assert props["unsubscribed"] is False  # consent given
    assert props["leadStatus"] == "Lead"
    assert props["country"] == "US"


def test_nulls_clear_properties_in_each_style() -> None:
    change = CustomerUpsert("1", {"email": "a@b.co", "phone": None, "attributes": None}, META)
    hubspot = upsert_record("hubspot", change).properties
    marketo = upsert_record("marketo", change).properties
    assert hubspot["phone"] == "" and hubspot["cdcbridge_attributes"] == ""
    assert marketo["phone"] is None and marketo["cdcbridgeAttributes"] is None


def test_unchanged_fields_are_not_sent() -> None:
    change = decoded("update_toast_unchanged")
    assert "cdcbridge_attributes" not in upsert_record("hubspot", change).properties
    assert "cdcbridgeAttributes" not in upsert_record("marketo", change).properties


def test_delete_carries_lookup_and_the_delete_policy_properties_only() -> None:
    delete = CustomerDelete("1042", "ana@example.com", META)
    archive = VendorRecordBuilder("hubspot")(delete)  # HubSpot archive writes nothing
    assert (archive.key, archive.id_value, dict(archive.properties)) == (
        "1042",
        "ana@example.com",
        {},
    )
    assert archive.trace_id == META.trace_id
    unsubscribe = VendorRecordBuilder("marketo", {"unsubscribed": True})(delete)
    assert dict(unsubscribe.properties) == {"unsubscribed": True}
    with pytest.raises(InvalidRecord) as caught:
        VendorRecordBuilder("marketo")(CustomerDelete("1042", None, META))
    assert (caught.value.field, caught.value.rule) == ("email", "required_for_delete")


def test_the_builder_builds_upserts_as_upsert_record_does() -> None:
    change = decoded("update_email_change")
    assert VendorRecordBuilder("hubspot", {"x": 1})(change) == upsert_record("hubspot", change)


def test_upsert_without_email_is_invalid() -> None:
    with pytest.raises(InvalidRecord) as caught:
        upsert_record("hubspot", CustomerUpsert("1", {"first_name": "A"}, META))
    assert caught.value.field == "email"


def test_wrong_value_type_names_field_and_vendor_rule() -> None:
    change = CustomerUpsert("1", {"email": "a@b.co", "marketing_consent": "yes"}, META)
    with pytest.raises(InvalidRecord) as caught:
        upsert_record("hubspot", change)
    error = caught.value
    assert error.field == "marketing_consent"
    assert error.rule == "hubspot:cdcbridge_marketing_consent:boolean"
    assert error.value == "yes"


def test_from_vendor_reads_back_and_ignores_unmapped_properties() -> None:
    props = {
        "email": "a@b.co",
        "lifecyclestage": "salesqualifiedlead",
        "cdcbridge_marketing_consent": "false",
        "hs_object_id": "901",
        "firstname": "",
    }
    assert from_vendor("hubspot", props) == {
        "email": "a@b.co",
        "lifecycle_stage": "sales_qualified_lead",
        "marketing_consent": False,
        "first_name": None,
    }


def test_from_vendor_unknown_enum_value_uses_the_reverse_default() -> None:
    assert from_vendor("marketo", {"leadStatus": "Recycled"}) == {"lifecycle_stage": "other"}


def test_from_vendor_accepts_marketo_booleans_as_text() -> None:
    assert from_vendor("marketo", {"unsubscribed": "true"}) == {"marketing_consent": False}
    with pytest.raises(InvalidRecord) as caught:
        from_vendor("marketo", {"unsubscribed": "maybe"})
    assert caught.value.field == "marketing_consent"


def test_from_vendor_bad_json_is_invalid() -> None:
    with pytest.raises(InvalidRecord) as caught:
        from_vendor("hubspot", {"cdcbridge_attributes": "{oops"})
    assert (caught.value.field, caught.value.value) == ("attributes", "{oops")
