"""DogStatsD datagrams, byte for byte, from the facade and from a run of the inbound path
(receiver -> queue -> forwarder) configured the way production is: through the environment."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from cdcbridge.clock import MockedClock
from cdcbridge.dogstatsd import DogStatsdMetrics
from cdcbridge.metrics_setup import metrics_from_env
from tests.fakes.dogstatsd import UdpListener
from tests.fakes.memory_queue import InMemoryQueue
from webhook_bridge.avro_codec import EngagementCodec
from webhook_bridge.config import SourceConfig
from webhook_bridge.dedupe import DedupeWindow
from webhook_bridge.engagement_mapping import EngagementMapping
from webhook_bridge.forwarder import Forwarder
from webhook_bridge.ingest import IngestCore
from webhook_bridge.kafka_producer import DeliveryCallback, OutRecord
from webhook_bridge.queue_gauges import QueueGauges
from webhook_bridge.receiver import Receiver
from webhook_bridge.signatures import sign

pytestmark = pytest.mark.unit

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef01234567").decode()
NOW = 1_750_000_000.0


@pytest.fixture
def listener() -> Iterator[UdpListener]:
    udp = UdpListener()
    yield udp
    udp.close()


def test_each_kind_becomes_its_datagram(listener: UdpListener) -> None:
    metrics = DogStatsdMetrics("127.0.0.1", listener.port, constant_tags=["env:test"])
    metrics.increment(
        "cdcbridge_platform_requests_total",
        tags={"status": "200", "platform": "hubspot", "endpoint": "/crm/v3/objects/contacts"},
    )
    metrics.gauge("cdcbridge_sqs_queue_depth", 7, {"queue": "engagement"})
    metrics.timing("cdcbridge_sync_end_to_end_seconds", 1.25, {"platform": "marketo"})
    metrics.timing("cdcbridge_platform_batch_size_records", 300, {"platform": "marketo"})
    assert listener.collect(4) == [
        "api.client.requests.total:1|c"
        "|#endpoint:/crm/v3/objects/contacts,platform:hubspot,status:200,env:test",
        "sqs.queue.depth:7|g|#queue:engagement,env:test",
        "integration.latency:1.25|d|#platform:marketo,direction:outbound,env:test",
        "api.client.records_per_call:300|d|#platform:marketo,env:test",
    ]
    with pytest.raises(ValueError, match="not a histogram"):
        metrics.timing("cdcbridge_sqs_queue_depth", 1.0)
    metrics.close()


class DeliveredSink:
    """A Kafka stand-in whose every record is delivered at the next flush."""

    def __init__(self) -> None:
        self.records: list[OutRecord] = []
        self.__callbacks: list[DeliveryCallback] = []

    def produce(self, record: OutRecord, on_delivery: DeliveryCallback) -> None:
        self.records.append(record)
        self.__callbacks.append(on_delivery)

    @property
    def fatal_error(self) -> str | None:
        return None

    def close(self) -> None:
        return None

    def poll(self, timeout_s: float) -> None:
        self.flush(timeout_s)

    def flush(self, timeout_s: float) -> int:
        callbacks, self.__callbacks = self.__callbacks, []
        for callback in callbacks:
            callback(None)
        return 0


def test_inbound_run_sends_the_guide_names(
    listener: UdpListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DD_DOGSTATSD_URL", f"udp://127.0.0.1:{listener.port}")
    for name in ("DD_ENV", "DD_SERVICE", "DD_VERSION", "DD_DOGSTATSD_DISABLE"):
        monkeypatch.delenv(name, raising=False)
    metrics = metrics_from_env(0)
    clock = MockedClock(start=NOW)
    queue = InMemoryQueue(clock)
    sources = {"sandbox": SourceConfig(scheme="standard-webhooks", secrets=(SecretStr(SECRET),))}
    core = IngestCore(sources, clock, DedupeWindow(clock, 600, 1000), metrics)
    receiver = Receiver(core, queue, clock, metrics=metrics, linger_s=0.001)
    body = json.dumps({"type": "email.opened", "id": "evt_1", "occurred_at": "2025-06-15T10:00:00Z",
                       "data": {"email": "ada@example.com", "contact_id": "c-1"}}).encode()
    headers = sign("standard-webhooks", secret=SECRET, body=body, msg_id="msg_1", timestamp=NOW)
    with TestClient(receiver.app) as client:
        assert client.post("/webhooks/sandbox", content=body, headers=headers).status_code == 202
        assert client.post("/webhooks/sandbox", content=b"{}", headers=headers).status_code == 401
    clock.advance(2.5)  # the message waits 2.5 s in the queue
    gauges = QueueGauges({"engagement": queue.depth}, "engagement", metrics, clock)
    forwarder = Forwarder(queue, DeliveredSink, {"sandbox": EngagementMapping.load("sandbox")},
                          EngagementCodec(), clock, metrics=metrics, gauges=gauges, wait_s=0)
    assert forwarder.run_once().forwarded == 1
    assert listener.drain() == [
        "webhook.handler.invocations.success:1|c|#source:sandbox",
        "webhook.handler.enqueue.duration:0.0|d",
        "webhook.handler.invocations:1|c|#source:sandbox,status:202",
        "webhook.handler.invocations:1|c|#source:sandbox,status:401",
        "sqs.queue.depth:1.0|g|#queue:engagement",
        "sqs.queue.oldest_message_age:2.5|g|#queue:engagement",
        "cdcbridge.forwarder.events:1|c",
        "integration.latency:2.5|d|#source:sandbox,direction:inbound",
        "integration.latency.p95:2.5|g|#direction:inbound",
    ]
