from __future__ import annotations

import pytest

from streams.contracts import (
    COMPANIES,
    CustomerDelete,
    CustomerUpsert,
    KafkaPosition,
    SyncMeta,
    VendorRecord,
)
from streams.sync.coalesce import BatchKind, Coalescer, SourceRecord, merge

pytestmark = pytest.mark.unit

META = SyncMeta("customers", 1, "t")


def upsert(source_id: str, previous_email: str | None = None, **fields: object) -> CustomerUpsert:
    return CustomerUpsert(source_id, fields, META, previous_email)


def record(offset: int) -> SourceRecord:
    return SourceRecord(KafkaPosition("t", 0, offset), None, None, f"trace-{offset}")


def test_newest_state_wins_and_toast_omitted_fields_keep_earlier_values() -> None:
    merged = merge(upsert("1", email="a@x", notes="long"), upsert("1", email="b@x"))
    assert isinstance(merged, CustomerUpsert)
    assert dict(merged.fields) == {"email": "b@x", "notes": "long"}


def test_email_change_keeps_the_oldest_previous_email() -> None:
    first = upsert("1", previous_email="a@x", email="b@x")
    merged = merge(first, upsert("1", previous_email="b@x", email="c@x"))
    assert isinstance(merged, CustomerUpsert)
    assert merged.previous_email == "a@x"


def test_delete_replaces_and_takes_the_last_known_email() -> None:
    merged = merge(upsert("1", email="a@x"), CustomerDelete("1", None, META))
    assert merged == CustomerDelete("1", "a@x", META)


def test_upsert_after_delete_starts_afresh() -> None:
    merged = merge(CustomerDelete("1", "a@x", META), upsert("1", email="b@x"))
    assert isinstance(merged, CustomerUpsert)
    assert dict(merged.fields) == {"email": "b@x"}


def test_fifty_updates_to_one_key_become_one_entry() -> None:
    coalescer = Coalescer()
    for offset in range(50):
        coalescer.add(upsert("1", email="a@x", n=offset), record(offset), now=0.0)
    batch = coalescer.take_batch(10, now=1.0, linger_s=0.5)
    assert batch is not None and len(batch) == 1
    assert batch[0].change.fields["n"] == 49  # type: ignore[union-attr]
    assert [r.position.offset for r in batch[0].records] == list(range(50))
    assert batch[0].trace_id == "trace-49"


def test_batch_waits_for_linger_unless_full() -> None:
    coalescer = Coalescer()
    for key in "abc":
        coalescer.add(upsert(key), record(0), now=0.0)
    assert coalescer.take_batch(10, now=0.01, linger_s=0.05) is None
    assert coalescer.next_due(0.05) == pytest.approx(0.05)
    full = coalescer.take_batch(3, now=0.01, linger_s=0.05)
    assert full is not None and [e.key[1] for e in full] == ["a", "b", "c"]


def test_in_flight_key_is_held_back_until_complete() -> None:
    coalescer = Coalescer()
    coalescer.add(upsert("a", n=1), record(0), now=0.0)
    first = coalescer.take_batch(10, now=1.0, linger_s=0.0)
    assert first is not None
    coalescer.add(upsert("a", n=2), record(1), now=1.0)
    coalescer.add(upsert("b", n=1), record(2), now=1.0)
    second = coalescer.take_batch(10, now=2.0, linger_s=0.0)
    assert second is not None and [e.key[1] for e in second] == ["b"]
    coalescer.complete([("customers", "a")])
    third = coalescer.take_batch(10, now=2.0, linger_s=0.0)
    assert third is not None and [e.key[1] for e in third] == ["a"]


def test_a_batch_holds_one_kind() -> None:
    coalescer = Coalescer()
    coalescer.add(upsert("a"), record(0), now=0.0)
    coalescer.add(CustomerDelete("b", "b@x", META), record(1), now=0.0)
    coalescer.add(upsert("c"), record(2), now=0.0)
    first = coalescer.take_batch(10, now=0.0, linger_s=0.0, force=True)
    second = coalescer.take_batch(10, now=0.0, linger_s=0.0, force=True)
    assert first is not None and [e.key[1] for e in first] == ["a", "c"]
    assert second is not None and second[0].kind is BatchKind.DELETE


def test_a_partial_batch_waits_when_not_allowed_but_a_full_one_goes() -> None:
    coalescer = Coalescer()
    for key in "abc":
        coalescer.add(upsert(key), record(0), now=0.0)
    assert coalescer.take_batch(10, now=1.0, linger_s=0.0, allow_partial=False) is None
    full = coalescer.take_batch(2, now=1.0, linger_s=0.0, allow_partial=False)
    assert full is not None and len(full) == 2


def test_absorb_folds_changes_that_waited_behind_the_in_flight_batch() -> None:
    coalescer = Coalescer()
    coalescer.add(upsert("1", email="a@x", n=0), record(0), now=0.0)
    (entry,) = coalescer.take_batch(10, now=1.0, linger_s=0.0) or []
    assert coalescer.absorb(entry) == 0  # nothing newer yet
    coalescer.add(upsert("1", n=1), record(1), now=1.5)
    coalescer.add(upsert("1", n=2), record(2), now=1.6)
    assert coalescer.absorb(entry) == 2
    assert isinstance(entry.change, CustomerUpsert)
    assert dict(entry.change.fields) == {"email": "a@x", "n": 2}
    assert [r.position.offset for r in entry.records] == [0, 1, 2]
    assert len(coalescer) == 0  # nothing left to send a second time
    assert coalescer.absorb(entry) == 0


def test_absorb_never_changes_the_kind_of_an_in_flight_entry() -> None:
    coalescer = Coalescer()
    coalescer.add(upsert("1", email="a@x"), record(0), now=0.0)
    (entry,) = coalescer.take_batch(10, now=1.0, linger_s=0.0) or []
    coalescer.add(CustomerDelete("1", None, META), record(1), now=1.5)
    assert coalescer.absorb(entry) == 0
    assert entry.kind is BatchKind.UPSERT and len(coalescer) == 1  # sent after the batch


SUBSCRIPTIONS = SyncMeta("public.subscriptions", 1, "t")


def test_the_same_id_in_two_tables_is_two_keys_and_two_batches() -> None:
    coalescer = Coalescer()
    coalescer.add(upsert("1", email="a@x"), record(0), now=0.0)
    subscription = CustomerUpsert("1", {"email": "a@x", "plan": "pro"}, SUBSCRIPTIONS)
    coalescer.add(subscription, record(1), 0.0)
    coalescer.add(upsert("2", email="b@x"), record(2), now=0.0)
    assert len(coalescer) == 3  # customer 1 and subscription 1 never fold together
    first = coalescer.take_batch(10, now=0.0, linger_s=0.0, force=True)
    second = coalescer.take_batch(10, now=0.0, linger_s=0.0, force=True)
    assert first is not None and [e.key for e in first] == [("customers", "1"), ("customers", "2")]
    assert second is not None and [e.key for e in second] == [("public.subscriptions", "1")]
    assert {e.table for e in second} == {"public.subscriptions"}


def test_a_key_in_flight_in_one_table_does_not_hold_back_the_same_id_of_another() -> None:
    coalescer = Coalescer()
    coalescer.add(upsert("1", email="a@x"), record(0), now=0.0)
    first = coalescer.take_batch(10, now=0.0, linger_s=0.0, force=True)
    assert first is not None
    coalescer.add(CustomerUpsert("1", {"email": "a@x"}, SUBSCRIPTIONS), record(1), 0.0)
    coalescer.add(upsert("1", email="c@x"), record(2), now=0.0)
    second = coalescer.take_batch(10, now=0.0, linger_s=0.0, force=True)
    assert second is not None and [e.key for e in second] == [("public.subscriptions", "1")]
    assert coalescer.take_batch(10, now=0.0, linger_s=0.0, force=True) is None
    coalescer.complete([("customers", "1")])
    third = coalescer.take_batch(10, now=0.0, linger_s=0.0, force=True)
    assert third is not None and third[0].change.fields["email"] == "c@x"  # type: ignore[union-attr]


def test_two_changes_of_a_company_coalesce_into_a_companies_record() -> None:
    """The record kept across coalescing is the newer one's in all but its properties: a
    company changed twice stays a ``companies`` record (it once became ``contacts``, and the
    adapter refused the mixed call as fatal, stopping the sync)."""
    meta = SyncMeta("companies", 1, "t")
    coalescer = Coalescer()
    for offset, props in enumerate(({"name": "A", "domain": "a.example"}, {"name": "B"})):
        change = CustomerUpsert("7", dict(props), meta)
        vendor = VendorRecord("7", "7", props, f"trace-{offset}", None, COMPANIES)
        coalescer.add(change, record(offset), now=0.0, vendor=vendor)
    batch = coalescer.take_batch(10, now=1.0, linger_s=0.5)
    assert batch is not None and batch[0].vendor is not None
    assert batch[0].vendor == VendorRecord(
        "7", "7", {"name": "B", "domain": "a.example"}, "trace-1", None, COMPANIES
    )
