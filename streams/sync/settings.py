"""Settings of the sync service (environment variables prefixed ``CDCBRIDGE_SYNC_``).

Delete policy (``CDCBRIDGE_SYNC_DELETE_POLICY``): ``archive`` (default, never destroys data),
``unsubscribe``, ``hard_delete`` (Marketo only, permanent) or ``ignore``; what each one does on
each vendor is the table in ``streams.platform.deletes``. ``CDCBRIDGE_SYNC_UNSUBSCRIBE_PROPERTIES``
(JSON object) names the fields a field update writes: unset, Marketo writes
``{"unsubscribed": true}`` and HubSpot unsubscribes through its communication-preferences API;
set for HubSpot, it names custom properties to update instead.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from streams.contracts import PropertyValue
from streams.platform.deletes import DeletePolicy

__all__ = ["CONSUMER_GROUP", "DLQ_TOPIC", "DeletePolicy", "SyncSettings"]


DLQ_TOPIC = "cdcbridge.sync.dlq"
CONSUMER_GROUP = "cdcbridge-sync"


class SyncSettings(BaseSettings):
    """Everything ``cdcbridge sync`` needs besides the platform's own settings."""

    model_config = SettingsConfigDict(env_prefix="CDCBRIDGE_SYNC_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    # One topic only (e.g. to try a mapping); unset: every topic that has a table mapping
    # (the package's and those in CDCBRIDGE_MAPPINGS_DIR), see streams/sync/subscription.py.
    topic: str | None = None
    group_id: str = CONSUMER_GROUP
    dlq_topic: str = DLQ_TOPIC
    # Batching: a batch goes when it is full or its oldest record waited ``linger_s``. Short:
    # under the rate limit batches grow anyway (a partial batch waits while another is in
    # flight), so a longer linger only adds latency (bench/README.md, latency stages).
    linger_s: float = Field(default=0.005, ge=0.0, le=10.0)
    # None: the adapter's published maximum (itself capped by CDCBRIDGE_BATCH_SIZE).
    max_batch_size: int | None = Field(default=None, ge=1)
    concurrency: int = Field(default=4, ge=1, le=64)
    # Batches that are not full may go only while fewer than this many batches are in flight.
    partial_batches_in_flight: int = Field(default=1, ge=1, le=64)
    # ... and only when the platform's rate limiter has a token now (false: they form at once
    # and wait for one inside the call, while later records queue behind them).
    partial_batches_wait_for_token: bool = True
    # Backpressure: at most this many consumed-but-unfinished records; beyond, partitions pause.
    max_outstanding: int = Field(default=20_000, ge=1)
    # Backoff for a batch whose call failed transiently; retried until it succeeds or we stop.
    retry_base_s: float = Field(default=0.2, gt=0.0)
    retry_cap_s: float = Field(default=30.0, gt=0.0)
    # How often the service reads its own group's lag for the lag gauges (0: never).
    lag_sample_interval_s: float = Field(default=15.0, ge=0.0)
    # Shutdown/rebalance drain deadline.
    drain_timeout_s: float = Field(default=10.0, gt=0.0)
    # Breaker: stop when more than ``breaker_ratio`` of a window's records are invalid.
    breaker_window_s: float = Field(default=60.0, gt=0.0)
    breaker_min_records: int = Field(default=50, ge=1)
    breaker_ratio: float = Field(default=0.5, gt=0.0, le=1.0)
    delete_policy: DeletePolicy = DeletePolicy.ARCHIVE
    unsubscribe_properties: dict[str, PropertyValue] | None = None
    # Refuse to start when the vendor lacks properties the mapping writes (platform setup).
    property_check: bool = True
    commit_interval_s: float = Field(default=0.5, ge=0.0)
    # Poll watchdog: a consumer whose poll has not returned for this long is rebuilt (transient).
    poll_stall_s: float = Field(default=60.0, gt=0.0)
    # Contact → company associations from the customers' ``company_id`` (``association_delivery``):
    # only while companies are synced too (else every association waits for a company that never
    # comes, and at ``associations_max_pending`` the partitions pause).
    # None (unset): on when a mapped table writes companies (``companies.yaml``'s target);
    # CDCBRIDGE_SYNC_ASSOCIATIONS=0 turns them off, =1 on.
    associations: bool | None = None
    associations_max_pending: int = Field(default=10_000, ge=1)
    associations_retry_s: float = Field(default=1.0, gt=0.0)
    associations_retry_cap_s: float = Field(default=60.0, gt=0.0)
    # A customer record's offset is held (not committed) until its association is applied, at
    # most this long: then it is dead-lettered as AssociationNotApplied and its offset commits
    # (a cap is needed: held records count as outstanding, and backpressure would deadlock).
    associations_hold_max_s: float = Field(default=600.0, gt=0.0)
    # A want for a company this process has not upserted waits this long before it is sent (and
    # the company read): the company's own upsert is usually on its way.
    associations_unknown_company_wait_s: float = Field(default=1.0, ge=0.0)
    # Internal-table mapping to decode with (default: schemas/mappings/customers.yaml).
    table_mapping_file: Path | None = None
