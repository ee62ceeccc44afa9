"""Helpers of the writeback integration tests: the writeback process and engagement events as
the forwarder produces them (child processes, polling and the sandbox: ``tests.fakes``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from tests.fakes.processes import CDCBRIDGE, Child
from webhook_bridge.avro_codec import FINGERPRINT_HEADER, EngagementCodec

CODEC = EngagementCodec()


def start_writeback(
    dsn: str,
    bootstrap: str,
    topic: str,
    group: str,
    log_path: Path,
    *extra: str,
    env: dict[str, str] | None = None,
) -> Child:
    return Child(
        [*CDCBRIDGE, "--log-level", "INFO", "writeback", "--dsn", dsn,
         "--bootstrap-servers", bootstrap, "--topic", topic, "--group-id", group, *extra],
        log_path,
        {"CDCBRIDGE_WRITEBACK_MATCH_INTERVAL_S": "0.5", **(env or {})},
    )  # fmt: skip


def engagement_record(
    event_id: str, type_: str, source_id: str | None, email: str | None = None
) -> tuple[bytes, list[tuple[str, bytes]]]:
    """An Avro value and headers as the forwarder produces them."""
    now = datetime.now(UTC)
    value = CODEC.encode(
        {"event_id": event_id, "type": type_, "email": email, "source_id": source_id,
         "platform_contact_id": None, "occurred_at": now, "received_at": now,
         "source_platform": "sandbox", "attributes": {}, "trace_id": uuid.uuid4().hex}
    )  # fmt: skip
    headers = [(FINGERPRINT_HEADER, CODEC.fingerprint.encode()), ("event_id", event_id.encode())]
    return value, headers
