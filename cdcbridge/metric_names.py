"""The one declared list of metrics. A typo in a name fails ``mypy --strict``.

``MetricName`` is the name code records under; it is also the Prometheus name. ``METRICS`` says
for each one what kind it is and the name it has in DogStatsD (Datadog), where the names the SREs'
guide uses (``api.client.requests.total``, ``webhook.handler.invocations.success``,
``sqs.queue.depth``, ``integration.latency.p95``) exist exactly as written. Both backends get
every metric (``cdcbridge.metrics_setup``). Counters end in ``_total``; histograms in
``_seconds`` or ``_records``; gauges are bare.

Tags are the same on both backends (Prometheus labels): ``platform``, ``endpoint``, ``status``,
``source``, ``table`` / ``topic``, plus a few named below. Add a name here, with its spec, before
using it anywhere; ``tests/unit/observability/test_monitoring_refs.py`` fails on a name no rule,
dashboard or monitor uses.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal, get_args

MetricName = Literal[
    "cdcbridge_sync_records_consumed_total",
    "cdcbridge_sync_records_delivered_total",
    "cdcbridge_sync_records_dead_lettered_total",
    "cdcbridge_platform_requests_total",
    "cdcbridge_platform_rate_limited_total",
    "cdcbridge_platform_retries_total",
    "cdcbridge_platform_refused_records_total",
    "cdcbridge_sync_records_abandoned_total",
    "cdcbridge_sync_consumer_restarts_total",
    "cdcbridge_platform_token_refreshes_total",
    "cdcbridge_platform_batch_size_records",
    "cdcbridge_platform_request_seconds",
    "cdcbridge_sync_end_to_end_seconds",
    "cdcbridge_webhooks_end_to_end_seconds",
    "cdcbridge_integration_latency_p95_seconds",
    "cdcbridge_sync_consumer_lag",
    "cdcbridge_sync_consumer_lag_seconds",
    "cdcbridge_sync_consumer_group_status",
    "cdcbridge_sync_backpressure_paused",
    "cdcbridge_sync_associations_pending",
    "cdcbridge_sync_associations_held_records",
    "cdcbridge_fatal_errors_total",
    "cdcbridge_webhooks_received_total",
    "cdcbridge_webhooks_enqueued_total",
    "cdcbridge_webhooks_duplicates_total",
    "cdcbridge_webhooks_enqueue_seconds",
    "cdcbridge_forward_events_total",
    "cdcbridge_forward_invalid_total",
    "cdcbridge_sqs_queue_depth",
    "cdcbridge_sqs_oldest_message_age_seconds",
    "cdcbridge_audit_mismatches",
    "cdcbridge_audit_match_ratio",
    "cdcbridge_audit_records_checked",
    "cdcbridge_audit_field_mismatches",
    "cdcbridge_audit_duration_seconds",
    "cdcbridge_audit_repair_sent",
    "cdcbridge_writeback_events_total",
    "cdcbridge_writeback_duplicates_total",
    "cdcbridge_writeback_rejected_total",
    "cdcbridge_writeback_consent_withdrawn_total",
    "cdcbridge_writeback_end_to_end_seconds",
    "cdcbridge_writeback_consumer_lag",
    "cdcbridge_writeback_consumer_lag_seconds",
    "cdcbridge_writeback_consumer_group_status",
    "cdcbridge_sync_echoes_skipped_total",
    "cdcbridge_sync_consent_grants_blocked_total",
    "cdcbridge_sync_stale_fields_dropped_total",
]

METRIC_NAMES: tuple[str, ...] = get_args(MetricName)


class Kind(enum.Enum):
    COUNTER = "counter"  # DogStatsD ``c``
    GAUGE = "gauge"  # DogStatsD ``g``
    HISTOGRAM = "histogram"  # DogStatsD ``d`` (distribution: percentiles computed server-side)


@dataclass(frozen=True)
class MetricSpec:
    kind: Kind
    datadog: str
    """The DogStatsD name (ASCII letters, digits, ``_`` and ``.`` only)."""
    help: str
    datadog_tags: tuple[str, ...] = ()
    """Tags added on DogStatsD only, where two Prometheus metrics share one Datadog name."""


C, G, H = Kind.COUNTER, Kind.GAUGE, Kind.HISTOGRAM

METRICS: Final[Mapping[MetricName, MetricSpec]] = {
    "cdcbridge_sync_records_consumed_total": MetricSpec(
        C, "cdcbridge.sync.records.consumed", "CDC records consumed from Kafka, by topic."),
    "cdcbridge_sync_records_delivered_total": MetricSpec(
        C, "cdcbridge.sync.records.delivered",
        "Records the platform confirmed (created or updated), by platform."),
    "cdcbridge_sync_records_dead_lettered_total": MetricSpec(
        C, "cdcbridge.dlq.records", "Records written to the DLQ topic, by error_class."),
    "cdcbridge_platform_requests_total": MetricSpec(
        C, "api.client.requests.total",
        "API calls to the marketing platform, by platform, endpoint and status "
        "(HTTP code, or 'error' when no answer came)."),
    "cdcbridge_platform_rate_limited_total": MetricSpec(
        C, "api.client.rate_limited",
        "Rate-limit answers (HubSpot 429 by policyName, Marketo 606/615), by platform and code "
        "(the policy)."),
    "cdcbridge_platform_retries_total": MetricSpec(
        C, "api.client.retries",
        "Retries at every layer, by platform, layer (transport | policy | deliver) and reason "
        "(HTTP status, vendor code, error kind)."),
    "cdcbridge_platform_refused_records_total": MetricSpec(
        C, "api.client.refused_records",
        "Records the vendor refused for good (isolated by splitting a refused request), by "
        "platform and vendor code."),
    "cdcbridge_sync_records_abandoned_total": MetricSpec(
        C, "cdcbridge.sync.records.abandoned",
        "Records left undelivered by a stop (re-read on restart), by platform."),
    "cdcbridge_sync_consumer_restarts_total": MetricSpec(
        C, "cdcbridge.sync.consumer.restarts",
        "Sync consumer rebuilt in-process after a transient Kafka failure (records not committed "
        "are re-read), by reason (kafka_unavailable, poll_stalled)."),
    "cdcbridge_platform_token_refreshes_total": MetricSpec(
        C, "api.client.token.refreshes",
        "OAuth2 token requests, by platform and status (200 ok; 4xx rejected; 'error')."),
    "cdcbridge_platform_batch_size_records": MetricSpec(
        H, "api.client.records_per_call", "Records per batch API call, by platform."),
    "cdcbridge_platform_request_seconds": MetricSpec(
        H, "api.client.request.duration", "API call latency, by platform, endpoint and status."),
    "cdcbridge_sync_end_to_end_seconds": MetricSpec(
        H, "integration.latency",
        "Outbound end to end: database commit (source ts_ms) to platform acknowledgement.",
        ("direction:outbound",)),
    "cdcbridge_webhooks_end_to_end_seconds": MetricSpec(
        H, "integration.latency",
        "Inbound end to end: webhook received to Kafka delivery report.",
        ("direction:inbound",)),
    "cdcbridge_integration_latency_p95_seconds": MetricSpec(
        G, "integration.latency.p95",
        "p95 of the end-to-end latency over the last 60 s in this process, by direction "
        "(every 10 s; cdcbridge.quantile_gauges)."),
    "cdcbridge_sync_consumer_lag": MetricSpec(
        G, "cdcbridge.sync.consumer.lag", "Records not yet committed, by topic and partition."),
    "cdcbridge_sync_consumer_lag_seconds": MetricSpec(
        G, "cdcbridge.sync.consumer.lag_seconds",
        "Age of the oldest uncommitted record (its Kafka timestamp), by topic and partition."),
    "cdcbridge_sync_consumer_group_status": MetricSpec(
        G, "cdcbridge.sync.consumer.group_status",
        "Burrow-style group status: 0 OK, 1 WARN, 2 STALL, 3 STOP, 4 ERR."),
    "cdcbridge_sync_backpressure_paused": MetricSpec(
        G, "cdcbridge.sync.backpressure.paused", "1 while partitions are paused (backpressure)."),
    "cdcbridge_sync_associations_pending": MetricSpec(
        G, "cdcbridge.sync.associations.pending",
        "Contact → company associations waiting for their company to exist on the platform, by "
        "platform (bounded: at the bound the partitions pause)."),
    "cdcbridge_sync_associations_held_records": MetricSpec(
        G, "cdcbridge.sync.associations.held_records",
        "Customer records whose offsets are held (not committable) until their contact → company "
        "association is applied, by platform (capped: CDCBRIDGE_SYNC_ASSOCIATIONS_HOLD_MAX_S, "
        "then dead-lettered as AssociationNotApplied)."),
    "cdcbridge_fatal_errors_total": MetricSpec(
        C, "cdcbridge.fatal_errors",
        "Fatal stops (auth rejected, daily quota), by platform and code; one per stop: alert on "
        "any."),
    "cdcbridge_webhooks_received_total": MetricSpec(
        C, "webhook.handler.invocations", "Webhooks received, by source and HTTP status answered."),
    "cdcbridge_webhooks_enqueued_total": MetricSpec(
        C, "webhook.handler.invocations.success",
        "Webhooks verified and durable in SQS (answered 202), by source."),
    "cdcbridge_webhooks_duplicates_total": MetricSpec(
        C, "webhook.handler.duplicates", "Duplicate webhook deliveries suppressed, by source."),
    "cdcbridge_webhooks_enqueue_seconds": MetricSpec(
        H, "webhook.handler.enqueue.duration", "Webhook receive to SQS acceptance."),
    "cdcbridge_forward_events_total": MetricSpec(
        C, "cdcbridge.forwarder.events", "Engagement events forwarded SQS -> Kafka."),
    "cdcbridge_forward_invalid_total": MetricSpec(
        C, "cdcbridge.forwarder.invalid",
        "SQS messages that could not be normalised (left for the redrive DLQ)."),
    "cdcbridge_sqs_queue_depth": MetricSpec(
        G, "sqs.queue.depth",
        "Visible messages in the queue and its DLQ (the forwarder samples both), by queue; a "
        "message holds 1-20 webhooks (the receiver packs concurrent ones)."),
    "cdcbridge_sqs_oldest_message_age_seconds": MetricSpec(
        G, "sqs.queue.oldest_message_age",
        "Age of the oldest message the forwarder's last receive got (SentTimestamp); 0 when the "
        "receive came back empty."),
    "cdcbridge_audit_mismatches": MetricSpec(
        G, "cdcbridge.audit.mismatches",
        "Records the last audit found different (0 = 100% match)."),
    "cdcbridge_audit_match_ratio": MetricSpec(
        G, "cdcbridge.audit.match_ratio",
        "Share of the last audit's records that matched on every field (1.0 = 100%)."),
    "cdcbridge_audit_records_checked": MetricSpec(
        G, "cdcbridge.audit.records_checked", "Source rows the last audit compared."),
    "cdcbridge_audit_field_mismatches": MetricSpec(
        G, "cdcbridge.audit.field_mismatches",
        "Mismatches of the last audit per canonical field (label field)."),
    "cdcbridge_audit_duration_seconds": MetricSpec(
        H, "cdcbridge.audit.duration", "Duration of an audit run."),
    "cdcbridge_audit_repair_sent": MetricSpec(
        G, "cdcbridge.audit.repair_sent",
        "Records the last audit re-sent through the sync path (--repair)."),
    "cdcbridge_writeback_events_total": MetricSpec(
        C, "cdcbridge.writeback.events",
        "Engagement events newly written to the database by writeback, by type."),
    "cdcbridge_writeback_duplicates_total": MetricSpec(
        C, "cdcbridge.writeback.duplicates",
        "Engagement events writeback had already stored (replays, redeliveries)."),
    "cdcbridge_writeback_rejected_total": MetricSpec(
        C, "cdcbridge.writeback.rejected",
        "Records on the engagement topic kept as rejected (not engagement events)."),
    "cdcbridge_writeback_consent_withdrawn_total": MetricSpec(
        C, "cdcbridge.writeback.consent_withdrawn",
        "Consent withdrawals written to the customers table, by source platform."),
    "cdcbridge_writeback_end_to_end_seconds": MetricSpec(
        H, "cdcbridge.writeback.end_to_end",
        "Webhook accepted by the receiver (received_at) to writeback's commit."),
    "cdcbridge_writeback_consumer_lag": MetricSpec(
        G, "cdcbridge.writeback.consumer.lag",
        "Engagement records the writeback group has not committed, by topic and partition."),
    "cdcbridge_writeback_consumer_lag_seconds": MetricSpec(
        G, "cdcbridge.writeback.consumer.lag_seconds",
        "Age of the oldest engagement record writeback has not committed, by topic and partition."),
    "cdcbridge_writeback_consumer_group_status": MetricSpec(
        G, "cdcbridge.writeback.consumer.group_status",
        "Burrow-style writeback group status: 0 OK, 1 WARN, 2 STALL, 3 STOP, 4 ERR."),
    "cdcbridge_sync_echoes_skipped_total": MetricSpec(
        C, "cdcbridge.sync.echoes_skipped",
        "CDC changes made by writeback that sync skipped (not echoed back out)."),
    "cdcbridge_sync_consent_grants_blocked_total": MetricSpec(
        C, "cdcbridge.sync.consent_grants_blocked",
        "Consent grants sync removed because the platform's withdrawal is newer."),
    "cdcbridge_sync_stale_fields_dropped_total": MetricSpec(
        C, "cdcbridge.sync.stale_fields_dropped",
        "Stale database values of both-owned fields sync dropped (newer platform change)."),
}  # fmt: skip


def spec_of(name: MetricName) -> MetricSpec:
    """The metric's spec; a name added to ``MetricName`` without one still works (kind from its
    suffix, Datadog name from its words) until ``tests/unit/observability/test_metric_names.py``
    makes its author declare it."""
    return METRICS.get(name) or derived_spec(name)


def derived_spec(name: str) -> MetricSpec:
    """A spec read off a name: ``_total`` counter, ``_seconds``/``_records`` histogram, else
    gauge; the Datadog name is its words joined by dots."""
    kind = C if name.endswith("_total") else H if name.endswith(("_seconds", "_records")) else G
    return MetricSpec(kind, name.removesuffix("_total").replace("_", "."), name)
