"""A table mapping file (``schemas/mappings/customers.yaml``) loaded into a typed spec.

Validated against its own JSON Schema and against the canonical schema's field list; the
result is frozen dataclasses. Raises ``MappingFileError`` naming the file and the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from streams.mapping.mapping_files import (
    MAPPINGS_DIR,
    EnumRule,
    MappingFileError,
    canonical_properties,
    enum_rule,
    load_checked,
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


def load_table_mapping(path: Path = MAPPINGS_DIR / "customers.yaml") -> TableMapping:
    """Load an internal-table mapping. Raises ``MappingFileError``."""
    doc = load_checked(path, "table_mapping.schema.json")
    known = canonical_properties()
    fields = []
    for name, raw in doc["fields"].items():
        if name not in known or name in ("source_id", "deleted", "sync"):
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
    )
