"""Wiring: settings -> receiver app / forwarder. No logic of its own."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.applications import Starlette

from cdcbridge.clock import SYSTEM_CLOCK
from cdcbridge.metrics_setup import metrics_from_env
from webhook_bridge.avro_codec import EngagementCodec
from webhook_bridge.config import BridgeSettings
from webhook_bridge.dedupe import DedupeWindow
from webhook_bridge.engagement_mapping import EngagementMapping
from webhook_bridge.forwarder import DEFAULT_RECEIVERS, TOPIC, Forwarder
from webhook_bridge.ingest import IngestCore
from webhook_bridge.kafka_producer import KafkaRecordSink
from webhook_bridge.queue.sqs import SqsQueue, open_queue
from webhook_bridge.queue_gauges import DepthReader, QueueGauges
from webhook_bridge.receiver import Receiver


class ForwarderSettings(BaseSettings):
    """Forwarder settings (env prefix ``CDCBRIDGE_FORWARD_``); queue and sources come from
    ``BridgeSettings``."""

    model_config = SettingsConfigDict(env_prefix="CDCBRIDGE_FORWARD_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    topic: str = TOPIC
    wait_s: float = Field(default=20.0, ge=0, le=20)
    delivery_timeout_s: float = Field(default=30.0, gt=0)
    receivers: int = Field(default=DEFAULT_RECEIVERS, ge=1, le=32)
    max_in_flight: int = Field(default=2000, ge=10)
    dedupe_window_s: float = Field(default=3600.0, ge=0)  # 0: off (benchmarks)


def queue_from(settings: BridgeSettings) -> SqsQueue:
    """The configured queue (by URL, else by name). Raises ``QueueUnavailable``."""
    return open_queue(
        settings.sqs_endpoint,
        settings.region,
        queue_url=settings.queue_url,
        queue_name=settings.queue_name,
        timeout_s=settings.send_timeout_s,
    )


def build_receiver(settings: BridgeSettings) -> Receiver:
    """The receiver for ``settings``. Raises ``ValueError`` on bad source config."""
    sources = settings.load_sources()
    dedupe = DedupeWindow(SYSTEM_CLOCK, settings.dedupe_window_s, settings.dedupe_max_entries)
    metrics = metrics_from_env()
    core = IngestCore(sources, SYSTEM_CLOCK, dedupe, metrics=metrics)
    return Receiver(
        core,
        queue_from(settings).sender(settings.send_timeout_s),
        SYSTEM_CLOCK,
        metrics=metrics,
        linger_s=settings.batch_linger_ms / 1000,
        max_in_flight=settings.max_in_flight_batches,
        send_timeout_s=settings.send_timeout_s,
        retry_after_s=settings.retry_after_s,
    )


def create_app() -> Starlette:
    """uvicorn factory (``webhook_bridge.service:create_app``), configured from the env."""
    return build_receiver(BridgeSettings()).app


def build_forwarder(bridge: BridgeSettings, settings: ForwarderSettings) -> Forwarder:
    """The forwarder for the settings: one mapping per configured source. The producer's
    delivery timeout is fitted inside the queue's visibility timeout (at most half of it), so
    a report comes back while the message is still held. Raises ``QueueUnavailable``."""
    mappings = {
        name: EngagementMapping.load(source.normaliser)
        for name, source in bridge.load_sources().items()
    }
    queue = queue_from(bridge)
    metrics = metrics_from_env()
    depths: dict[str, DepthReader] = {bridge.queue_name: lambda: queue.depth()[0]}
    dead_letters = queue.dead_letter_queue()
    if dead_letters is not None:
        depths[dead_letters.queue_url.rsplit("/", 1)[-1]] = lambda: dead_letters.depth()[0]
    visibility_s = queue.visibility_timeout_s()
    delivery_timeout_s = min(settings.delivery_timeout_s, visibility_s / 2)
    overrides = {"message.timeout.ms": int(delivery_timeout_s * 1000)}
    return Forwarder(
        queue,
        lambda: KafkaRecordSink(settings.bootstrap_servers, overrides),
        mappings,
        EngagementCodec(),
        SYSTEM_CLOCK,
        topic=settings.topic,
        metrics=metrics,
        dedupe=DedupeWindow(SYSTEM_CLOCK, settings.dedupe_window_s, 200_000),
        gauges=QueueGauges(depths, bridge.queue_name, metrics, SYSTEM_CLOCK),
        wait_s=settings.wait_s,
        delivery_timeout_s=delivery_timeout_s,
        visibility_timeout_s=visibility_s,
        receivers=settings.receivers,
        max_in_flight=settings.max_in_flight,
    )
