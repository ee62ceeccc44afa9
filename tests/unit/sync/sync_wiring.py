"""The sync fakes wired the way the service wires the real parts: the decoder takes the record's
trace id, the vendor-record builder builds upserts and deletes alike (deletes with the real
``delete_record``, under the delete plan's properties) and carries the change's trace id."""

from __future__ import annotations

import dataclasses

import msgspec

from streams.contracts import (
    CustomerChange,
    CustomerDelete,
    Decode,
    Skip,
    VendorRecord,
)
from streams.mapping.vendor_record import delete_record
from streams.platform.deletes import DeletePlan
from streams.sync.deliver import VendorMapper
from tests.fakes.sync import fake_decode, fake_to_vendor


def decode_with_trace(
    topic: str, key: bytes | None, value: bytes | None, trace_id: str | None
) -> CustomerChange | Skip:
    """``fake_decode``, the header's trace id winning over the derived one (as the decoder)."""
    change = fake_decode(topic, key, value)
    if trace_id is None or isinstance(change, Skip):
        return change
    meta = msgspec.structs.replace(change.meta, trace_id=trace_id)
    return msgspec.structs.replace(change, meta=meta)


DECODE: Decode = decode_with_trace


def vendor_builder(plan: DeletePlan) -> VendorMapper:
    """One builder for upserts (``fake_to_vendor``) and deletes (the real ``delete_record``)."""

    def build(change: CustomerChange) -> VendorRecord:
        if isinstance(change, CustomerDelete):
            return delete_record(change, plan.properties)
        return dataclasses.replace(fake_to_vendor(change), trace_id=change.meta.trace_id)

    return build
