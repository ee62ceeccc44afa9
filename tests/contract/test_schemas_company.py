"""The canonical company schema and its mapping files keep their published contracts: the
table mapping names only company fields, the vendor mappings key each platform's company by
our source id (HubSpot's unique ``cdcbridge_company_id``, Marketo's ``externalCompanyId``)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from streams.mapping.mapping_files import MAPPINGS_DIR, load_checked

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "company.schema.json").read_text())
CUSTOMER = json.loads((ROOT / "schemas" / "customer.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def test_company_schema_is_2020_12_with_a_versioned_id() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$id"] == "urn:cdcbridge:schema:company:1"
    wanted = {"source_id", "name", "domain", "industry", "employees", "plan", "country"}
    assert wanted | {"created_at", "updated_at", "deleted", "sync"} <= set(SCHEMA["properties"])


def test_company_documents_validate_and_bad_ones_do_not() -> None:
    good = {
        "source_id": "17",
        "name": "Acme",
        "domain": "acme.com",
        "employees": 40,
        "country": "DE",
        "deleted": False,
        "sync": {"source_table": "public.companies", "ts_ms": 1, "trace_id": "t"},
    }
    assert list(VALIDATOR.iter_errors(good)) == []
    for bad in ({"employees": -1}, {"country": "de"}, {"name": None}, {"domain": "http://x"}):
        assert list(VALIDATOR.iter_errors({**good, **bad})), bad
    assert list(VALIDATOR.iter_errors({**good, "deleted": False, "name": None}))


def test_customer_company_id_is_the_company_key() -> None:
    assert CUSTOMER["properties"]["company_id"]["type"] == ["integer", "null"]


def test_companies_table_mapping_names_company_fields_only() -> None:
    doc = load_checked(MAPPINGS_DIR / "companies.yaml", "table_mapping.schema.json")
    assert doc["source"]["table"] == "public.companies"
    assert doc["canonical_schema"] == "company.schema.json"
    assert set(doc["fields"]) <= set(SCHEMA["properties"]) - {"source_id", "deleted", "sync"}
    sql = (ROOT / "local_stack" / "sql").glob("*.sql")
    text = " ".join(p.read_text() for p in sql)
    for rule in doc["fields"].values():
        assert rule["column"] in text  # every mapped column exists in the table


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("hubspot_companies.yaml", "cdcbridge_company_id"),
        ("marketo_companies.yaml", "externalCompanyId"),
    ],
)
def test_vendor_company_mappings_key_by_our_source_id(name: str, key: str) -> None:
    doc = load_checked(MAPPINGS_DIR / name, "vendor_mapping.schema.json")
    assert doc["id_property"] == key
    assert doc["properties"][key] == {"field": "source_id"}
    assert {p["field"] for p in doc["properties"].values()} <= set(SCHEMA["properties"])
