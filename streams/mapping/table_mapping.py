"""A table mapping file (``schemas/mappings/customers.yaml``) loaded into a typed spec.

Validated against its own JSON Schema and against the canonical schema's field list (the
schema the file names, or one written inline); the result is frozen dataclasses. Raises
``MappingFileError`` naming the file and the problem. ``target`` says which vendor object the
rows write and, for a table the platform files do not map, the vendor properties of each field
(see schemas/README.md, "Add a table").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from streams.mapping.mapping_files import (
    MAPPINGS_DIR,
    SCHEMAS_DIR,
    EnumRule,
    MappingFileError,
    enum_rule,
    load_checked,
    load_json,
)

DEFAULT_OBJECT_TYPE = "contacts"
RESERVED_FIELDS = ("source_id", "deleted", "sync")


@dataclass(frozen=True)
class TableTarget:
    """The vendor object a table's rows write. ``properties``: platform -> vendor property ->
    ``{"field", "codec"}`` written in the table's file; empty: the platform files map it.
    ``on_delete``: ``policy`` (the sync delete policy) or ``ignore`` (a row delete sends
    nothing: e.g. a table whose rows write properties of another table's contacts)."""

    object_type: str = DEFAULT_OBJECT_TYPE
    id_field: str = "email"
    on_delete: Literal["policy", "ignore"] = "policy"
    properties: Mapping[str, Mapping[str, Mapping[str, str]]] = field(
        default_factory=dict, compare=False
    )


@dataclass(frozen=True)
class FieldRule:
    """One canonical field from one column."""

    name: str
    column: str
    encoding: str
    scale: int | None = None
    normalise: tuple[str, ...] = ()
    default_region: str = "US"
    region_column: str | None = None  # phone: parse national numbers in this row's country
    enum: EnumRule | None = None
    required: bool = False


@dataclass(frozen=True)
class TableMapping:
    name: str
    table: str
    topics: tuple[str, ...]
    primary_key: str
    primary_key_encoding: str
    fields: tuple[FieldRule, ...]
    target: TableTarget = TableTarget()
    canonical_schema: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """The JSON Schema every change's canonical document is checked against."""


def canonical_schema_of(path: Path, named: str | Mapping[str, Any]) -> Mapping[str, Any]:
    """The schema a mapping file names (package ``schemas/``, else beside the file) or writes
    inline. Raises ``MappingFileError``."""
    if not isinstance(named, str):
        return named
    for candidate in (SCHEMAS_DIR / named, path.parent / named):
        if candidate.is_file():
            schema: Mapping[str, Any] = load_json(candidate)
            return schema
    raise MappingFileError(f"{path}: canonical_schema: {named!r} not found")


def _target(path: Path, raw: Mapping[str, Any] | None, fields: set[str]) -> TableTarget:
    raw = raw or {}
    target = TableTarget(
        raw.get("object_type", DEFAULT_OBJECT_TYPE),
        raw.get("id_field", "email"),
        raw.get("on_delete", "policy"),
        {p: raw[p] for p in ("hubspot", "marketo") if p in raw},
    )
    if target.properties and target.id_field not in fields:
        raise MappingFileError(f"{path}: target/id_field: {target.id_field!r} is not a field")
    for platform, properties in target.properties.items():
        for prop, rule in properties.items():
            if rule["field"] not in fields and rule["field"] != "source_id":
                raise MappingFileError(
                    f"{path}: target/{platform}/{prop}: unknown field {rule['field']!r}"
                )
    return target


def load_table_mapping(path: Path = MAPPINGS_DIR / "customers.yaml") -> TableMapping:
    """Load an internal-table mapping. Raises ``MappingFileError``."""
    doc = load_checked(path, "table_mapping.schema.json")
    schema = canonical_schema_of(path, doc["canonical_schema"])
    known: Mapping[str, Any] = schema.get("properties", {})
    fields = []
    for name, raw in doc["fields"].items():
        if name not in known or name in RESERVED_FIELDS:
            raise MappingFileError(f"{path}: fields/{name}: not a mappable canonical field")
        rule = FieldRule(
            name=name,
            column=raw["column"],
            encoding=raw["encoding"],
            scale=raw.get("scale"),
            normalise=tuple(raw.get("normalise", ())),
            default_region=raw.get("default_region", "US"),
            region_column=raw.get("region_from"),
            enum=enum_rule(raw.get("enum")),
            required=raw.get("required", False),
        )
        allowed = known[name].get("enum")
        if rule.enum is not None and allowed is not None:
            bad = {*rule.enum.map.values(), rule.enum.default} - set(allowed)
            if bad:
                raise MappingFileError(f"{path}: fields/{name}: not canonical values: {bad}")
        fields.append(rule)
    source = doc["source"]
    return TableMapping(
        name=doc["name"],
        table=source["table"],
        topics=tuple(source["topics"]),
        primary_key=source["primary_key"],
        primary_key_encoding=source.get("primary_key_encoding", "integer"),
        fields=tuple(fields),
        target=_target(path, doc.get("target"), {f.name for f in fields}),
        canonical_schema=schema,
    )
