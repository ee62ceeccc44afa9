"""The coalescer keeps an upsert's vendor record across coalescing (``merge_vendor``) instead
of building it again from the merged change: a shortcut, pinned here to the reference, the
record builder run on the merged change, for both mapped tables and both platforms."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.contracts import (
    CustomerChange,
    CustomerDelete,
    CustomerUpsert,
    KafkaPosition,
    SyncMeta,
)
from streams.mapping.table_catalog import load_table_mappings
from streams.mapping.vendor_mapping import Platform
from streams.mapping.vendor_record import VendorRecordBuilder, record_targets
from streams.sync.coalesce import Coalescer, SourceRecord

pytestmark = pytest.mark.unit

CUSTOMER_A: dict[str, Any] = {
    "email": "ana.garcia@example.com", "first_name": "Ana", "last_name": "Garcia",
    "phone": "+14155550132", "company_id": 17, "company_name": "Acme Analytics",
    "lifecycle_stage": "lead", "plan": "pro", "mrr": "49.00", "marketing_consent": True,
    "marketing_consent_at": "2026-11-28T09:15:02.512331Z", "country": "US",
    "birth_date": "1991-03-02", "attributes": {"tier": "gold"},
    "updated_at": "2026-11-30T04:02:11.004512Z",
}  # fmt: skip
CUSTOMER_B: dict[str, Any] = {
    "email": "ana@garcia.dev", "first_name": "Bo", "last_name": "Berg", "phone": None,
    "company_id": None, "company_name": None, "lifecycle_stage": "customer", "plan": "free",
    "mrr": "0.00", "marketing_consent": False, "marketing_consent_at": None, "country": "SE",
    "birth_date": None, "attributes": {}, "updated_at": "2026-11-30T05:00:00Z",
}  # fmt: skip
COMPANY_A: dict[str, Any] = {
    "name": "Acme", "domain": "acme.com", "industry": "software", "employees": 12,
    "plan": "pro", "country": "US",
}  # fmt: skip
COMPANY_B: dict[str, Any] = {
    "name": "Beta AB", "domain": None, "industry": None, "employees": 4000, "plan": None,
    "country": "SE",
}  # fmt: skip
TABLES = {"public.customers": (CUSTOMER_A, CUSTOMER_B), "public.companies": (COMPANY_A, COMPANY_B)}
MAPPINGS = load_table_mappings([])

# One change: a delete, or an upsert taking each field it sets from A or B (the fields it
# leaves out are Debezium's unchanged TOAST columns). Customers always carry an email.
change_specs = st.lists(
    st.none() | st.dictionaries(st.sampled_from(sorted(CUSTOMER_A)), st.booleans()),
    min_size=1,
    max_size=5,
)


def change_of(table: str, spec: dict[str, bool] | None, n: int, email: str) -> CustomerChange:
    meta = SyncMeta(table, n, f"trace-{n}")
    if spec is None:
        return CustomerDelete("7", email if table == "public.customers" else None, meta)
    first, second = TABLES[table]
    fields = {k: (second if b else first)[k] for k, b in spec.items() if k in first}
    previous = None
    if table == "public.customers":
        fields.setdefault("email", email)
        previous = email if fields["email"] != email else None
    return CustomerUpsert("7", fields, meta, previous)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.sampled_from(sorted(TABLES)),
    st.sampled_from(["hubspot", "marketo"]),
    change_specs,
)
def test_the_kept_record_is_the_record_of_the_merged_change(
    table: str, platform: Platform, specs: list[dict[str, bool] | None]
) -> None:
    build = VendorRecordBuilder(platform, {}, record_targets(platform, MAPPINGS))
    coalescer = Coalescer()
    email = CUSTOMER_A["email"]
    for n, spec in enumerate(specs):
        change = change_of(table, spec, n, email)
        vendor = build(change) if isinstance(change, CustomerUpsert) else None
        coalescer.add(
            change, SourceRecord(KafkaPosition("t", 0, n), None, None, f"trace-{n}"), 0.0, vendor
        )
        if isinstance(change, CustomerUpsert) and "email" in change.fields:
            email = str(change.fields["email"])
    batch = coalescer.take_batch(10, now=1.0, linger_s=0.0, force=True)
    assert batch is not None and len(batch) == 1
    (entry,) = batch
    if entry.vendor is not None:
        assert entry.vendor == build(entry.change)
