"""Settings of ``cdcbridge audit`` and ``cdcbridge backfill`` (environment, CLI overrides).

``CDCBRIDGE_PG_DSN`` names the source database; the Kafka, topic, consumer group and delete
policy come from ``SyncSettings`` (the audit checks what that sync is configured to do) and the
platform from ``PlatformSettings``.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuditSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CDCBRIDGE_AUDIT_", extra="ignore")

    pg_dsn: SecretStr | None = Field(default=None, validation_alias="CDCBRIDGE_PG_DSN")
    confidence: float = Field(default=0.99, gt=0, lt=1)
    margin: float = Field(default=0.01, gt=0, lt=1)
    # Share of the platform's request budget the audit may use; live sync keeps the rest.
    budget_share: float = Field(default=0.2, gt=0, le=1)
    # How long a mismatch waits for the sync group to catch up before it is believed.
    settle_timeout_s: float = Field(default=120.0, ge=0)
    # Deletes of this window (read from the CDC topic) are checked against the delete policy.
    deletes_since: str = "1d"
    # SQL filter of the audited segment (``--where``); empty = the whole table.
    where: str = ""
    signal_table: str = "public.debezium_signal"
    # Repair and backfill give up waiting for the snapshot after this long.
    snapshot_timeout_s: float = Field(default=1800.0, gt=0)
