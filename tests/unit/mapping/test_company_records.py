"""Companies through the one record builder: ``companies.yaml``'s target sends company rows as
companies (``<platform>_companies.yaml``, looked up by the source id), checked against the
company schema; deletes follow the delete policy with each vendor's company mechanism."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from streams.contracts import (
    COMPANIES,
    CustomerDelete,
    CustomerUpsert,
    DeleteMechanism,
    InvalidRecord,
    RecordOutcome,
    RecordResult,
    VendorRecord,
)
from streams.mapping.change_decoder import ChangeDecoder
from streams.mapping.table_catalog import load_table_mappings
from streams.mapping.vendor_mapping import Platform
from streams.mapping.vendor_record import VendorRecordBuilder, record_targets
from streams.platform.deletes import DeletePlan, DeletePolicy

pytestmark = pytest.mark.unit
TOPIC = "cdc.public.companies"
ROW = {"id": 7, "name": " Acme ", "domain": "ACME.com", "employees": 12, "plan": "Pro"}


def envelope(op: str, row: dict[str, object]) -> bytes:
    source = {"schema": "public", "table": "companies", "lsn": 5, "ts_ms": 1}
    before, after = (row, None) if op == "d" else (None, row)
    return json.dumps({"before": before, "after": after, "source": source, "op": op}).encode()


def build(platform: Platform, op: str, row: dict[str, object]) -> VendorRecord:
    mappings = load_table_mappings([])
    change = ChangeDecoder(mappings).decode(TOPIC, b'{"id":7}', envelope(op, row))
    assert isinstance(change, CustomerUpsert | CustomerDelete)
    plan = DeletePlan.resolve(platform, DeletePolicy.ARCHIVE)
    return VendorRecordBuilder(platform, plan.properties, record_targets(platform, mappings))(
        change
    )


def test_the_catalog_maps_companies_as_companies() -> None:
    (companies,) = [m for m in load_table_mappings([]) if m.table == "public.companies"]
    assert companies.target.object_type == COMPANIES
    assert companies.target.id_field == "source_id"
    assert companies.canonical_schema["$id"] == "urn:cdcbridge:schema:company:1"


def test_a_hubspot_company_upsert_uses_the_companies_file() -> None:
    record = build("hubspot", "c", ROW)
    assert (record.object_type, record.key, record.id_value) == (COMPANIES, "7", "7")
    assert record.properties["cdcbridge_company_id"] == "7"
    assert record.properties["name"] == "Acme" and record.properties["domain"] == "acme.com"
    assert record.properties["numberofemployees"] == "12"
    assert "email" not in record.properties


def test_a_marketo_company_upsert_keeps_native_values() -> None:
    record = build("marketo", "c", ROW)
    assert record.object_type == COMPANIES
    assert record.properties["externalCompanyId"] == "7"
    assert record.properties["numberOfEmployees"] == 12
    assert record.properties["company"] == "Acme"


def test_a_company_delete_carries_no_contact_properties() -> None:
    record = build("marketo", "d", ROW)  # marketo's archive policy writes unsubscribed on leads
    assert (record.object_type, record.id_value, dict(record.properties)) == (COMPANIES, "7", {})


def test_the_company_schema_checks_company_rows() -> None:
    mappings = load_table_mappings([])
    bad = {**ROW, "employees": -3}  # the company schema wants employees >= 0
    with pytest.raises(InvalidRecord):
        ChangeDecoder(mappings).decode(TOPIC, b'{"id":7}', envelope("c", bad))


class Remover:
    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[DeleteMechanism] = []

    def remove_batch(
        self, records: Sequence[VendorRecord], mechanism: DeleteMechanism
    ) -> list[RecordResult]:
        self.calls.append(mechanism)
        return [RecordResult(r.key, RecordOutcome.OK) for r in records]


@pytest.mark.parametrize(
    "platform,policy,expected",
    [
        ("hubspot", DeletePolicy.ARCHIVE, [DeleteMechanism.ARCHIVE]),
        ("hubspot", DeletePolicy.UNSUBSCRIBE, [DeleteMechanism.ARCHIVE]),
        ("marketo", DeletePolicy.HARD_DELETE, [DeleteMechanism.HARD_DELETE]),
        ("marketo", DeletePolicy.ARCHIVE, []),  # no archive for Marketo companies: kept
    ],
)
def test_company_deletes_use_the_vendor_mechanism_for_companies(
    platform: str, policy: DeletePolicy, expected: list[DeleteMechanism]
) -> None:
    remover = Remover(platform)
    record = VendorRecord("7", "7", {}, "t", None, COMPANIES)
    results = DeletePlan.resolve(platform, policy).send(remover, [record])  # type: ignore[arg-type]
    assert remover.calls == expected
    assert [r.outcome for r in results] == [RecordOutcome.OK]
