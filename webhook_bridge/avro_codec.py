"""Avro encoding of engagement events with fastavro (no Schema Registry in our stack).

Values are schemaless Avro binary of ``schemas/engagement_event.avsc``; the writer schema is
identified by its CRC-64-AVRO (Rabin) fingerprint of the Parsing Canonical Form, hex-encoded,
in the ``schema_fingerprint`` record header. Readers look the schema up by that fingerprint.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

from cdcbridge import package_data

SCHEMA_PATH = package_data.schemas_dir() / "engagement_event.avsc"
FINGERPRINT_HEADER = "schema_fingerprint"


class EngagementCodec:
    """Encodes/decodes one schema version. Thread-safe (no mutable state)."""

    def __init__(self, schema_path: Path = SCHEMA_PATH) -> None:
        self.schema: dict[str, Any] = json.loads(schema_path.read_text())
        self.__parsed = fastavro.parse_schema(self.schema)
        self.fingerprint: str = fingerprint(to_parsing_canonical_form(self.__parsed), "CRC-64-AVRO")

    def encode(self, event: Mapping[str, object]) -> bytes:
        """Avro binary. Raises ``ValueError``/``TypeError`` (fastavro) when ``event`` violates
        the schema."""
        out = io.BytesIO()
        fastavro.schemaless_writer(out, self.__parsed, dict(event))
        return out.getvalue()

    def decode(self, payload: bytes) -> dict[str, Any]:
        """The record as a dict; ``timestamp-millis`` fields come back as aware datetimes."""
        record = fastavro.schemaless_reader(io.BytesIO(payload), self.__parsed, self.__parsed)
        if not isinstance(record, dict):
            raise ValueError("payload is not an engagement record")
        return record
