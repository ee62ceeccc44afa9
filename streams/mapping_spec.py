"""The declarative mapping files in ``schemas/mappings/``, loaded into typed specs.

Reads YAML files (the only file I/O of the mapping code, done once at start-up), validates each
against its own JSON Schema and against the canonical schema's field list, and returns frozen
dataclasses. ``MappingFileError`` names the file and what is wrong with it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jsonschema
import yaml

from cdcbridge import package_data
from cdcbridge.errors import FatalError

SCHEMAS_DIR = package_data.schemas_dir()
MAPPINGS_DIR = SCHEMAS_DIR / "mappings"
CUSTOMER_SCHEMA_PATH = SCHEMAS_DIR / "customer.schema.json"

Platform = Literal["hubspot", "marketo"]
PLATFORMS: tuple[Platform, ...] = ("hubspot", "marketo")


class MappingFileError(FatalError, ValueError):
    """A mapping file is malformed or refers to something that does not exist."""


@dataclass(frozen=True)
class EnumRule:
    map: Mapping[str, str]
    default: str
    reverse_default: str = ""


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


@dataclass(frozen=True)
class PropertyRule:
    """One vendor property from one canonical field."""

    property: str
    field: str
    codec: str = "text"
    enum: EnumRule | None = None


@dataclass(frozen=True)
class VendorMapping:
    platform: Platform
    id_property: str
    value_style: Literal["strings", "native"]
    properties: tuple[PropertyRule, ...]


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _load_checked(path: Path, schema_name: str) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MappingFileError(f"{path}: cannot read: {exc}") from exc
    validator = jsonschema.Draft202012Validator(load_json(MAPPINGS_DIR / schema_name))
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(root)"
        raise MappingFileError(f"{path}: {where}: {errors[0].message}")
    assert isinstance(document, dict)
    return document


def canonical_properties() -> Mapping[str, Any]:
    """Field name -> JSON Schema of the canonical customer's properties."""
    properties: Mapping[str, Any] = load_json(CUSTOMER_SCHEMA_PATH)["properties"]
    return properties


def _enum_rule(raw: Mapping[str, Any] | None) -> EnumRule | None:
    if raw is None:
        return None
    return EnumRule(dict(raw["map"]), raw["default"], raw.get("reverse_default", ""))


def load_table_mapping(path: Path = MAPPINGS_DIR / "customers.yaml") -> TableMapping:
    """Load an internal-table mapping. Raises ``MappingFileError``."""
    doc = _load_checked(path, "table_mapping.schema.json")
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
            enum=_enum_rule(raw.get("enum")),
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


def load_vendor_mapping(platform: Platform) -> VendorMapping:
    """Load ``schemas/mappings/<platform>.yaml``. Raises ``MappingFileError``."""
    path = MAPPINGS_DIR / f"{platform}.yaml"
    doc = _load_checked(path, "vendor_mapping.schema.json")
    if doc["platform"] != platform:
        raise MappingFileError(f"{path}: platform is {doc['platform']!r}, expected {platform!r}")
    known = canonical_properties()
    rules = []
    for prop, raw in doc["properties"].items():
        if raw["field"] not in known:
            raise MappingFileError(f"{path}: properties/{prop}: unknown field {raw['field']!r}")
        enum = _enum_rule(raw.get("enum"))
        if enum is not None and len(set(enum.map.values())) != len(enum.map):
            raise MappingFileError(f"{path}: properties/{prop}: enum map is not one-to-one")
        rules.append(PropertyRule(prop, raw["field"], raw.get("codec", "text"), enum))
    if doc["id_property"] not in doc["properties"]:
        raise MappingFileError(f"{path}: id_property {doc['id_property']!r} is not mapped")
    return VendorMapping(platform, doc["id_property"], doc["value_style"], tuple(rules))
