"""The one builder of vendor records: a canonical change -> the ``VendorRecord`` that is sent.

Used by ``cdcbridge sync`` (the engine builds each upsert's record when it takes the record in,
and keeps it; deletes are built when their batch goes, after coalescing) and by ``cdcbridge map
--target``, so what ``map`` prints is what ``sync`` sends. Pure; raises ``InvalidRecord`` only.

- upsert: ``key`` = source id, ``id_value`` = email, ``previous_id_value`` = the old email on an
  email change; ``properties`` hold only the fields the change sets (a TOAST-unchanged field is
  never written), through ``schemas/mappings/<platform>.yaml``;
- delete: ``key`` = source id, ``id_value`` = the email to find the contact by, ``properties``
  = what the delete policy writes (``streams.platform.deletes.DeletePlan.properties``: nothing
  for an archive, e.g. ``{"unsubscribed": true}`` for Marketo's field update).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from streams.contracts import (
    CustomerChange,
    CustomerDelete,
    CustomerUpsert,
    InvalidRecord,
    PropertyValue,
    VendorRecord,
)
from streams.mapping.vendor_mapping import Platform, compiled_mapping


def upsert_record(platform: Platform, change: CustomerUpsert) -> VendorRecord:
    """The record of an upsert (see module docstring). Raises ``InvalidRecord`` when the change
    has no email to look the contact up by, or a value the vendor mapping cannot encode."""
    email = change.fields.get("email")
    if not isinstance(email, str) or not email:
        raise InvalidRecord("email", "required", email, "an upsert needs the email lookup value")
    props = compiled_mapping(platform).encode({"source_id": change.source_id, **change.fields})
    return VendorRecord(change.source_id, email, props, change.meta.trace_id, change.previous_email)


def delete_record(
    change: CustomerDelete, properties: Mapping[str, PropertyValue]
) -> VendorRecord:
    """The record of a delete carrying the policy's ``properties``. Raises ``InvalidRecord``
    when the delete has no email (the vendor finds contacts by email)."""
    if not change.email:
        raise InvalidRecord(
            "email", "required_for_delete", None, "a delete needs the email to find the contact"
        )
    return VendorRecord(change.source_id, change.email, properties, change.meta.trace_id)


@dataclass(frozen=True)
class VendorRecordBuilder:
    """Builds the record of any change for one platform and delete policy (its properties)."""

    platform: Platform
    delete_properties: Mapping[str, PropertyValue] = field(default_factory=dict)

    def __call__(self, change: CustomerChange) -> VendorRecord:
        """The record for ``change``. Raises ``InvalidRecord``."""
        if isinstance(change, CustomerDelete):
            return delete_record(change, self.delete_properties)
        return upsert_record(self.platform, change)
