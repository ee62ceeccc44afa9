"""Expected vendor records against what the platform returns, property by property. Pure.

A ``Finding`` names the source id, the lookup value (email) and the vendor property (with its
canonical field); values are carried for ``--show-values`` only and never logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from streams.audit.platform_values import same_value
from streams.contracts import PropertyValue, VendorRecord
from streams.platform.records import lookup_key

FindingKind = Literal["value", "missing", "unmappable", "not_deleted"]
MISSING_PROPERTY = "*"


@dataclass(frozen=True)
class Finding:
    """One difference. ``property`` is ``*`` when the whole contact is concerned."""

    kind: FindingKind
    source_id: str
    email: str
    property: str
    field: str
    expected: object = None
    actual: object = None


@dataclass(frozen=True)
class Comparator:
    """Compares for one platform. ``fields`` maps vendor property -> canonical field;
    ``case_insensitive`` are the properties the platform stores case-folded (the lookup email,
    enumerations)."""

    fields: Mapping[str, str]
    case_insensitive: frozenset[str]

    def record(self, expected: VendorRecord, actual: Mapping[str, str] | None) -> list[Finding]:
        """Findings for one contact that should exist with ``expected.properties``."""
        if actual is None:
            return [Finding("missing", expected.key, expected.id_value, MISSING_PROPERTY, "")]
        found = []
        for prop, want in expected.properties.items():
            got = actual.get(prop)
            if not same_value(want, got, case_insensitive=prop in self.case_insensitive):
                field = self.fields.get(prop, prop)
                found.append(
                    Finding("value", expected.key, expected.id_value, prop, field, want, got)
                )
        return found

    def deleted(
        self,
        source_id: str,
        email: str,
        actual: Mapping[str, str] | None,
        kept_with: Mapping[str, PropertyValue] | None,
    ) -> list[Finding]:
        """Findings for a deleted row: absent when archived (``kept_with`` is None), else, when
        present, carrying the ``kept_with`` properties (a delete by field update). A field update
        never creates a contact, so an absent one (the platform never had it) is no finding."""
        if kept_with is None:
            if actual is None:
                return []
            return [Finding("not_deleted", source_id, email, MISSING_PROPERTY, "")]
        if actual is None:
            return []
        record = VendorRecord(source_id, email, kept_with)
        return self.record(record, actual)


def lookup(found: Mapping[str, Mapping[str, str]], email: str) -> Mapping[str, str] | None:
    """The platform's answer for ``email`` (read_batch keys are the emails asked for)."""
    hit = found.get(email)
    if hit is not None:
        return hit
    wanted = lookup_key(email)
    return next((v for k, v in found.items() if lookup_key(k) == wanted), None)
