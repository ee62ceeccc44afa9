"""Canonical customer <-> vendor properties, from ``schemas/mappings/<platform>.yaml``.

The file is loaded into a ``VendorMapping`` spec (``load_vendor_mapping``, raises
``MappingFileError``) and compiled into per-property codecs; otherwise pure.

``compiled_mapping(platform).encode`` gives the vendor properties of canonical fields (the
records themselves are built in ``streams.mapping.vendor_record``); ``from_vendor`` reads
vendor properties back into canonical fields (round-trip tests, the audit). Each mapping file
is loaded and compiled once per process. Both raise ``InvalidRecord`` only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from streams.contracts import (
    InvalidRecord,
    PropertyValue,
    quote,
)
from streams.mapping import exact_json
from streams.mapping.mapping_files import (
    MAPPINGS_DIR,
    EnumRule,
    MappingFileError,
    canonical_properties,
    company_properties,
    enum_rule,
    load_checked,
)

Platform = Literal["hubspot", "marketo"]
VENDOR_FILE_SUFFIX: Mapping[str, str] = {"contacts": "", "companies": "_companies"}
"""Object type -> the platform file's name suffix (``hubspot_companies.yaml``)."""
PLATFORMS: tuple[Platform, ...] = ("hubspot", "marketo")


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


def load_vendor_mapping(platform: Platform, object_type: str = "contacts") -> VendorMapping:
    """Load ``schemas/mappings/<platform>.yaml`` (contacts) or ``<platform>_companies.yaml``
    (companies, checked against the company schema). Raises ``MappingFileError``."""
    if object_type not in VENDOR_FILE_SUFFIX:
        raise MappingFileError(f"no platform mapping file for object type {object_type!r}")
    path = MAPPINGS_DIR / f"{platform}{VENDOR_FILE_SUFFIX[object_type]}.yaml"
    doc = load_checked(path, "vendor_mapping.schema.json")
    if doc["platform"] != platform:
        raise MappingFileError(f"{path}: platform is {doc['platform']!r}, expected {platform!r}")
    known = canonical_properties() if object_type == "contacts" else company_properties()
    rules = []
    for prop, raw in doc["properties"].items():
        if raw["field"] not in known:
            raise MappingFileError(f"{path}: properties/{prop}: unknown field {raw['field']!r}")
        enum = enum_rule(raw.get("enum"))
        if enum is not None and len(set(enum.map.values())) != len(enum.map):
            raise MappingFileError(f"{path}: properties/{prop}: enum map is not one-to-one")
        rules.append(PropertyRule(prop, raw["field"], raw.get("codec", "text"), enum))
    if doc["id_property"] not in doc["properties"]:
        raise MappingFileError(f"{path}: id_property {doc['id_property']!r} is not mapped")
    return VendorMapping(platform, doc["id_property"], doc["value_style"], tuple(rules))


Encode = Callable[[object], PropertyValue]
Decode = Callable[[object], object]
_BOOL_TEXT = {"true": True, "false": False}


@dataclass(frozen=True, slots=True)
class CompiledProperty:
    property: str
    field: str
    encode: Encode
    decode: Decode


def _codec(rule: PropertyRule, strings: bool) -> tuple[Encode, Decode]:
    """Encode (canonical -> vendor) and decode (vendor -> canonical) for one property."""
    null: PropertyValue = "" if strings else None

    def is_null(value: object) -> bool:
        return value is None or (strings and value == "")

    if rule.enum is not None:
        forward, default = dict(rule.enum.map), rule.enum.default
        backward = {v: k for k, v in forward.items()}
        reverse_default = rule.enum.reverse_default

        def encode_enum(value: object) -> PropertyValue:
            return null if value is None else forward.get(str(value), default)

        def decode_enum(value: object) -> object:
            return None if is_null(value) else backward.get(str(value), reverse_default)

        return encode_enum, decode_enum
    if rule.codec in ("boolean", "negated_boolean"):
        negate = rule.codec == "negated_boolean"

        def encode_bool(value: object) -> PropertyValue:
            if value is None:
                return null
            if not isinstance(value, bool):
                raise TypeError(f"expected a boolean, got {type(value).__name__}")
            flag = value != negate
            return ("true" if flag else "false") if strings else flag

        def decode_bool(value: object) -> object:
            if is_null(value):
                return None
            flag = _BOOL_TEXT.get(value.lower()) if isinstance(value, str) else value
            if not isinstance(flag, bool):
                raise ValueError(f"not a boolean: {quote(value)}")
            return flag != negate

        return encode_bool, decode_bool
    if rule.codec == "json":

        def encode_json(value: object) -> PropertyValue:
            if value is None:
                return null
            # compact, sorted keys, UTF-8, numbers exact (big ints, Decimals): stable text
            return exact_json.dumps_sorted(value)

        def decode_json(value: object) -> object:
            if is_null(value):
                return None
            if not isinstance(value, str):
                raise TypeError(f"expected JSON text, got {type(value).__name__}")
            return exact_json.loads(value)

        return encode_json, decode_json

    def encode_text(value: object) -> PropertyValue:
        if value is None:
            return null
        if value.__class__ is str:
            return value
        if isinstance(value, (bool, int, float)):
            return str(value) if strings else value
        raise TypeError(f"expected a scalar, got {type(value).__name__}")

    def decode_text(value: object) -> object:
        return None if is_null(value) else str(value)

    return encode_text, decode_text


class CompiledVendorMapping:
    """One vendor mapping file compiled to per-property functions."""

    def __init__(self, spec: VendorMapping) -> None:
        self.spec = spec
        strings = spec.value_style == "strings"
        self.properties = tuple(
            CompiledProperty(rule.property, rule.field, *_codec(rule, strings))
            for rule in spec.properties
        )
        self.__codec_names = {
            r.property: r.codec if r.enum is None else "enum" for r in spec.properties
        }

    def __fail(self, prop: CompiledProperty, value: object, exc: Exception) -> InvalidRecord:
        rule = f"{self.spec.platform}:{prop.property}:{self.__codec_names[prop.property]}"
        return InvalidRecord(prop.field, rule, value, f"{prop.field} -> {rule}: {exc}")

    def encode(self, canonical: Mapping[str, object]) -> dict[str, PropertyValue]:
        """Vendor properties for the canonical fields present (absent fields stay absent)."""
        out: dict[str, PropertyValue] = {}
        for prop in self.properties:
            if prop.field in canonical:
                value = canonical[prop.field]
                try:
                    out[prop.property] = prop.encode(value)
                except (TypeError, ValueError) as exc:
                    raise self.__fail(prop, value, exc) from exc
        return out

    def decode(self, properties: Mapping[str, object]) -> dict[str, object]:
        """Canonical fields for the mapped vendor properties present."""
        out: dict[str, object] = {}
        for prop in self.properties:
            if prop.property in properties:
                value = properties[prop.property]
                try:
                    out[prop.field] = prop.decode(value)
                except (TypeError, ValueError) as exc:
                    raise self.__fail(prop, value, exc) from exc
        return out


@functools.cache
def compiled_mapping(platform: Platform, object_type: str = "contacts") -> CompiledVendorMapping:
    """The compiled mapping of one platform's object type (loaded from its file once). Raises
    ``MappingFileError`` for an object type without a platform file."""
    return CompiledVendorMapping(load_vendor_mapping(platform, object_type))


VALUE_STYLES: Mapping[Platform, Literal["strings", "native"]] = {
    "hubspot": "strings",
    "marketo": "native",
}


def inline_mapping(
    platform: Platform, properties: Mapping[str, Mapping[str, str]]
) -> CompiledVendorMapping:
    """A table's own property map (``target.<platform>`` of its mapping file), compiled with
    the platform's value style. Its ``id_property`` is unused (the record carries the lookup
    value)."""
    rules = tuple(
        PropertyRule(prop, raw["field"], raw.get("codec", "text"))
        for prop, raw in properties.items()
    )
    return CompiledVendorMapping(VendorMapping(platform, "", VALUE_STYLES[platform], rules))


def from_vendor(platform: Platform, properties: Mapping[str, object]) -> dict[str, object]:
    """Canonical fields (``source_id`` included when mapped) from vendor properties; unmapped
    properties are ignored. Raises ``InvalidRecord`` for a value the mapping cannot read."""
    return compiled_mapping(platform).decode(properties)
