"""Source rows go through the sync's own decoder and vendor mapping (no second copy)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import orjson
import pytest

from streams.audit.source_rows import debezium_json, expected_record
from streams.contracts import CustomerUpsert, InvalidRecord
from streams.mapping.change_decoder import ChangeDecoder
from streams.mapping.table_mapping import load_table_mapping
from streams.mapping.vendor_record import upsert_record

pytestmark = pytest.mark.unit

MAPPING = load_table_mapping()
DECODER = ChangeDecoder([MAPPING])
ROW = {
    "id": 42,
    "email": "  Zoe@Example.COM ",
    "first_name": " Zoë ",
    "last_name": None,
    "phone": "030 1234567",
    "company_name": "Acme",
    "lifecycle_stage": "trial",
    "plan": "Pro",
    "mrr": Decimal("42.50"),
    "marketing_opt_in": True,
    "opt_in_at": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=1))),
    "country": "de",
    "birth_date": dt.date(1990, 5, 1),
    "attributes": {"b": [1, 2], "a": "x"},
    "created_at": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    "updated_at": dt.datetime(2024, 1, 1, 0, 0, 0, 123000, tzinfo=dt.UTC),
}
ENCODINGS = {f.column: f.encoding for f in MAPPING.fields} | {"id": "integer"}


def debezium_row() -> dict[str, object]:
    return {k: debezium_json(v, ENCODINGS[k]) for k, v in ROW.items()}


def test_values_are_written_as_debeziums_json_converter_does() -> None:
    row = debezium_row()
    assert row["mrr"] == "42.50"
    assert row["birth_date"] == 7425  # days since 1970-01-01
    assert row["opt_in_at"] == "2024-01-02T03:04:05+01:00"
    assert orjson.loads(str(row["attributes"])) == {"a": "x", "b": [1, 2]}
    with pytest.raises(ValueError, match="cannot write"):
        debezium_json(dt.date(2024, 1, 1), "string")


def test_expected_record_equals_what_sync_sends_for_the_same_change() -> None:
    record = expected_record(DECODER, MAPPING, "hubspot", debezium_row())
    envelope = {
        "op": "u",
        "before": None,
        "after": debezium_row(),
        "source": {"schema": "public", "table": "customers", "ts_ms": 5, "lsn": 9},
        "ts_ms": 5,
    }
    change = DECODER.decode("cdc.public.customers", None, orjson.dumps(envelope))
    assert isinstance(change, CustomerUpsert)
    assert record.properties == upsert_record("hubspot", change).properties
    props = record.properties
    assert record.key == "42" and record.id_value == "zoe@example.com"
    assert props["firstname"] == "Zoë" and props["lifecyclestage"] == "opportunity"
    assert props["phone"] == "+49301234567" and props["country"] == "DE"
    assert props["cdcbridge_marketing_consent_at"] == "2024-01-02T02:04:05Z"


def test_marketo_mapping_applies_too() -> None:
    record = expected_record(DECODER, MAPPING, "marketo", debezium_row())
    assert record.properties["unsubscribed"] is False  # negated consent
    assert record.properties["leadStatus"] == "Opportunity"


def test_a_row_the_mapping_rejects_raises_invalid_record() -> None:
    row = debezium_row() | {"country": "Germany"}
    with pytest.raises(InvalidRecord):
        expected_record(DECODER, MAPPING, "hubspot", row)
