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

Per table (the change's ``meta.source_table``): a table whose mapping file writes its own
vendor properties (``target.<platform>``) is encoded with them and looked up by its
``target.id_field``; every record carries its table's ``target.object_type`` (``contacts``
unless the file says otherwise). Tables without their own map use the platform file of their
object type: ``<platform>.yaml`` for contacts, ``<platform>_companies.yaml`` for companies
(``companies.yaml``'s ``target``: looked up by ``id_field: source_id``, the company's source
id, which is also how a contact's ``company_id`` names it). A delete of a table whose
``object_type`` is not contacts carries no properties: the adapter removes the object by the
vendor's mechanism for it (``DeletePlan.send``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from streams.contracts import (
    CustomerChange,
    CustomerDelete,
    CustomerUpsert,
    InvalidRecord,
    PropertyValue,
    VendorRecord,
)
from streams.mapping.mapping_files import MappingFileError
from streams.mapping.table_mapping import DEFAULT_OBJECT_TYPE, TableMapping
from streams.mapping.vendor_mapping import (
    VENDOR_FILE_SUFFIX,
    CompiledVendorMapping,
    Platform,
    compiled_mapping,
    inline_mapping,
)


@dataclass(frozen=True)
class RecordTarget:
    """How one table's changes become records: its own compiled property map (``None``: the
    platform file's), the canonical field holding the lookup value, the vendor object kind."""

    mapping: CompiledVendorMapping | None = None
    id_field: str = "email"
    object_type: str = DEFAULT_OBJECT_TYPE


DEFAULT_TARGET = RecordTarget()


def record_targets(platform: Platform, mappings: Iterable[TableMapping]) -> dict[str, RecordTarget]:
    """Table -> ``RecordTarget`` for the tables whose files say more than the default. Raises
    ``MappingFileError`` for an object type with neither its own properties nor a platform
    file."""
    targets: dict[str, RecordTarget] = {}
    for mapping in mappings:
        target = mapping.target
        own = target.properties.get(platform)
        if own is None and target.object_type == DEFAULT_OBJECT_TYPE:
            continue
        if own is not None:
            compiled: CompiledVendorMapping | None = inline_mapping(platform, own)
        elif target.object_type in VENDOR_FILE_SUFFIX:
            compiled = compiled_mapping(platform, target.object_type)
        else:
            raise MappingFileError(
                f"{mapping.table}: target.object_type {target.object_type!r} has no platform "
                f"file: write the vendor properties under target.{platform}"
            )
        targets[mapping.table] = RecordTarget(compiled, target.id_field, target.object_type)
    return targets


def upsert_record(
    platform: Platform, change: CustomerUpsert, target: RecordTarget = DEFAULT_TARGET
) -> VendorRecord:
    """The record of an upsert (see module docstring). Raises ``InvalidRecord`` when the change
    has no lookup value (the email, for contacts), or a value the vendor mapping cannot
    encode."""
    id_field = target.id_field
    value = change.source_id if id_field == "source_id" else change.fields.get(id_field)
    if not isinstance(value, str) or not value:
        raise InvalidRecord(
            id_field, "required", value, f"an upsert needs the {id_field} lookup value"
        )
    if target.mapping is None:
        props = compiled_mapping(platform).encode({"source_id": change.source_id, **change.fields})
        previous = change.previous_email
    else:  # a table writing properties of an object it does not own never renames it
        props = target.mapping.encode({"source_id": change.source_id, **change.fields})
        previous = None
    return VendorRecord(
        change.source_id, value, props, change.meta.trace_id, previous, target.object_type
    )


def delete_record(
    change: CustomerDelete,
    properties: Mapping[str, PropertyValue],
    target: RecordTarget = DEFAULT_TARGET,
) -> VendorRecord:
    """The record of a delete carrying the policy's ``properties`` (none for an object other
    than contacts). Raises ``InvalidRecord`` when the delete has no email (the vendor finds
    contacts by email)."""
    if target.id_field == "source_id":
        props = properties if target.object_type == DEFAULT_OBJECT_TYPE else {}
        return VendorRecord(
            change.source_id, change.source_id, props, change.meta.trace_id, None,
            target.object_type,
        )  # fmt: skip
    if not change.email:
        raise InvalidRecord(
            "email", "required_for_delete", None, "a delete needs the email to find the contact"
        )
    return VendorRecord(
        change.source_id, change.email, properties, change.meta.trace_id, None, target.object_type
    )


@dataclass(frozen=True)
class VendorRecordBuilder:
    """Builds the record of any change for one platform and delete policy (its properties)."""

    platform: Platform
    delete_properties: Mapping[str, PropertyValue] = field(default_factory=dict)
    targets: Mapping[str, RecordTarget] = field(default_factory=dict)
    """Table -> its ``RecordTarget`` (``record_targets``); other tables: the default."""

    def __call__(self, change: CustomerChange) -> VendorRecord:
        """The record for ``change``. Raises ``InvalidRecord``."""
        target = self.targets.get(change.meta.source_table, DEFAULT_TARGET)
        if isinstance(change, CustomerDelete):
            return delete_record(change, self.delete_properties, target)
        return upsert_record(self.platform, change, target)
