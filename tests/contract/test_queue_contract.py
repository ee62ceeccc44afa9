"""One queue contract, two implementations: the in-memory fake (``tests/fakes/memory_queue.py``)
and the real ElasticMQ of the local stack (``webhook_bridge.queue.sqs``), both driven through
the queue protocol only (``QueueSender`` to send, ``QueueReceiver`` to receive, delete, extend
and release). What the fake gets wrong here, the unit tests built on it would get wrong too.

The fake's half is a contract test; ElasticMQ's half needs the stack (integration). Time is
real for both (a visibility timeout of 1 s): every wait polls with a deadline.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pytest

from cdcbridge.clock import SYSTEM_CLOCK
from tests.fakes.memory_queue import InMemoryQueue
from webhook_bridge.envelope import WebhookEnvelope, decode_message
from webhook_bridge.queue import QueueMessage, QueueReceiver, QueueSender

VISIBILITY_S = 1
MAX_RECEIVES = 2
DEADLINE_S = 10.0


@dataclass
class Subject:
    """A queue under test: its two protocol faces and where its dead letters can be read."""

    sender: QueueSender
    receiver: QueueReceiver
    dead_letter_bodies: Callable[[], list[str]]
    loop: asyncio.AbstractEventLoop

    def send(self, envelopes: Sequence[WebhookEnvelope]) -> list[str | None]:
        return self.loop.run_until_complete(self.sender.send_batch(envelopes))

    def receive_within(self, deadline_s: float = DEADLINE_S) -> list[QueueMessage]:
        """Poll (long polls of 1 s) until something arrives or the deadline passes."""
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            got = self.receiver.receive(10, 1)
            if got:
                return got
        return []


def memory_subject() -> Iterator[Subject]:
    queue = InMemoryQueue(SYSTEM_CLOCK, visibility_timeout_s=VISIBILITY_S,
                          max_receive_count=MAX_RECEIVES)  # fmt: skip
    loop = asyncio.new_event_loop()
    try:
        yield Subject(queue, queue, lambda: [m.body for m in queue.dead_letters], loop)
    finally:
        loop.close()


def elasticmq_subject(request: pytest.FixtureRequest) -> Iterator[Subject]:
    from local_stack.endpoints import StackEndpoints
    from local_stack.sqs_admin import delete_queue, ensure_queue
    from webhook_bridge.queue.sqs import SqsQueue, sqs_client

    stack: StackEndpoints = request.getfixturevalue("stack")
    client = sqs_client(stack.sqs_endpoint)
    name = f"contract-{uuid.uuid4().hex[:10]}"
    queue = SqsQueue(client, ensure_queue(client, name, max_receive_count=MAX_RECEIVES,
                                          visibility_timeout_s=VISIBILITY_S))  # fmt: skip
    dlq = SqsQueue.by_name(client, f"{name}-dlq")
    sender = queue.sender(timeout_s=5.0)
    loop = asyncio.new_event_loop()

    def dead_letter_bodies() -> list[str]:
        return [m.body for m in dlq.receive(10, 0)]

    try:
        yield Subject(sender, queue, dead_letter_bodies, loop)
    finally:
        loop.run_until_complete(sender.aclose())
        loop.close()
        delete_queue(client, queue.queue_url)
        delete_queue(client, dlq.queue_url)


@pytest.fixture(params=[
    pytest.param("memory", marks=pytest.mark.contract),
    pytest.param("elasticmq", marks=pytest.mark.integration),
])  # fmt: skip
def subject(request: pytest.FixtureRequest) -> Iterator[Subject]:
    if request.param == "memory":
        yield from memory_subject()
    else:
        yield from elasticmq_subject(request)


def envelope(i: int, body: str = '{"n": 1}') -> WebhookEnvelope:
    return WebhookEnvelope("contract", f"w{i}", "t" * 32, 1_700_000_000_000 + i, body)


def test_a_received_message_is_invisible_for_the_visibility_timeout(subject: Subject) -> None:
    assert subject.send([envelope(1)]) == [None]
    (first,) = subject.receive_within()
    assert first.receive_count == 1
    assert decode_message(first.body) == [envelope(1)]
    taken_at = time.monotonic()
    assert subject.receiver.receive(10, 0) == []
    (again,) = subject.receive_within()
    assert time.monotonic() - taken_at >= VISIBILITY_S * 0.8
    assert again.message_id == first.message_id
    assert again.receive_count == 2
    assert again.receipt_handle != first.receipt_handle


def test_extend_keeps_a_message_invisible_and_release_shows_it_at_once(subject: Subject) -> None:
    subject.send([envelope(1)])
    (first,) = subject.receive_within()
    assert subject.receiver.extend([first.receipt_handle], 3) == []
    assert subject.receiver.receive(10, 1.5) == []  # past the 1 s default, within the 3 s
    subject.receiver.release(first.receipt_handle)
    (again,) = subject.receive_within(2.0)
    assert again.message_id == first.message_id


def test_redrive_to_the_dead_letter_queue_after_max_receives(subject: Subject) -> None:
    subject.send([envelope(1)])
    for count in range(1, MAX_RECEIVES + 1):
        (message,) = subject.receive_within()
        assert message.receive_count == count
        subject.receiver.release(message.receipt_handle)
    deadline = time.monotonic() + DEADLINE_S
    dead: list[str] = []
    while not dead and time.monotonic() < deadline:
        assert subject.receiver.receive(10, 0.5) == []  # never delivered a third time
        dead = subject.dead_letter_bodies()
    assert [decode_message(body) for body in dead] == [[envelope(1)]]


def test_a_stale_receipt_handle_neither_deletes_nor_extends(subject: Subject) -> None:
    subject.send([envelope(1)])
    (first,) = subject.receive_within()
    subject.receiver.release(first.receipt_handle)
    (second,) = subject.receive_within()
    assert subject.receiver.extend([first.receipt_handle], 30) == [first.receipt_handle]
    assert subject.receiver.delete([first.receipt_handle]) == [first.receipt_handle]
    assert subject.receiver.delete([second.receipt_handle]) == []
    assert subject.receiver.receive(10, 1.5) == []  # deleted: gone after the visibility timeout


def test_per_entry_failure_on_send(subject: Subject) -> None:
    refused = envelope(2, '{"nul": "\x00"}')  # a character SQS refuses in a message body
    first, failure, third = subject.send([envelope(1), refused, envelope(3)])
    # The code differs: AWS documents InvalidMessageContents, ElasticMQ answers
    # InvalidAttributeValue (the fake follows AWS); callers only read "failed or not".
    assert (first, third) == (None, None)
    assert failure in {"InvalidMessageContents", "InvalidAttributeValue"}
    received: list[QueueMessage] = []
    deadline = time.monotonic() + DEADLINE_S
    while len(received) < 2 and time.monotonic() < deadline:
        received += subject.receiver.receive(10, 1)
    assert sorted(decode_message(m.body)[0].webhook_id for m in received) == ["w1", "w3"]
    assert all(len(decode_message(m.body)) == 1 for m in received)


def test_per_entry_failure_on_delete(subject: Subject) -> None:
    subject.send([envelope(1)])
    (message,) = subject.receive_within()
    bogus = message.receipt_handle[::-1]
    assert subject.receiver.delete([bogus, message.receipt_handle]) == [bogus]
    assert subject.receiver.receive(10, 1.5) == []


def test_an_empty_long_poll_waits_then_returns_nothing(subject: Subject) -> None:
    started = time.monotonic()
    assert subject.receiver.receive(10, 1) == []
    assert 0.8 <= time.monotonic() - started < 5.0


def test_a_long_poll_returns_a_message_sent_while_it_waits(subject: Subject) -> None:
    got: list[QueueMessage] = []
    waiting = threading.Thread(target=lambda: got.extend(subject.receiver.receive(10, 5)))
    started = time.monotonic()
    waiting.start()
    time.sleep(0.3)  # the poll is under way before the send (an ordering, not a wait)
    subject.send([envelope(1)])
    waiting.join(10)
    assert [decode_message(m.body) for m in got] == [[envelope(1)]]
    assert time.monotonic() - started < 4.0
