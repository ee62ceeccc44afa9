"""The inbound path through its dependencies' outages, on the project's own local stack:
ElasticMQ restarted under load (nothing answered 202 is lost), the Kafka broker restarted under
load (the same forwarder drains everything once it is back, nothing redriven), and two
forwarders on one queue (nothing lost or doubled after dedupe by event id).

The restarts stop and start the stack's own processes (by pid file), so these tests skip when
the stack was supplied from outside (env or containers).
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from local_stack import health, jvm
from local_stack.endpoints import StackEndpoints
from local_stack.layout import StackLayout
from local_stack.processes import kill_pid, read_pid, stop_pid
from local_stack.sqs_admin import delete_queue, ensure_queue
from tests.fakes.processes import Child, wait_for
from tests.integration.webhooks.webhooks_it_support import collect, start_forwarder, start_receiver
from webhook_bridge.envelope import decode_message
from webhook_bridge.kafka_producer import ensure_topic
from webhook_bridge.queue.sqs import SqsQueue, sqs_client
from webhook_bridge.signatures import sign

pytestmark = pytest.mark.integration

SECRET = "whsec_" + base64.b64encode(b"outage-test-secret-0123456789").decode()


@dataclass
class Setup:
    stack: StackEndpoints
    layout: StackLayout
    tmp: Path
    queue: SqsQueue
    dlq: SqsQueue
    topic: str
    sources_file: Path
    children: list[Child] = field(default_factory=list)

    def receiver(self) -> str:
        child, url = start_receiver(self.sources_file, self.queue.queue_url,
                                    self.stack.sqs_endpoint, self.tmp / "receiver.log")  # fmt: skip
        self.children.append(child)
        return url

    def forwarder(self, log_level: str = "WARNING") -> Child:
        child = start_forwarder(
            self.sources_file, self.queue.queue_url, self.stack.sqs_endpoint,
            self.stack.bootstrap_servers, self.topic, self.tmp / f"fwd-{len(self.children)}.log",
            log_level,
        )  # fmt: skip
        self.children.append(child)
        return child


def own_layout(stack: StackEndpoints) -> StackLayout:
    layout = StackLayout.default()
    owned = read_pid(jvm.ELASTICMQ.pid_file(layout)) is not None
    if not owned or layout.sqs_endpoint != stack.sqs_endpoint:
        pytest.skip("needs the project's own local stack (it restarts its processes)")
    return layout


@pytest.fixture
def setup(stack: StackEndpoints, tmp_path: Path) -> Iterator[Setup]:
    layout = own_layout(stack)
    name = f"wh-out-{uuid.uuid4().hex[:10]}"
    client = sqs_client(stack.sqs_endpoint)
    queue = SqsQueue(
        client, ensure_queue(client, name, max_receive_count=3, visibility_timeout_s=10)
    )
    dlq = SqsQueue.by_name(client, f"{name}-dlq")
    topic = f"it.engagement.{name}"
    ensure_topic(stack.bootstrap_servers, topic)
    sources_file = tmp_path / "sources.yaml"
    sources = {"sources": {"sandbox": {"scheme": "standard-webhooks", "secrets": [SECRET]}}}
    sources_file.write_text(json.dumps(sources))
    state = Setup(stack, layout, tmp_path, queue, dlq, topic, sources_file)
    try:
        yield state
    finally:
        for child in state.children:
            child.stop()
        health_ok = health.sqs_up(layout)
        if health_ok:
            delete_queue(client, queue.queue_url)
            delete_queue(client, dlq.queue_url)


def signed(msg_id: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({
        "type": "contact.email_opened", "timestamp": "2026-01-02T03:04:05Z",
        "data": {"email": f"{msg_id}@example.com", "contact_id": msg_id},
    }).encode()  # fmt: skip
    return body, sign("standard-webhooks", secret=SECRET, body=body, msg_id=msg_id)


class Sender:
    """Posts ``count`` distinct webhooks with ``concurrency`` workers, like a real sender:
    every 503 or transport error is retried after a pause, until 202 or ``deadline_s``."""

    def __init__(self, url: str, prefix: str, count: int, concurrency: int = 16) -> None:
        self.url, self.prefix, self.count, self.concurrency = url, prefix, count, concurrency
        self.accepted: set[str] = set()
        self.answers_503 = 0
        self.thread = threading.Thread(target=lambda: asyncio.run(self.__run()), daemon=True)

    def start(self) -> Sender:
        self.thread.start()
        return self

    def join(self, timeout_s: float) -> None:
        self.thread.join(timeout_s)
        assert not self.thread.is_alive(), "the sender did not finish"

    async def __run(self) -> None:
        todo: asyncio.Queue[str] = asyncio.Queue()
        for i in range(self.count):
            todo.put_nowait(f"{self.prefix}_{i}")
        deadline = time.monotonic() + 240
        async with httpx.AsyncClient(timeout=15) as client:

            async def worker() -> None:
                while not todo.empty() and time.monotonic() < deadline:
                    msg_id = todo.get_nowait()
                    body, headers = signed(msg_id)
                    while time.monotonic() < deadline:
                        try:
                            answer = await client.post(f"{self.url}/webhooks/sandbox",
                                                       content=body, headers=headers)  # fmt: skip
                        except httpx.TransportError:
                            await asyncio.sleep(0.5)  # a sender's retry pause, not a wait
                            continue
                        if answer.status_code == 202:
                            self.accepted.add(msg_id)
                            break
                        assert answer.status_code == 503, answer.text
                        self.answers_503 += 1
                        await asyncio.sleep(0.5)  # a sender's retry pause, not a wait

            await asyncio.gather(*(worker() for _ in range(self.concurrency)))


def queued_ids(queue: SqsQueue) -> list[str]:
    """The webhook ids in the messages of ``queue`` (each received once, then left invisible)."""
    ids: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        messages = queue.receive(10, 1)
        if not messages:
            break
        ids += [e.webhook_id for m in messages for e in decode_message(m.body)]
    return sorted(ids)


@pytest.mark.parametrize("stop", ["sigterm", "sigkill"])
def test_sqs_restart_under_load_loses_no_accepted_event(setup: Setup, stop: str) -> None:
    """Stopped gracefully (SIGTERM: shutdown hooks run while requests still arrive) or crashed
    (SIGKILL: nothing runs), ElasticMQ keeps every message it answered."""
    url = setup.receiver()
    forwarder = setup.forwarder(log_level="INFO")  # logs each forwarded webhook
    sender = Sender(url, "sqsr", 1500).start()
    wait_for(lambda: len(sender.accepted) >= 300, 120, "300 accepted before the restart")
    # The restart must hit a running forwarder (one still starting needs SQS to start).
    wait_for(lambda: "webhook forwarded" in forwarder.log(), 60, "the forwarder to forward")
    pid_file = jvm.ELASTICMQ.pid_file(setup.layout)
    assert stop_pid(pid_file, timeout_s=30) if stop == "sigterm" else kill_pid(pid_file)
    restarted_at = time.monotonic()
    jvm.start_elasticmq(setup.layout)
    wait_for(lambda: health.sqs_up(setup.layout), 90, "ElasticMQ to come back")
    sender.join(240)
    assert len(sender.accepted) == 1500
    assert sender.answers_503 > 0, "the restart did not overlap the load"
    found = collect(setup.stack.bootstrap_servers, setup.topic, 1500, 180)
    drained_s = round(time.monotonic() - restarted_at, 1)
    assert forwarder.process.poll() is None, "the forwarder died: " + forwarder.log()[-2000:]
    redriven = queued_ids(setup.dlq)
    assert not redriven, (f"{len(redriven)} accepted events reached the redrive limit and were "
                          f"moved to the dead-letter queue: {redriven[:20]}")  # fmt: skip
    missing = sorted(sender.accepted - set(found))
    assert not missing, (f"{len(missing)} accepted (202) events missing from Kafka: "
                         f"{missing[:20]}; queue depth {setup.queue.depth()}")  # fmt: skip
    print(json.dumps({"sqs_restart": {"stop": stop, "accepted": len(sender.accepted),
                      "on_kafka": len(found), "answers_503": sender.answers_503,
                      "restart_to_all_on_kafka_s": drained_s}}))  # fmt: skip


def test_kafka_broker_restart_under_load_drains_with_the_same_forwarder(setup: Setup) -> None:
    url = setup.receiver()
    forwarder = setup.forwarder()
    sender = Sender(url, "brk", 3000).start()
    wait_for(lambda: len(sender.accepted) >= 500, 120, "500 accepted before the broker stops")
    assert stop_pid(jvm.KAFKA.pid_file(setup.layout), timeout_s=60)
    down_at = time.monotonic()
    sender.join(240)  # the receiver keeps accepting: SQS holds the backlog
    wait_for(lambda: time.monotonic() - down_at >= 20, 30, "20 s of broker outage")
    jvm.start_kafka(setup.layout)
    wait_for(lambda: health.kafka_up(setup.layout), 120, "the broker to come back")
    back_at = time.monotonic()
    found = collect(setup.stack.bootstrap_servers, setup.topic, len(sender.accepted), 120)
    drained_s = time.monotonic() - back_at
    assert forwarder.process.poll() is None, "the forwarder died: " + forwarder.log()[-2000:]
    assert len(sender.accepted) == 3000
    missing = sender.accepted - set(found)
    assert not missing, (f"{len(missing)} accepted events missing from Kafka; queue "
                         f"{setup.queue.depth()}, dlq {setup.dlq.depth()}")  # fmt: skip
    assert drained_s < 120
    wait_for(lambda: sum(setup.queue.depth()) == 0, 60, "the queue to drain")
    assert sum(setup.dlq.depth()) == 0, "messages reached the redrive limit during the outage"
    print(json.dumps({"broker_restart": {"accepted": 3000, "on_kafka": len(found),
                      "outage_s": round(back_at - down_at, 1),
                      "all_on_kafka_s_after_broker_back": round(drained_s, 1)}}))  # fmt: skip


def test_two_forwarders_lose_and_double_nothing_after_dedupe(setup: Setup) -> None:
    url = setup.receiver()
    sender = Sender(url, "two", 2000).start()
    sender.join(240)
    assert len(sender.accepted) == 2000
    first, second = setup.forwarder(), setup.forwarder()
    wait_for(lambda: sum(setup.queue.depth()) == 0, 120, "two forwarders to drain the queue")
    found = collect(setup.stack.bootstrap_servers, setup.topic, 2000, 120)
    assert set(found) == sender.accepted
    assert first.process.poll() is None and second.process.poll() is None
    assert sum(setup.dlq.depth()) == 0
