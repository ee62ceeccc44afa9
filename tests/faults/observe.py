"""What the fault suite watches while the load runs.

``EngagementTail`` reads the test's engagement topic from the beginning for the whole test and
counts records per ``event_id`` header (the subscriber's dedupe key). ``StalenessProbe`` samples
twice a second how stale each direction is: outbound, the age of the heartbeat write the
platform shows (``OutboundLoad`` writes its time into that row every 0.5 s); inbound, the age of
the oldest webhook sent but not yet on Kafka.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from tests.faults.load import OutboundLoad, WebhookLoad


class EngagementTail:
    """Counts records per ``event_id`` on ``topic`` (all partitions, from the beginning)."""

    def __init__(self, bootstrap: str, topic: str, partitions: int) -> None:
        self.counts: Counter[str] = Counter()
        self.first_seen: dict[str, float] = {}
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.consumer = Consumer({
            "bootstrap.servers": bootstrap, "group.id": f"faults-tail-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False, "enable.partition.eof": False,
        })  # fmt: skip
        self.consumer.assign(
            [TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)]
        )
        self.thread = threading.Thread(target=self.__run, name="engagement-tail", daemon=True)

    def start(self) -> EngagementTail:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(30)
        self.consumer.close()

    def __run(self) -> None:
        while not self.stop_event.is_set():
            message = self.consumer.poll(0.5)
            if message is None or message.error() is not None:
                continue  # a broker restart shows as errors here; librdkafka reconnects
            headers = dict(message.headers() or [])
            raw = headers.get("event_id")
            event_id = raw.decode() if isinstance(raw, bytes) else str(raw)
            with self.lock:
                self.counts[event_id] += 1
                self.first_seen.setdefault(event_id, time.time())

    def seen(self) -> dict[str, int]:
        with self.lock:
            return dict(self.counts)


@dataclass
class Sample:
    at: float  # wall-clock seconds
    outbound_s: float
    inbound_s: float


@dataclass
class StalenessProbe:
    """Samples both directions' staleness every ``interval_s`` into ``samples``."""

    sandbox_url: str
    platform: str
    outbound: OutboundLoad
    inbound: WebhookLoad
    tail: EngagementTail
    interval_s: float = 0.5
    samples: list[Sample] = field(default_factory=list)
    started_at: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.__run, name="staleness", daemon=True)

    def start(self) -> StalenessProbe:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(30)

    def __run(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self.stop_event.wait(self.interval_s):
                now = time.time()
                self.samples.append(Sample(now, self.__outbound(client, now), self.__inbound(now)))

    def __outbound(self, client: httpx.Client, now: float) -> float:
        email = self.outbound.heartbeat_email
        try:
            answer = client.get(f"{self.sandbox_url}/admin/contacts/{self.platform}/{email}")
        except httpx.TransportError:
            return self.samples[-1].outbound_s if self.samples else 0.0
        if answer.status_code != 200:
            return now - self.started_at
        props = {k.lower(): v for k, v in answer.json()["properties"].items()}
        value = str(props.get("firstname") or "")
        if not value.startswith("hb"):
            return now - self.started_at
        return max(now - int(value[2:]) / 1000, 0.0)

    def __inbound(self, now: float) -> float:
        seen = self.tail.seen()
        created = dict(self.inbound.created)
        waiting = [t for event_id, t in created.items() if event_id not in seen]
        return max(now - min(waiting), 0.0) if waiting else 0.0

    def peak(self) -> tuple[float, float]:
        """The highest outbound and inbound staleness sampled (seconds)."""
        return (
            max((s.outbound_s for s in self.samples), default=0.0),
            max((s.inbound_s for s in self.samples), default=0.0),
        )

    def recovered_at(self, since: float, threshold_s: float) -> float | None:
        """The first sample at or after ``since`` with both directions under ``threshold_s``."""
        for sample in self.samples:
            if sample.at >= since and max(sample.outbound_s, sample.inbound_s) <= threshold_s:
                return sample.at
        return None
