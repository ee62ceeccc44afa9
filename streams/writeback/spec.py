"""The inbound mapping (``schemas/mappings/writeback.yaml``): canonical engagement -> tables.

Loaded once at start-up into a frozen pydantic model. Every table and column name must be a
plain identifier (checked here, quoted again with ``psycopg.sql.Identifier`` where used), and
every event type must be one of the Avro schema's symbols. ``load_writeback_mapping`` raises
``MappingFileError`` naming the file and the problem.
"""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, field_validator

from streams.mapping.mapping_files import MAPPINGS_DIR, SCHEMAS_DIR, MappingFileError

DEFAULT_MAPPING = MAPPINGS_DIR / "writeback.yaml"
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")]


def _event_types() -> frozenset[str]:
    schema = json.loads((SCHEMAS_DIR / "engagement_event.avsc").read_text())
    [type_field] = [f for f in schema["fields"] if f["name"] == "type"]
    return frozenset(type_field["type"]["symbols"])


EVENT_TYPES = _event_types()
CANONICAL_FIELDS = frozenset(
    json.loads((SCHEMAS_DIR / "customer.schema.json").read_text())["properties"]
)


def _known(types: list[str]) -> list[str]:
    unknown = sorted(set(types) - EVENT_TYPES)
    if unknown:
        raise ValueError(f"unknown event types {unknown}; known: {sorted(EVENT_TYPES)}")
    return types


class ConflictRule(enum.Enum):
    NEWEST_WINS = "newest_wins"  # ties to the database
    DATABASE_WINS = "database_wins"
    PLATFORM_WINS = "platform_wins"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CustomersSpec(_Strict):
    table: Identifier
    key_column: Identifier
    email_column: Identifier
    marker_column: Identifier


class ConsentSpec(_Strict):
    withdraw_on: list[str]
    column: Identifier
    opt_in_at_column: Identifier
    conflict: ConflictRule = ConflictRule.NEWEST_WINS

    _check_types = field_validator("withdraw_on")(_known)


class FieldUpdatesSpec(_Strict):
    events: list[str]
    property_attribute: str
    value_attribute: str
    row_changed_at_column: Identifier
    rule: ConflictRule = ConflictRule.NEWEST_WINS
    fields: dict[str, Identifier]  # canonical field -> column

    _check_types = field_validator("events")(_known)

    @field_validator("fields")
    @classmethod
    def _canonical(cls, fields: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(fields) - CANONICAL_FIELDS)
        if unknown:
            raise ValueError(f"not canonical customer fields: {unknown}")
        return fields


class WritebackMapping(_Strict):
    version: int
    events_table: Identifier
    rejected_table: Identifier
    state_table: Identifier
    offsets_table: Identifier
    versions_table: Identifier
    customers: CustomersSpec
    consent: ConsentSpec
    last_engaged_on: list[str] = []
    counters: dict[str, Identifier] = {}
    field_updates: FieldUpdatesSpec | None = None

    _check_types = field_validator("last_engaged_on")(_known)

    @field_validator("counters")
    @classmethod
    def _counter_types(cls, counters: dict[str, str]) -> dict[str, str]:
        _known(list(counters))
        return counters


def load_writeback_mapping(path: Path = DEFAULT_MAPPING) -> WritebackMapping:
    """The mapping in ``path``. Raises ``MappingFileError`` (unreadable, malformed, unknown
    event type, a name that is not an identifier)."""
    try:
        document = yaml.safe_load(path.read_text())
        return WritebackMapping.model_validate(document)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise MappingFileError(f"{path}: {exc}") from exc
