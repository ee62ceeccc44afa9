"""The sandbox's companies (HubSpot companies, Marketo companies) and HubSpot's contact ↔
company associations. Plain data; the vendor rules live in the route modules.

HubSpot associations v4 (reference §6): the default (unlabeled) contact → company association
has type id 279 (company → contact 280), category ``HUBSPOT_DEFINED``; an association is a pair
of record ids, both of which must exist.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

CONTACT_TO_COMPANY = 279
COMPANY_TO_CONTACT = 280


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


@dataclass
class Company:
    id: int
    properties: dict[str, str | None]
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)


class CompanyStore:
    """Companies by id; ``find`` looks one up by a property's exact value (the unique property
    for HubSpot, ``externalCompanyId`` for Marketo), through an index kept per property."""

    def __init__(self, first_id: int) -> None:
        self.__next_id = first_id
        self.by_id: dict[int, Company] = {}
        self.__index: dict[tuple[str, str], int] = {}

    def find(self, name: str, value: str) -> Company | None:
        company_id = self.__index.get((name, value))
        return self.by_id.get(company_id) if company_id is not None else None

    def create(self, properties: dict[str, str | None]) -> Company:
        company = Company(self.__next_id, {})
        self.__next_id += 1
        self.by_id[company.id] = company
        self.update(company, properties)
        return company

    def update(self, company: Company, properties: dict[str, str | None]) -> None:
        for name, value in properties.items():
            old = company.properties.get(name)
            if old is not None:
                self.__index.pop((name, old), None)
            if value is not None:
                self.__index[(name, value)] = company.id
        company.properties.update(properties)
        company.updated_at = now_iso()

    def delete(self, company_id: int) -> Company | None:
        company = self.by_id.pop(company_id, None)
        if company is not None:
            for name, value in company.properties.items():
                if value is not None and self.__index.get((name, value)) == company_id:
                    del self.__index[(name, value)]
        return company

    def listing(self) -> list[dict[str, object]]:
        return [
            {
                "id": str(c.id),
                "properties": c.properties,
                "createdAt": c.created_at,
                "updatedAt": c.updated_at,
            }
            for c in sorted(self.by_id.values(), key=lambda c: c.id)
        ]


class Associations:
    """HubSpot contact ↔ company pairs (default type), readable from both sides."""

    def __init__(self) -> None:
        self.__companies: dict[int, set[int]] = {}
        self.__contacts: dict[int, set[int]] = {}

    def add(self, contact_id: int, company_id: int) -> None:
        self.__companies.setdefault(contact_id, set()).add(company_id)
        self.__contacts.setdefault(company_id, set()).add(contact_id)

    def remove(self, contact_id: int, company_id: int) -> None:
        self.__companies.get(contact_id, set()).discard(company_id)
        self.__contacts.get(company_id, set()).discard(contact_id)

    def companies_of(self, contact_id: int) -> list[int]:
        return sorted(self.__companies.get(contact_id, ()))

    def contacts_of(self, company_id: int) -> list[int]:
        return sorted(self.__contacts.get(company_id, ()))

    def drop_contact(self, contact_id: int) -> None:
        """Deleting a record deletes its associations (HubSpot does)."""
        for company_id in self.__companies.pop(contact_id, set()):
            self.__contacts.get(company_id, set()).discard(contact_id)

    def drop_company(self, company_id: int) -> None:
        for contact_id in self.__contacts.pop(company_id, set()):
            self.__companies.get(contact_id, set()).discard(company_id)

    def listing(self) -> list[dict[str, object]]:
        return [
            {"contactId": str(k), "companyId": str(c), "associationTypeId": CONTACT_TO_COMPANY}
            for k in sorted(self.__companies)
            for c in sorted(self.__companies[k])
        ]
