"""The sandbox's in-memory state: contacts/leads, tokens, rate windows and request counters.

The app runs on one event loop, so handlers mutate this without locks (no ``await`` between a
check and its update).
"""

from __future__ import annotations

import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field

from sandbox_platform.catalog import (
    HUBSPOT_COMPANY_DEFAULTS,
    HUBSPOT_DEFAULTS,
    MARKETO_DEFAULTS,
    Catalog,
)
from sandbox_platform.companies import Associations, CompanyStore
from sandbox_platform.knobs import Knobs


def now_iso() -> str:
    """Now as the vendors write it: UTC with milliseconds (``2019-10-30T03:30:17.883Z``)."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


@dataclass
class Contact:
    """A HubSpot contact or a Marketo lead (one store per vendor)."""

    id: int
    properties: dict[str, str | None]
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)


class ContactStore:
    """Contacts keyed by id with a case-insensitive email index (Marketo may hold duplicates)."""

    def __init__(self, first_id: int) -> None:
        self.__next_id = first_id
        self.by_id: dict[int, Contact] = {}
        self.__by_email: dict[str, list[int]] = {}

    @staticmethod
    def __key(contact: Contact) -> str:
        return (contact.properties.get("email") or "").strip().casefold()

    def find_by_email(self, email: str) -> list[Contact]:
        ids = self.__by_email.get(email.strip().casefold(), [])
        return [self.by_id[i] for i in ids]

    def create(self, properties: dict[str, str | None]) -> Contact:
        contact = Contact(self.__next_id, dict(properties))
        self.by_id[contact.id] = contact
        self.__by_email.setdefault(self.__key(contact), []).append(contact.id)
        self.__next_id += 1
        return contact

    def update(self, contact: Contact, properties: dict[str, str | None]) -> None:
        self.__unindex(contact)
        contact.properties.update(properties)
        contact.updated_at = now_iso()
        self.__by_email.setdefault(self.__key(contact), []).append(contact.id)

    def delete(self, contact_id: int) -> bool:
        contact = self.by_id.pop(contact_id, None)
        if contact is not None:
            self.__unindex(contact)
        return contact is not None

    def __unindex(self, contact: Contact) -> None:
        ids = self.__by_email.get(self.__key(contact), [])
        if contact.id in ids:
            ids.remove(contact.id)

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


class SlidingWindow:
    """Counts accepted calls in the last ``window_s`` seconds (a rolling window)."""

    def __init__(self) -> None:
        self.stamps: deque[float] = deque()

    def count(self, now: float, window_s: float) -> int:
        while self.stamps and self.stamps[0] <= now - window_s:
            self.stamps.popleft()
        return len(self.stamps)

    def add(self, now: float) -> None:
        self.stamps.append(now)


@dataclass
class Token:
    value: str
    expires_at: float


@dataclass
class SandboxState:
    """Everything the sandbox remembers; ``reset`` empties it but keeps the knobs."""

    knobs: Knobs
    hubspot: ContactStore = field(default_factory=lambda: ContactStore(1001))
    marketo: ContactStore = field(default_factory=lambda: ContactStore(5001))
    tokens: dict[str, Token] = field(default_factory=dict)
    hubspot_window: SlidingWindow = field(default_factory=SlidingWindow)
    marketo_window: SlidingWindow = field(default_factory=SlidingWindow)
    hubspot_daily: int = 0
    marketo_daily: int = 0
    marketo_in_flight: int = 0
    outage_until: float = 0.0
    by_status: Counter[str] = field(default_factory=Counter)
    by_endpoint: dict[str, Counter[str]] = field(default_factory=dict)
    marketo_errors: Counter[str] = field(default_factory=Counter)
    log: deque[dict[str, object]] = field(default_factory=lambda: deque(maxlen=20_000))
    webhooks_sent: Counter[str] = field(default_factory=Counter)
    hubspot_properties: Catalog = field(default_factory=lambda: Catalog(HUBSPOT_DEFAULTS))
    marketo_fields: Catalog = field(default_factory=lambda: Catalog(MARKETO_DEFAULTS))
    hubspot_company_properties: Catalog = field(
        default_factory=lambda: Catalog(HUBSPOT_COMPANY_DEFAULTS)
    )
    hubspot_companies: CompanyStore = field(default_factory=lambda: CompanyStore(7001))
    marketo_companies: CompanyStore = field(default_factory=lambda: CompanyStore(9001))
    hubspot_associations: Associations = field(default_factory=Associations)
    # Email addresses unsubscribed from all email (HubSpot keeps opt-out per address).
    hubspot_optouts: set[str] = field(default_factory=set)

    def record(self, endpoint: str, status: int, marketo_code: str = "") -> None:
        label = f"{status}:{marketo_code}" if marketo_code else str(status)
        self.by_status[str(status)] += 1
        self.by_endpoint.setdefault(endpoint, Counter())[label] += 1
        if marketo_code:
            self.marketo_errors[marketo_code] += 1
        self.log.append({"t": time.time(), "endpoint": endpoint, "status": label})

    def issue_token(self, now: float) -> Token:
        """Marketo-like: an unexpired token is handed out again with its remaining life."""
        for token in self.tokens.values():
            if token.expires_at > now:
                return token
        value = self.knobs.marketo_fixed_token or f"{uuid.uuid4()}:sb"
        token = Token(value, now + self.knobs.token_lifetime_s)
        self.tokens[token.value] = token
        return token

    def reset(self) -> None:
        """Empty everything but the knobs and the property catalogs (schema, not data)."""
        knobs, hubspot, marketo = self.knobs, self.hubspot_properties, self.marketo_fields
        companies = self.hubspot_company_properties
        self.__init__(  # type: ignore[misc]
            knobs,
            hubspot_properties=hubspot,
            marketo_fields=marketo,
            hubspot_company_properties=companies,
        )
