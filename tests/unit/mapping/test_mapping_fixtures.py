"""decode_change on realistic Debezium envelopes: every op, tombstones, TOAST, logical types,
unicode, null vs absent, email change; and the envelopes captured from the local stack."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from streams.contracts import CustomerDelete, CustomerUpsert, Skip
from streams.mapping import change_decoder
from streams.mapping.canonical import canonical_document, validate_canonical
from streams.mapping.change_decoder import decode_change, derive_trace_id
from tests.unit.mapping.mapping_fixtures import CAPTURED, TOPIC, fixture_bytes, fixture_doc

pytestmark = pytest.mark.unit


def upsert(name: str) -> CustomerUpsert:
    change = decode_change(TOPIC, b'{"id":1042}', fixture_bytes(name))
    assert isinstance(change, CustomerUpsert), change
    return change


def test_create_maps_every_column_to_canonical_fields() -> None:
    change = upsert("create")
    assert change.source_id == "1042"
    assert dict(change.fields) == {
        "email": "ana.garcia@example.com",
        "first_name": "Ana",
        "last_name": "Garcia",
        "phone": "+14155550132",
        "company_id": 17,
        "company_name": "Acme Analytics",
        "lifecycle_stage": "lead",
        "plan": "pro",
        "mrr": "49.00",
        "marketing_consent": True,
        "marketing_consent_at": "2026-11-28T09:15:02.512331Z",
        "country": "US",
        "birth_date": "1991-03-02",
        "attributes": {"tier": "gold", "seats": 12, "beta": True},
        "created_at": "2026-11-28T09:15:02.512331Z",
        "updated_at": "2026-11-30T04:02:11.004512Z",
    }
    assert change.previous_email is None
    assert change.meta.source_table == "public.customers"
    assert change.meta.lsn == 24023928
    assert change.meta.ts_ms == 1796011331004
    assert change.meta.trace_id == derive_trace_id("public.customers", 24023928, "1042", "c")


def test_unmapped_columns_are_not_synced() -> None:
    fields = upsert("create").fields
    assert "notes" not in fields


def test_snapshot_read_is_an_upsert() -> None:
    change = upsert("snapshot_read")
    assert change.source_id == "7"
    assert change.fields["lifecycle_stage"] == "customer"
    assert change.fields["phone"] is None
    assert change.fields["marketing_consent"] is False


def test_update_maps_the_after_image_and_enum_aliases() -> None:
    change = upsert("update")
    assert change.fields["plan"] == "business"
    assert change.fields["lifecycle_stage"] == "marketing_qualified_lead"  # "mql" alias
    assert change.fields["updated_at"] == "2026-11-30T04:05:40.100000Z"
    assert change.previous_email is None


def test_email_change_keeps_source_id_and_sets_previous_email() -> None:
    change = upsert("update_email_change")
    assert change.source_id == "1042"
    assert change.fields["email"] == "ana@garcia.dev"
    assert change.previous_email == "ana.garcia@example.com"
    assert canonical_document(change)["sync"] == {
        "source_table": "public.customers",
        "lsn": 24025001,
        "ts_ms": 1796011560000,
        "trace_id": change.meta.trace_id,
        "previous_email": "ana.garcia@example.com",
    }


def test_toast_placeholder_means_unchanged_and_is_never_written() -> None:
    change = upsert("update_toast_unchanged")
    assert "attributes" not in change.fields
    assert change.fields["first_name"] == "Anabel"
    assert "__debezium_unavailable_value" not in json.dumps(canonical_document(change))


def test_delete_is_an_archival_intent_with_the_old_email() -> None:
    change = decode_change(TOPIC, b'{"id":1042}', fixture_bytes("delete"))
    assert isinstance(change, CustomerDelete)
    assert change.source_id == "1042"
    assert change.email == "ana.garcia@example.com"
    doc = canonical_document(change)
    assert doc["deleted"] is True
    assert set(doc) == {"source_id", "deleted", "email", "sync"}


def test_delete_with_key_only_before_image_has_no_email() -> None:
    change = decode_change(TOPIC, b'{"id":1042}', fixture_bytes("delete_key_only_before"))
    assert isinstance(change, CustomerDelete)
    assert change.source_id == "1042" and change.email is None


@pytest.mark.parametrize(
    "topic,value,reason",
    [
        (TOPIC, None, "tombstone"),
        (TOPIC, b"", "tombstone"),
        (TOPIC, b"null", "tombstone"),
        (TOPIC, b'{"schema": null, "payload": null}', "tombstone"),
        ("__debezium-heartbeat.cdc", b'{"ts_ms": 1796011800000}', "heartbeat"),
        ("cdc.public.orders", b'{"op": "c"}', "no mapping for topic cdc.public.orders"),
    ],
)
def test_records_without_a_customer_change_are_skipped(
    topic: str, value: bytes | None, reason: str
) -> None:
    assert decode_change(topic, b'{"id":1}', value) == Skip(reason)


def test_fixture_tombstone_and_heartbeat_files_skip() -> None:
    assert fixture_doc("tombstone") is None
    heartbeat = decode_change("__debezium-heartbeat.cdc", None, fixture_bytes("heartbeat"))
    assert isinstance(heartbeat, Skip)
    assert isinstance(decode_change(TOPIC, None, fixture_bytes("wrapped_tombstone")), Skip)


def test_truncate_is_skipped_not_applied() -> None:
    assert decode_change(TOPIC, None, fixture_bytes("truncate")) == Skip("op t is not a row change")


def test_unicode_names_and_national_phone_in_the_customers_country() -> None:
    change = upsert("create_unicode")
    assert change.fields["email"] == "zoë.ñúñez@exämple.org"  # trimmed, lower-cased
    assert change.fields["first_name"] == "Zoë"
    assert change.fields["last_name"] == "Ñúñez-李"
    assert change.fields["company_name"] == "Café Ümlaut GmbH 🚀"
    assert change.fields["phone"] == "+4930901820"  # "030 901820" read as German
    assert change.fields["country"] == "DE"
    assert change.fields["attributes"] == {"note": "日本語", "emoji": "✅"}


def test_null_clears_and_absent_leaves_unchanged() -> None:
    change = upsert("create_null_and_absent")
    assert change.fields["first_name"] is None  # null: cleared
    assert change.fields["mrr"] is None
    assert "company_name" not in change.fields  # absent column: unchanged


@pytest.mark.parametrize(
    "name,mrr",
    [
        ("wrapped_create_precise_decimal", "49.00"),
        ("wrapped_create_negative_decimal", "-123.45"),
        ("wrapped_create_double_decimal", "49.50"),
        ("wrapped_create_micro_nano_timestamps", "49.500"),
    ],
)
def test_schema_wrapped_decimals(name: str, mrr: str) -> None:
    assert upsert(name).fields["mrr"] == mrr


def test_schema_wrapped_logical_types_match_the_plain_envelope() -> None:
    plain = upsert("create").fields
    wrapped = upsert("wrapped_create_precise_decimal").fields
    for field in ("birth_date", "attributes", "created_at", "marketing_consent_at"):
        assert wrapped[field] == plain[field], field


def test_micro_nano_and_millis_timestamps() -> None:
    fields = upsert("wrapped_create_micro_nano_timestamps").fields
    assert fields["created_at"] == "2026-11-28T09:15:02.512331Z"  # MicroTimestamp
    assert fields["updated_at"] == "2026-11-30T04:02:11.004512Z"  # NanoTimestamp, truncated
    assert fields["marketing_consent_at"] == "2026-11-28T09:15:02.512000Z"  # Timestamp (ms)
    assert fields["birth_date"] == "1991-03-02"  # Connect Date


def test_replay_derives_the_same_trace_id_and_a_caller_id_wins() -> None:
    first = upsert("update")
    again = upsert("update")
    assert first.meta.trace_id == again.meta.trace_id
    assert len(first.meta.trace_id) == 32
    assert first.meta.trace_id != upsert("create").meta.trace_id
    given = decode_change(TOPIC, None, fixture_bytes("update"), trace_id="abc")
    assert not isinstance(given, Skip) and given.meta.trace_id == "abc"


def test_a_header_trace_id_is_used_as_is_and_nothing_is_derived(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def not_called(*_args: object) -> str:
        raise AssertionError("derive_trace_id ran although the header gave a trace id")

    monkeypatch.setattr(change_decoder, "derive_trace_id", not_called)
    for name in ("update", "delete"):
        change = decode_change(TOPIC, b'{"id":1042}', fixture_bytes(name), trace_id="from-header")
        assert not isinstance(change, Skip) and change.meta.trace_id == "from-header"


def test_derive_trace_id_is_the_blake2b_of_the_documented_material() -> None:
    # Replays keep their trace ids across versions: the material must not change.
    for _ in range(2):  # (the table's hasher is cached after the first call)
        assert derive_trace_id("public.customers", 1, "42", "u") == hashlib.blake2b(
            b"public.customers|1|42|u", digest_size=16
        ).hexdigest()
    assert derive_trace_id("t", None, "1", "r", 5) == hashlib.blake2b(
        b"t|ts5|1|r", digest_size=16
    ).hexdigest()


def test_derive_trace_id_depends_on_each_part() -> None:
    base = derive_trace_id("public.customers", 1, "42", "u")
    assert base != derive_trace_id("public.customers", 2, "42", "u")
    assert base != derive_trace_id("public.customers", 1, "43", "u")
    assert base != derive_trace_id("public.customers", 1, "42", "d")
    assert base != derive_trace_id("public.other", 1, "42", "u")
    assert derive_trace_id("t", None, "1", "r", ts_ms=5) != derive_trace_id("t", None, "1", "r", 6)


CAPTURED_FILES = sorted(CAPTURED.glob("*.json")) if CAPTURED.is_dir() else []


@pytest.mark.parametrize("path", CAPTURED_FILES, ids=[p.stem for p in CAPTURED_FILES])
def test_captured_envelopes_decode_to_schema_valid_changes(path: Path) -> None:
    record = json.loads(path.read_text())
    key = record["key"].encode() if record.get("key") else None
    value = record["value"].encode() if record.get("value") is not None else None
    change = decode_change(record["topic"], key, value)
    if value is None:
        assert isinstance(change, Skip)
        return
    assert isinstance(change, CustomerUpsert | CustomerDelete)
    validate_canonical(canonical_document(change))
    if "email_change" in path.stem:
        assert isinstance(change, CustomerUpsert) and change.previous_email is not None
