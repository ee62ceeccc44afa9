"""The vendor properties our mappings write, and making sure they exist.

A fresh HubSpot portal or Marketo instance has its default contact properties / lead fields
but none of ours (``cdcbridge_*`` on HubSpot, ``cdcbridge*`` on Marketo): every write of them
is refused (HubSpot ``PROPERTY_DOESNT_EXIST``, Marketo skipped 1006). ``setup`` creates the
missing custom ones through the vendor's properties API, idempotently; ``missing_properties``
lists what a mapping writes that the vendor lacks (``cdcbridge platform check``, the sync
start-up check and ``doctor`` call it). A missing *default* property cannot be created by us
(an admin deleted or renamed it, or the mapping is wrong): it is reported, never created.
The contact properties a table's own mapping file writes (``target.<platform>``, tables of
``CDCBRIDGE_MAPPINGS_DIR`` included) are required too, by the same rule: a ``cdcbridge``-prefixed
one is created, any other must exist.

Permissions (README "Least privilege"): listing needs HubSpot ``crm.objects.contacts.read``
(or ``crm.schemas.contacts.read``) / Marketo Read-Only Lead (``leads/describe.json``);
creating needs HubSpot ``crm.schemas.contacts.write`` / Marketo Read-Write Schema Custom Field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from streams.mapping.mapping_files import MAPPINGS_DIR, load_checked
from streams.mapping.table_catalog import load_table_mappings
from streams.mapping.table_mapping import DEFAULT_OBJECT_TYPE
from streams.mapping.vendor_mapping import Platform, load_vendor_mapping

Kind = Literal["string", "text", "bool"]
CUSTOM_PREFIX = "cdcbridge"


@dataclass(frozen=True)
class PropertySpec:
    """One property a mapping writes. ``custom``: ours to create (name starts ``cdcbridge``)."""

    name: str
    label: str
    kind: Kind
    custom: bool
    unique: bool = False  # HubSpot ``hasUniqueValue`` (a company's upsert key)


class PropertyCatalog(Protocol):
    """A vendor's property catalog over its API (``property_catalogs``), for one object type
    (``contacts``, or HubSpot ``companies``).

    Both methods raise ``FatalPlatformError`` (credentials or permission refused) or
    ``TransientPlatformError`` (vendor unreachable or busy).
    """

    platform: str
    object_type: str

    def existing(self) -> set[str]:
        """Names of the properties the vendor has (writable or not)."""
        ...

    def create(self, specs: Sequence[PropertySpec]) -> list[str]:
        """Create these properties; returns the names created (an existing one is skipped)."""
        ...


@dataclass(frozen=True)
class SetupReport:
    """What ``setup`` did. ``missing``: still absent after it (defaults are not ours to create:
    an admin must restore them; a custom one the vendor skipped is listed too)."""

    platform: str
    created: list[str]
    present: list[str]
    missing: list[str]

    @property
    def complete(self) -> bool:
        return not self.missing


def _label(name: str) -> str:
    words = name.removeprefix(CUSTOM_PREFIX).strip("_")
    spaced = "".join(f" {c}" if c.isupper() else c for c in words).replace("_", " ").strip()
    return f"cdcbridge {spaced.lower()}" if spaced else "cdcbridge"


def _spec(name: str, codec: str) -> PropertySpec:
    kind: Kind = "bool" if codec == "boolean" else "text" if codec == "json" else "string"
    return PropertySpec(name, _label(name), kind, name.startswith(CUSTOM_PREFIX))


def required_properties(platform: Platform) -> list[PropertySpec]:
    """Every contact property the platform's mapping file writes, in file order, then those
    the tables' own mapping files write (``target.<platform>`` of ``contacts`` tables).
    Raises ``MappingFileError``."""
    rules = load_vendor_mapping(platform).properties
    specs = {rule.property: _spec(rule.property, rule.codec) for rule in rules}
    for mapping in load_table_mappings():
        if mapping.target.object_type != DEFAULT_OBJECT_TYPE:
            continue
        for name, rule in mapping.target.properties.get(platform, {}).items():
            specs.setdefault(name, _spec(name, rule.get("codec", "text")))
    return list(specs.values())


def company_properties(platform: Platform) -> list[PropertySpec]:
    """Every company property ``<platform>_companies.yaml`` writes; the ``id_property`` (ours:
    ``cdcbridge_company_id``) is unique, as HubSpot's upsert by ``idProperty`` requires."""
    doc = load_checked(MAPPINGS_DIR / f"{platform}_companies.yaml", "vendor_mapping.schema.json")
    return [
        PropertySpec(
            name,
            _label(name),
            "string",
            name.startswith(CUSTOM_PREFIX),
            unique=name == doc["id_property"] and name.startswith(CUSTOM_PREFIX),
        )
        for name in doc["properties"]
    ]


def _required(catalog: PropertyCatalog) -> list[PropertySpec]:
    if getattr(catalog, "object_type", "contacts") == "companies":
        return company_properties(_platform(catalog))
    return required_properties(_platform(catalog))


def missing_properties(catalog: PropertyCatalog) -> list[PropertySpec]:
    """The mapped properties the vendor does not have (custom and default alike).

    Raises what ``catalog.existing`` raises."""
    existing = catalog.existing()
    return [p for p in _required(catalog) if p.name not in existing]


def setup(catalog: PropertyCatalog) -> SetupReport:
    """Create the missing custom properties, then list again. Idempotent: a second run creates
    nothing. Raises what the catalog raises."""
    required = _required(catalog)
    before = catalog.existing()
    to_create = [p for p in required if p.custom and p.name not in before]
    created = catalog.create(to_create) if to_create else []
    after = catalog.existing() if to_create else before
    return SetupReport(
        catalog.platform,
        created=created,
        present=[p.name for p in required if p.name in before],
        missing=[p.name for p in required if p.name not in after],
    )


def _platform(catalog: PropertyCatalog) -> Platform:
    if catalog.platform == "hubspot":
        return "hubspot"
    if catalog.platform == "marketo":
        return "marketo"
    raise ValueError(f"no mapping for platform {catalog.platform!r}")
