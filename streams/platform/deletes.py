"""What a source delete becomes on each vendor: the delete policy, resolved once at startup.

Policies (``CDCBRIDGE_SYNC_DELETE_POLICY``); the default never destroys data:

- ``archive`` (default). HubSpot: ``batch/archive`` (HubSpot keeps it restorable for 90 days).
  Marketo has no archive: the field update of ``unsubscribe`` below.
- ``unsubscribe``. HubSpot: communication preferences v4 ``statuses/batch/unsubscribe-all``
  (``hs_email_optout`` is read-only), or, when ``unsubscribe_properties`` is set, a
  ``batch/update`` of those (custom) properties. Marketo: ``updateOnly`` of
  ``unsubscribe_properties`` (default ``{"unsubscribed": true}``, a standard lead field).
- ``hard_delete``. HubSpot: refused (its permanent delete is GDPR delete; not offered).
  Marketo: ``leads/delete.json`` (permanent).
- ``ignore``: nothing is sent (the offset is still committed).

Companies (``VendorRecord.object_type`` ``companies``) follow the policy with the vendor's
mechanism for companies: HubSpot archives them (``archive`` and ``unsubscribe``: a company has
no subscription; archived companies are restorable and lose their associations); Marketo has
no archive for companies, so only ``hard_delete`` deletes them (``companies/delete.json``) and
the non-destructive policies keep the company (nothing is sent; its leads keep their link).

Field updates never create a contact (a delete of someone the vendor never had is a no-op).
Sources: shared/reference/marketing_platforms.md §4, §5, §8.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdcbridge.errors import FatalError
from streams.contracts import (
    COMPANIES,
    DeleteMechanism,
    PlatformAdapter,
    PropertyValue,
    RecordOutcome,
    RecordResult,
    VendorRecord,
)
from streams.platform.records import object_type_of

MARKETO_UNSUBSCRIBE_FIELDS: Mapping[str, PropertyValue] = {"unsubscribed": True}


class DeletePolicy(enum.Enum):
    ARCHIVE = "archive"
    UNSUBSCRIBE = "unsubscribe"
    HARD_DELETE = "hard_delete"
    IGNORE = "ignore"


class UnsupportedDeletePolicy(FatalError, ValueError):
    """The policy has no mechanism on this vendor (a configuration error: stop at startup)."""


@dataclass(frozen=True)
class DeletePlan:
    """A policy resolved for one platform: the mechanism and the properties it writes."""

    policy: DeletePolicy
    mechanism: DeleteMechanism | None
    properties: Mapping[str, PropertyValue] = field(default_factory=dict)

    @classmethod
    def resolve(
        cls,
        platform: str,
        policy: DeletePolicy,
        unsubscribe_properties: Mapping[str, PropertyValue] | None = None,
    ) -> DeletePlan:
        """Raises ``UnsupportedDeletePolicy`` for a policy the platform cannot carry out."""
        configured = dict(unsubscribe_properties or {})
        if policy is DeletePolicy.IGNORE:
            return cls(policy, None)
        if platform == "marketo":
            if policy is DeletePolicy.HARD_DELETE:
                return cls(policy, DeleteMechanism.HARD_DELETE)
            fields = configured or dict(MARKETO_UNSUBSCRIBE_FIELDS)
            return cls(policy, DeleteMechanism.FIELD_UPDATE, fields)
        if policy is DeletePolicy.ARCHIVE:
            return cls(policy, DeleteMechanism.ARCHIVE)
        if policy is DeletePolicy.UNSUBSCRIBE:
            if configured:
                return cls(policy, DeleteMechanism.FIELD_UPDATE, configured)
            return cls(policy, DeleteMechanism.UNSUBSCRIBE_ALL)
        if platform == "hubspot":
            raise UnsupportedDeletePolicy(
                "delete policy hard_delete is not offered for HubSpot: use archive "
                "(restorable for 90 days) or unsubscribe"
            )
        return cls(policy, DeleteMechanism.HARD_DELETE)

    def send(self, adapter: PlatformAdapter, records: Sequence[VendorRecord]) -> list[RecordResult]:
        """Carry the deletes out. Raises what ``adapter.remove_batch`` raises."""
        if self.mechanism is None:
            raise UnsupportedDeletePolicy("the ignore policy sends nothing")
        if object_type_of(records) == COMPANIES:
            mechanism = self.company_mechanism(adapter.name)
            if mechanism is None:  # kept on purpose (module docstring)
                return [RecordResult(r.key, RecordOutcome.OK) for r in records]
            return adapter.remove_batch(records, mechanism)
        return adapter.remove_batch(records, self.mechanism)

    def company_mechanism(self, platform: str) -> DeleteMechanism | None:
        """How a company delete is carried out on ``platform`` (None: nothing is sent)."""
        if self.mechanism is None:
            return None
        if platform == "marketo":
            return DeleteMechanism.HARD_DELETE if self.policy is DeletePolicy.HARD_DELETE else None
        return DeleteMechanism.ARCHIVE

    def check(self, adapter: PlatformAdapter) -> None:
        """Raises ``UnsupportedDeletePolicy`` unless the adapter offers the mechanism."""
        if self.mechanism is not None and self.mechanism not in adapter.supported_deletes:
            raise UnsupportedDeletePolicy(
                f"{adapter.name} cannot carry out delete policy {self.policy.value} "
                f"({self.mechanism.value})"
            )
