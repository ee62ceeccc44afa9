"""Kafka: reachable, the topics present with the expected partitions (every mapped table's
topic, the DLQ, the engagement topic), the DLQ topic's depth, and the sync group's lag status
over every mapped topic."""

from __future__ import annotations

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from cdcbridge.clock import SYSTEM_CLOCK
from cdcbridge.doctor.model import CheckResult, DoctorContext, fail, ok, warn

CDC_TOPICS = ("cdc.public.customers",)  # when the mapping files cannot be read


def cdc_topics() -> tuple[tuple[str, ...], list[CheckResult]]:
    """Every mapped table's topic (``CDCBRIDGE_MAPPINGS_DIR`` included), and a failed check
    naming a broken mapping file when there is one."""
    from streams.mapping.mapping_files import MappingFileError
    from streams.mapping.table_catalog import load_table_mappings, mapped_topics

    try:
        return mapped_topics(load_table_mappings()), []
    except MappingFileError as exc:
        return CDC_TOPICS, [fail("config.mappings", str(exc), "fix the mapping file it names")]

DLQ_TOPIC = "cdcbridge.sync.dlq"
ENGAGEMENT_TOPIC = "marketing.engagement.v1"


def check_kafka(ctx: DoctorContext) -> list[CheckResult]:
    admin = AdminClient({"bootstrap.servers": ctx.bootstrap_servers})
    try:
        topics = admin.list_topics(timeout=ctx.timeout_s).topics
    except KafkaException as exc:
        return [
            fail(
                "kafka.reachable",
                f"{ctx.bootstrap_servers}: {exc}",
                "start Kafka (`cdcbridge stack up`) or set CDCBRIDGE_SYNC_BOOTSTRAP_SERVERS",
            )
        ]
    results = [ok("kafka.reachable", f"{ctx.bootstrap_servers} answered ({len(topics)} topics)")]
    mapped, problems = cdc_topics()
    results += problems
    for name in (*mapped, DLQ_TOPIC, ENGAGEMENT_TOPIC):
        described = topics.get(name)
        if described is None or described.error is not None:
            results.append(
                fail(
                    f"kafka.topic {name}",
                    "missing",
                    "create it (`cdcbridge stack up` creates the local ones) with "
                    f"{ctx.expected_partitions} partitions; a mapped table's topic appears "
                    "once `cdcbridge connectors apply` captures the table",
                )
            )
            continue
        count = len(described.partitions)
        if count != ctx.expected_partitions:
            results.append(
                warn(
                    f"kafka.topic {name}",
                    f"{count} partitions, expected {ctx.expected_partitions}",
                    "keys keep their order only within a partition count: add "
                    "partitions before traffic, or set the expectation",
                )
            )
        else:
            results.append(ok(f"kafka.topic {name}", f"{count} partitions"))
    if DLQ_TOPIC in topics:
        results.append(_dlq_depth(ctx, len(topics[DLQ_TOPIC].partitions)))
    results.append(_group_status(ctx))
    return results


def _dlq_depth(ctx: DoctorContext, partitions: int) -> CheckResult:
    consumer = Consumer(
        {"bootstrap.servers": ctx.bootstrap_servers, "group.id": "cdcbridge-doctor"}
    )
    try:
        depth = 0
        for partition in range(partitions):
            low, high = consumer.get_watermark_offsets(
                TopicPartition(DLQ_TOPIC, partition), timeout=ctx.timeout_s
            )
            depth += max(high - low, 0)
    except KafkaException as exc:
        return fail("kafka.dlq_depth", str(exc), "check the broker's log")
    finally:
        consumer.close()
    if depth:
        return warn(
            "kafka.dlq_depth",
            f"{depth} records in {DLQ_TOPIC}",
            "read them with `cdcbridge dlq list`; after the fix, `cdcbridge dlq replay`",
        )
    return ok("kafka.dlq_depth", f"{DLQ_TOPIC} is empty")


def _group_status(ctx: DoctorContext) -> CheckResult:
    from streams.lag.evaluate import Status, group_status
    from streams.lag.kafka_reads import LagReadError, read_group
    from streams.mapping.mapping_files import MappingFileError
    from streams.sync.settings import SyncSettings
    from streams.sync.subscription import sync_topics

    settings = SyncSettings()
    try:
        topics = list(sync_topics(settings))  # every mapped table's topic
        reading = read_group(
            ctx.bootstrap_servers, settings.group_id, topics, SYSTEM_CLOCK, ctx.timeout_s,
            missing_ok=True,
        )
    except LagReadError as exc:
        return fail("kafka.sync_lag", str(exc), "check the topic and the broker")
    except MappingFileError as exc:
        return fail("kafka.sync_lag", str(exc), "fix the mapping file it names")
    status, _ = group_status([reading])
    lag = sum(p.lag for p in reading.partitions)
    seconds = max((p.lag_seconds(reading.taken_at) for p in reading.partitions), default=0.0)
    detail = f"group {settings.group_id}: {status.name}, {lag} records, oldest {seconds:.1f} s"
    if status is Status.OK and seconds <= ctx.max_lag_seconds:
        return ok("kafka.sync_lag", detail)
    if status is Status.OK:
        return warn(
            "kafka.sync_lag",
            f"{detail} (> {ctx.max_lag_seconds:g} s)",
            "the sync is behind: `cdcbridge lag --watch` shows whether it catches up; "
            "check the platform's 429s and latency",
        )
    return warn(
        "kafka.sync_lag",
        detail,
        "start `cdcbridge sync` (no member consumes), or see `cdcbridge lag --watch`",
    )
