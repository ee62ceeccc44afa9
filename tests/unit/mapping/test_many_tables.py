"""Many tables: mapping files found in the package and CDCBRIDGE_MAPPINGS_DIR, each decoded
and turned into vendor records by its own rules (examples/add_a_table is the third table)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cdcbridge.connect_api import ConnectorFile
from local_stack.connector_setup import with_tables
from streams.contracts import CustomerUpsert, InvalidRecord, Skip
from streams.mapping.change_decoder import ChangeDecoder
from streams.mapping.mapping_files import MappingFileError
from streams.mapping.table_catalog import (
    load_table_mappings,
    mapped_topics,
    user_mapping_dirs,
)
from streams.mapping.vendor_record import VendorRecordBuilder, record_targets

pytestmark = pytest.mark.unit

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "add_a_table" / "subscriptions.yaml"
TOPIC = "cdc.public.subscriptions"


def envelope(op: str, row: dict[str, object], before: dict[str, object] | None = None) -> bytes:
    source = {"schema": "public", "table": "subscriptions", "lsn": 77, "ts_ms": 1}
    after = None if op == "d" else row
    document = {"before": before or (row if op == "d" else None), "after": after}
    return json.dumps({**document, "source": source, "op": op, "ts_ms": 2}).encode()


ROW = {
    "id": 7,
    "customer_email": " Ann@Example.COM ",
    "plan": "Pro",
    "status": "trial",
    "updated_at": "2026-01-02T03:04:05Z",
}


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    shutil.copy(EXAMPLE, tmp_path / "subscriptions.yaml")
    (tmp_path / "notes.yaml").write_text("just: a file that is not a table mapping\n")
    return tmp_path


def test_the_user_folder_adds_a_table_beside_the_packaged_ones(user_dir: Path) -> None:
    mappings = load_table_mappings([user_dir])
    tables = [m.table for m in mappings]
    assert tables[-1] == "public.subscriptions" and "public.customers" in tables
    assert TOPIC in mapped_topics(mappings)
    assert user_mapping_dirs({"CDCBRIDGE_MAPPINGS_DIR": str(user_dir)}) == (user_dir,)


def test_a_table_decodes_with_its_own_schema_and_writes_its_own_properties(
    user_dir: Path,
) -> None:
    mappings = load_table_mappings([user_dir])
    change = ChangeDecoder(mappings).decode(TOPIC, None, envelope("c", ROW))
    assert isinstance(change, CustomerUpsert)
    assert change.meta.source_table == "public.subscriptions"
    assert dict(change.fields)["subscription_status"] == "trialing"
    record = VendorRecordBuilder("hubspot", {}, record_targets("hubspot", mappings))(change)
    assert (record.key, record.id_value, record.object_type) == ("7", "ann@example.com", "contacts")
    assert dict(record.properties) == {
        "cdcbridge_subscription_plan": "pro",
        "cdcbridge_subscription_status": "trialing",
        "cdcbridge_subscription_updated_at": "2026-01-02T03:04:05Z",
    }
    marketo = VendorRecordBuilder("marketo", {}, record_targets("marketo", mappings))(change)
    assert set(marketo.properties) == {
        "cdcbridgeSubscriptionPlan", "cdcbridgeSubscriptionStatus", "cdcbridgeSubscriptionUpdatedAt"
    }


def test_the_tables_own_schema_rejects_what_it_does_not_allow(user_dir: Path) -> None:
    decoder = ChangeDecoder(load_table_mappings([user_dir]))
    with pytest.raises(InvalidRecord) as caught:
        decoder.decode(TOPIC, None, envelope("c", {**ROW, "plan": "x" * 101}))
    assert caught.value.field == "subscription_plan"


def test_a_non_owning_table_ignores_deletes_and_never_renames_the_contact(
    user_dir: Path,
) -> None:
    mappings = load_table_mappings([user_dir])
    decoder = ChangeDecoder(mappings)
    assert isinstance(decoder.decode(TOPIC, None, envelope("d", ROW)), Skip)
    moved = decoder.decode(
        TOPIC, None, envelope("u", {**ROW, "customer_email": "new@example.com"}, ROW)
    )
    assert isinstance(moved, CustomerUpsert) and moved.previous_email == "ann@example.com"
    record = VendorRecordBuilder("hubspot", {}, record_targets("hubspot", mappings))(moved)
    assert record.previous_id_value is None and record.id_value == "new@example.com"


def test_customers_keep_the_platform_file_and_the_contacts_kind(user_dir: Path) -> None:
    mappings = load_table_mappings([user_dir])
    assert "public.customers" not in record_targets("hubspot", mappings)


def test_two_tables_on_one_topic_are_refused(user_dir: Path) -> None:
    text = (user_dir / "subscriptions.yaml").read_text()
    (user_dir / "other.yaml").write_text(
        text.replace("table: public.subscriptions", "table: public.other")
    )
    with pytest.raises(MappingFileError, match=r"cdc\.public\.subscriptions"):
        load_table_mappings([user_dir])


def test_a_property_of_an_unknown_field_is_refused(user_dir: Path) -> None:
    path = user_dir / "subscriptions.yaml"
    path.write_text(path.read_text().replace("{field: subscription_plan}", "{field: nope}", 1))
    with pytest.raises(MappingFileError, match="unknown field 'nope'"):
        load_table_mappings([user_dir])


def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MappingFileError, match="not found"):
        load_table_mappings([tmp_path / "absent"])


def test_connectors_apply_adds_the_mapped_tables_to_the_include_list() -> None:
    connector = ConnectorFile("c", {"table.include.list": "public.customers,public.hb"})
    added = with_tables(connector, ["public.customers", "public.subscriptions"])
    assert added.config["table.include.list"] == "public.customers,public.hb,public.subscriptions"
    assert with_tables(connector, ["public.customers"]) is connector
    everything = ConnectorFile("c", {})
    assert with_tables(everything, ["public.subscriptions"]) is everything
