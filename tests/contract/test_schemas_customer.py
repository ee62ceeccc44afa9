"""The canonical customer schema and the mapping files keep their published contracts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from streams.contracts import CustomerDelete, CustomerUpsert
from streams.mapping.canonical import CUSTOMER_SCHEMA_ID, canonical_document
from streams.mapping.change_decoder import decode_change
from streams.mapping.mapping_files import MAPPINGS_DIR, MappingFileError
from streams.mapping.table_mapping import load_table_mapping
from streams.mapping.vendor_mapping import PLATFORMS, load_vendor_mapping

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "customer.schema.json").read_text())
FIXTURES = ROOT / "tests" / "fixtures" / "debezium"
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


def test_customer_schema_is_2020_12_with_a_versioned_id() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["$id"] == CUSTOMER_SCHEMA_ID
    assert SCHEMA["$id"].rsplit(":", 1)[1].isdigit()  # the major version


def test_customer_schema_has_the_issue_fields() -> None:
    wanted = {
        "source_id",
        "email",
        "first_name",
        "last_name",
        "phone",
        "company_name",
        "company_domain",
        "lifecycle_stage",
        "plan",
        "marketing_consent",
        "marketing_consent_at",
        "country",
        "created_at",
        "updated_at",
        "deleted",
        "sync",
    }
    assert wanted <= set(SCHEMA["properties"])
    assert {"source_table", "lsn", "ts_ms", "trace_id"} <= set(
        SCHEMA["properties"]["sync"]["properties"]
    )


@pytest.mark.parametrize(
    "patch,valid",
    [
        ({}, True),
        ({"email": "Ana@Example.com"}, False),  # canonical emails are lower-case
        ({"phone": "+14155550132"}, True),
        ({"phone": "415 555 0132"}, False),
        ({"country": "us"}, False),
        ({"lifecycle_stage": "mql"}, False),
        ({"created_at": "2026-11-30T04:00:00+01:00"}, False),  # UTC 'Z' only
        ({"created_at": "2026-11-30T04:00:00.123Z"}, False),  # 0 or 6 fraction digits
        ({"mrr": "49.00"}, True),
        ({"mrr": 49}, False),
        ({"first_name": ""}, False),  # empty strings are normalised to null
        ({"unknown": 1}, False),
        ({"deleted": True, "email": None}, False),
    ],
)
def test_customer_schema_accepts_and_rejects(patch: dict[str, Any], valid: bool) -> None:
    doc: dict[str, Any] = {
        "source_id": "42",
        "deleted": False,
        "email": "ana@example.com",
        "sync": {"source_table": "public.customers", "ts_ms": 1, "trace_id": "t", "lsn": 5},
    }
    doc.update(patch)
    assert VALIDATOR.is_valid(doc) is valid


def test_a_deleted_record_needs_no_email_but_a_live_one_does() -> None:
    sync = {"source_table": "public.customers", "ts_ms": 1, "trace_id": "t"}
    assert VALIDATOR.is_valid({"source_id": "1", "deleted": True, "sync": sync})
    assert not VALIDATOR.is_valid({"source_id": "1", "deleted": False, "sync": sync})


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.stem)
def test_fixture_changes_are_valid_for_an_independent_validator(path: Path) -> None:
    topic = "__debezium-heartbeat.cdc" if path.stem == "heartbeat" else "cdc.public.customers"
    change = decode_change(topic, b'{"id": 1042}', path.read_bytes())
    if isinstance(change, CustomerUpsert | CustomerDelete):
        errors = [e.message for e in VALIDATOR.iter_errors(canonical_document(change))]
        assert errors == []


def test_mapping_files_are_valid_and_target_canonical_fields() -> None:
    table = load_table_mapping()
    assert table.table == "public.customers" and "cdc.public.customers" in table.topics
    mapped = {rule.name for rule in table.fields}
    assert mapped <= set(SCHEMA["properties"])
    assert {"email", "phone", "lifecycle_stage", "marketing_consent", "country"} <= mapped


@pytest.mark.parametrize("platform", PLATFORMS)
def test_vendor_mappings_cover_every_canonical_enum_value(platform: str) -> None:
    mapping = load_vendor_mapping(platform)  # type: ignore[arg-type]
    (stage,) = [p for p in mapping.properties if p.field == "lifecycle_stage"]
    assert stage.enum is not None
    assert set(stage.enum.map) == set(SCHEMA["properties"]["lifecycle_stage"]["enum"])
    fields = {p.field for p in mapping.properties}
    assert {"email", "source_id", "first_name", "last_name", "phone"} <= fields


def test_hubspot_lifecycle_values_are_hubspots() -> None:
    (stage,) = [
        p for p in load_vendor_mapping("hubspot").properties if p.property == "lifecyclestage"
    ]
    assert stage.enum is not None
    assert set(stage.enum.map.values()) == {
        "subscriber",
        "lead",
        "marketingqualifiedlead",
        "salesqualifiedlead",
        "opportunity",
        "customer",
        "evangelist",
        "other",
    }


@pytest.mark.parametrize(
    "mutate,message",
    [
        (lambda d: d.pop("source"), "source"),
        (lambda d: d["fields"]["email"].update(encoding="money"), "money"),
        (lambda d: d["fields"].update(shoe_size={"column": "x", "encoding": "integer"}), "shoe"),
        (
            lambda d: d["fields"]["lifecycle_stage"]["enum"].update(default="vip"),
            "not canonical values",
        ),
        (lambda d: d["fields"]["mrr"].update(encoding="decimal_base64", scale=None), "scale"),
    ],
)
def test_broken_table_mapping_files_are_rejected_with_a_reason(
    tmp_path: Path, mutate: Any, message: str
) -> None:
    doc = yaml.safe_load((MAPPINGS_DIR / "customers.yaml").read_text())
    mutate(doc)
    broken = tmp_path / "customers.yaml"
    broken.write_text(yaml.safe_dump(doc))
    with pytest.raises(MappingFileError, match=message):
        load_table_mapping(broken)


def test_unreadable_mapping_file_is_a_mapping_file_error(tmp_path: Path) -> None:
    broken = tmp_path / "customers.yaml"
    broken.write_text("fields: [unclosed")
    with pytest.raises(MappingFileError, match="cannot read"):
        load_table_mapping(broken)
