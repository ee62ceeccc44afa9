"""The one declared list of metric names. A typo in a name fails ``mypy --strict``.

Counters end in ``_total``; histograms in ``_seconds`` or ``_records``; gauges are bare.
Add a name here (with a comment saying what it counts) before using it anywhere.
"""

from __future__ import annotations

from typing import Literal, get_args

MetricName = Literal[
    # Counter: CDC records consumed from Kafka, by topic.
    "cdcbridge_sync_records_consumed_total",
    # Counter: records the platform confirmed (created or updated), by platform.
    "cdcbridge_sync_records_delivered_total",
    # Counter: records dead-lettered, by error_class.
    "cdcbridge_sync_records_dead_lettered_total",
    # Counter: API calls to the marketing platform, by platform and status.
    "cdcbridge_platform_requests_total",
    # Counter: HTTP 429 / rate-limit answers received, by platform and policy.
    "cdcbridge_platform_rate_limited_total",
    # Counter: OAuth2 token fetches, by platform.
    "cdcbridge_platform_token_refreshes_total",
    # Histogram: records per API batch call.
    "cdcbridge_platform_batch_size_records",
    # Histogram: API call latency.
    "cdcbridge_platform_request_seconds",
    # Histogram: database commit (source ts_ms) to platform acknowledgement.
    "cdcbridge_sync_end_to_end_seconds",
    # Gauge: consumer lag per partition.
    "cdcbridge_sync_consumer_lag",
    # Gauge: 1 while partitions are paused for backpressure.
    "cdcbridge_sync_backpressure_paused",
    # Counter: fatal stops (auth rejected, daily quota), alert on any.
    "cdcbridge_fatal_errors_total",
    # Counter: webhooks received, by source and HTTP status answered.
    "cdcbridge_webhooks_received_total",
    # Counter: webhooks enqueued to SQS, by source.
    "cdcbridge_webhooks_enqueued_total",
    # Counter: duplicate webhook deliveries suppressed, by source.
    "cdcbridge_webhooks_duplicates_total",
    # Histogram: webhook receive to SQS acceptance.
    "cdcbridge_webhooks_enqueue_seconds",
    # Counter: engagement events forwarded SQS -> Kafka.
    "cdcbridge_forward_events_total",
    # Counter: SQS messages that could not be normalised (left for the redrive DLQ).
    "cdcbridge_forward_invalid_total",
    # Gauge: 1 when the last audit matched 100%; Counter of mismatches per audit.
    "cdcbridge_audit_mismatches",
    # Counter: engagement events newly written to the database by writeback, by type.
    "cdcbridge_writeback_events_total",
    # Counter: engagement events writeback had already stored (replays, redeliveries).
    "cdcbridge_writeback_duplicates_total",
    # Counter: records on the engagement topic kept as rejected (not engagement events).
    "cdcbridge_writeback_rejected_total",
    # Counter: consent withdrawals written to the customers table, by source platform.
    "cdcbridge_writeback_consent_withdrawn_total",
    # Histogram: webhook accepted by the receiver (received_at) to writeback's commit.
    "cdcbridge_writeback_end_to_end_seconds",
    # Counter: CDC changes made by writeback that sync skipped (not echoed back out).
    "cdcbridge_sync_echoes_skipped_total",
    # Counter: consent grants sync removed because the platform's withdrawal is newer.
    "cdcbridge_sync_consent_grants_blocked_total",
    # Counter: stale database values of both-owned fields sync dropped (newer platform change).
    "cdcbridge_sync_stale_fields_dropped_total",
]

METRIC_NAMES: tuple[str, ...] = get_args(MetricName)
