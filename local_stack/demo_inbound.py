"""The inbound half of the demo: the stack's sandbox sends signed engagement webhooks to
``cdcbridge webhooks serve``, which queues them in SQS (ElasticMQ); ``cdcbridge forward``
moves them to Kafka. Measures accepted (202), forwarded (distinct events on the topic) and
each event's latency from the receiver's ``received_at`` to its Kafka record timestamp."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from confluent_kafka import Consumer

from local_stack.layout import StackLayout
from local_stack.processes import wait_until
from local_stack.sandbox_launcher import free_port
from webhook_bridge.avro_codec import EngagementCodec

TOPIC = "marketing.engagement.v1"
QUEUE = "engagement"
# The sandbox's default signing secret (sandbox_platform.knobs), Standard Webhooks scheme.
SANDBOX_SECRET = "whsec_c2FuZGJveC13ZWJob29rLXNlY3JldA=="  # noqa: S105 - the sandbox's fake


@dataclass
class InboundResult:
    sent: int = 0
    accepted: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    event_ids: set[str] = field(default_factory=set)

    @property
    def forwarded(self) -> int:
        return len(self.event_ids)


@dataclass
class InboundBridge:
    """Receiver and forwarder processes; ``stop`` ends both (SIGTERM, then SIGKILL)."""

    receiver: subprocess.Popen[bytes]
    forwarder: subprocess.Popen[bytes]
    receiver_url: str

    def stop(self, timeout_s: float = 20) -> None:
        for process in (self.receiver, self.forwarder):
            if process.poll() is None:
                process.terminate()
        for process in (self.receiver, self.forwarder):
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _spawn(argv: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "cdcbridge", "--log-level", "WARNING", *argv],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def start_bridge(layout: StackLayout, run: str) -> InboundBridge:
    """Start receiver and forwarder on the stack's queue and topic; point the sandbox's
    webhooks at the receiver. Raises StackError when the receiver does not answer."""
    sources = layout.logs / f"demo-sources-{run}.json"
    sources.write_text(json.dumps({"sources": {"sandbox": {
        "scheme": "standard-webhooks", "secrets": [SANDBOX_SECRET]}}}))
    port = free_port()
    common = ["--sources-file", str(sources), "--queue-name", QUEUE,
              "--sqs-endpoint", layout.sqs_endpoint]
    receiver = _spawn(["webhooks", "serve", "--port", str(port), *common],
                      layout.logs / f"demo-receiver-{run}.log")
    forwarder = _spawn(["forward", *common, "--bootstrap-servers", layout.bootstrap_servers,
                        "--topic", TOPIC, "--wait-s", "1"],
                       layout.logs / f"demo-forwarder-{run}.log")
    bridge = InboundBridge(receiver, forwarder, f"http://127.0.0.1:{port}")
    try:
        wait_until(lambda: _answers(f"{bridge.receiver_url}/healthz"), 60, "the receiver")
        knobs = {"webhook_url": f"{bridge.receiver_url}/webhooks/sandbox",
                 "webhook_secret": SANDBOX_SECRET, "webhook_scheme": "standard-webhooks"}
        requests.patch(f"{layout.sandbox_url}/admin/knobs", json=knobs,
                       timeout=10).raise_for_status()
    except BaseException:
        bridge.stop()
        raise
    return bridge


def emit(layout: StackLayout, count: int, result: InboundResult) -> None:
    """Have the sandbox send ``count`` signed webhooks now; count the 202s."""
    answer = requests.post(f"{layout.sandbox_url}/admin/webhooks/emit",
                           json={"count": count}, timeout=120)
    answer.raise_for_status()
    statuses = answer.json()["statuses"]
    result.sent += len(statuses)
    result.accepted += sum(1 for status in statuses if status == 202)


def collect(consumer: Consumer, result: InboundResult, timeout_s: float) -> None:
    """Read the topic until every accepted event is there or ``timeout_s`` passed."""
    codec = EngagementCodec()
    deadline = time.monotonic() + timeout_s
    while result.forwarded < result.accepted and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is None or message.error() is not None or message.value() is None:
            continue
        headers = dict(message.headers() or [])
        raw_id = headers.get("event_id")
        event_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
        if event_id in result.event_ids:
            continue  # at-least-once: a repeat counts once
        result.event_ids.add(event_id)
        value = message.value()
        assert value is not None
        received = codec.decode(value)["received_at"]
        produced_ms = message.timestamp()[1]
        result.latencies_ms.append(max(produced_ms - received.timestamp() * 1000, 0.0))
