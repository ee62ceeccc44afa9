"""Each vendor's property catalog: the default contact/lead properties, the custom ones created
through the properties API, which are read-only, and enumerated options.

Rules and sources (shared/reference/marketing_platforms.md):
- HubSpot (§4): a property must exist to be written (``PROPERTY_DOESNT_EXIST``); a property
  whose ``modificationMetadata.readOnlyValue`` is true cannot be written (``READ_ONLY_VALUE``:
  "... is a read only property; its value cannot be set", e.g. ``hs_email_optout`` §5,
  ``hs_object_id``, ``lastmodifieddate``); an enumeration takes only its options' values
  (``INVALID_OPTION``; ``lifecyclestage``'s eight default stages); ``""`` clears any value.
- Marketo (§8): a field must exist for REST (``describe``) or the record is skipped with 1006
  "field not found"; ``id`` is system-managed (sent only as the ``updateOnly`` lookup).
The catalog is schema, not data: the admin reset keeps it (a portal's properties survive its
contacts).
"""

from __future__ import annotations

from dataclasses import dataclass, field

LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)


@dataclass
class PropertyDef:
    """One property (HubSpot) or lead field (Marketo) as the vendor describes it."""

    name: str
    label: str
    type: str  # HubSpot ``type`` / Marketo ``dataType``
    field_type: str = "text"  # HubSpot ``fieldType`` (unused for Marketo)
    group: str = "contactinformation"
    read_only: bool = False
    custom: bool = False
    options: tuple[str, ...] = ()
    description: str = ""
    unique: bool = False  # HubSpot ``hasUniqueValue``: usable as ``idProperty``
    extra: dict[str, object] = field(default_factory=dict)


def _hs(
    name: str, label: str, type_: str = "string", field_type: str = "text", **kw: object
) -> PropertyDef:
    return PropertyDef(name, label, type_, field_type, **kw)  # type: ignore[arg-type]


HUBSPOT_DEFAULTS = (
    _hs("email", "Email"),
    _hs("firstname", "First Name"),
    _hs("lastname", "Last Name"),
    _hs("phone", "Phone Number", "string", "phonenumber"),
    _hs("mobilephone", "Mobile Phone Number", "string", "phonenumber"),
    _hs("company", "Company Name"),
    _hs("jobtitle", "Job Title"),
    _hs("website", "Website URL"),
    _hs("address", "Street Address"),
    _hs("city", "City"),
    _hs("state", "State/Region"),
    _hs("zip", "Postal Code"),
    _hs("country", "Country/Region"),
    _hs("date_of_birth", "Date of birth"),
    _hs(
        "lifecyclestage",
        "Lifecycle Stage",
        "enumeration",
        "radio",
        options=LIFECYCLE_STAGES,
    ),
    _hs("hs_object_id", "Record ID", "number", "number", read_only=True),
    _hs("createdate", "Create Date", "datetime", "date", read_only=True),
    _hs("lastmodifieddate", "Last Modified Date", "datetime", "date", read_only=True),
    _hs(
        "hs_email_optout",
        "Unsubscribed from all email",
        "bool",
        "booleancheckbox",
        read_only=True,
        options=("true", "false"),
    ),
)


HUBSPOT_COMPANY_DEFAULTS = (
    _hs("name", "Company name", group="companyinformation"),
    _hs("domain", "Company Domain Name", group="companyinformation"),
    _hs("industry", "Industry", group="companyinformation"),
    _hs("numberofemployees", "Number of Employees", "number", "number", group="companyinformation"),
    _hs("country", "Country/Region", group="companyinformation"),
    _hs("hs_object_id", "Record ID", "number", "number", read_only=True),
    _hs("createdate", "Create Date", "datetime", "date", read_only=True),
    _hs("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", read_only=True),
)
"""HubSpot's default company properties cdcbridge writes or reads. None is unique: several
companies may share a ``domain`` (reference §6), so upserts need a custom unique property."""


def _mk(name: str, label: str, data_type: str = "string", read_only: bool = False) -> PropertyDef:
    return PropertyDef(name, label, data_type, read_only=read_only)


MARKETO_DEFAULTS = (
    _mk("id", "Id", "integer", read_only=True),
    _mk("email", "Email Address", "email"),
    _mk("firstName", "First Name"),
    _mk("lastName", "Last Name"),
    _mk("phone", "Phone Number", "phone"),
    _mk("company", "Company Name"),
    _mk("title", "Job Title"),
    _mk("leadStatus", "Lead Status"),
    _mk("country", "Country"),
    _mk("city", "City"),
    _mk("dateOfBirth", "Date of Birth", "date"),
    _mk("unsubscribed", "Unsubscribed", "boolean"),
    _mk("unsubscribedReason", "Unsubscribed Reason", "text"),
    _mk("externalCompanyId", "External Company Id"),
    _mk("createdAt", "Created At", "datetime", read_only=True),
    _mk("updatedAt", "Updated At", "datetime", read_only=True),
)


class Catalog:
    """Properties by name. HubSpot names are lower-case; Marketo's REST names are camelCase
    and matched exactly."""

    def __init__(self, defaults: tuple[PropertyDef, ...]) -> None:
        self.by_name: dict[str, PropertyDef] = {p.name: p for p in defaults}

    def get(self, name: str) -> PropertyDef | None:
        return self.by_name.get(name)

    def add(self, prop: PropertyDef) -> bool:
        """False when a property of that name exists already (nothing changes)."""
        if prop.name in self.by_name:
            return False
        self.by_name[prop.name] = prop
        return True

    def all(self) -> list[PropertyDef]:
        return list(self.by_name.values())


@dataclass(frozen=True)
class WriteRefusal:
    """Why a vendor refuses to write one property value."""

    code: str
    name: str
    message: str


def hubspot_refusal(catalog: Catalog, props: dict[str, str | None]) -> WriteRefusal | None:
    """The first property HubSpot would refuse to write, or None."""
    for name, value in props.items():
        prop = catalog.get(name)
        if prop is None:
            return WriteRefusal("PROPERTY_DOESNT_EXIST", name, f'Property "{name}" does not exist')
        if prop.read_only:
            return WriteRefusal(
                "READ_ONLY_VALUE", name, f"{name} is a read only property; its value cannot be set."
            )
        if prop.options and value not in ("", None) and value not in prop.options:
            return WriteRefusal(
                "INVALID_OPTION",
                name,
                f"{value} was not one of the allowed options: {list(prop.options)}",
            )
    return None


def marketo_unknown_field(catalog: Catalog, fields: list[str]) -> str | None:
    """The first field Marketo does not have (skipped with 1006), or None."""
    return next((name for name in fields if catalog.get(name) is None), None)
