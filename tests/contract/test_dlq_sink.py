"""The dead-letter sink's contract, one suite run against the fake the sync unit tests use
(``FakeDeadLetters``) and against the local stack's Kafka (``KafkaDeadLetterSink``), through the
production interface ``DeadLetterSink`` (``send`` never blocks, ``flush`` returns how many
writes are still unconfirmed, each send settles exactly once).

What the topic holds is read back per backend: the fake's ``written()``, and for Kafka the
production reader behind ``cdcbridge dlq`` (``read_topic``). The fake half is a ``contract``
test (no I/O); the Kafka half is an ``integration`` test (needs the stack).
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import pytest
from confluent_kafka.admin import AdminClient

from local_stack.endpoints import StackEndpoints
from local_stack.sandbox_launcher import free_port
from local_stack.topics import ensure_topics

# The production names under contract (modules may move: these lines are the only ones to fix).
from streams.contracts import KafkaPosition
from streams.sync.coalesce import SourceRecord
from streams.sync.dlq import (
    DLQ_HEADERS,
    DeadLetter,
    DeadLetterSink,
    DeliveryCallback,
)
from streams.sync.dlq.dead_letter import MAX_ERROR_MESSAGE
from streams.sync.dlq.kafka_sink import KafkaDeadLetterSink
from streams.sync.kafka_boundary import read_topic
from tests.fakes.sync import FakeDeadLetters

SOURCE_TOPIC = "cdc.public.customers"
DESIGN_HEADERS = (*DLQ_HEADERS, "event_id", "source")  # DESIGN.md, "Kafka headers"
TOO_LARGE = 2 * 1024 * 1024  # over the producer's message.max.bytes (1,000,000)


@dataclass(frozen=True)
class Stored:
    """One record of the DLQ topic as a consumer reads it."""

    partition: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]


class Backend(Protocol):
    sink: DeadLetterSink

    def stored(self) -> list[Stored]:
        """The topic's records, each partition in offset order."""
        ...

    def unanswered_sink(self) -> DeadLetterSink:
        """A sink of the same kind whose broker does not answer."""
        ...


class FakeBackend:
    def __init__(self) -> None:
        # settle on flush, as Kafka confirms asynchronously
        self.fake = FakeDeadLetters(settle_immediately=False)
        self.sink: DeadLetterSink = self.fake

    def stored(self) -> list[Stored]:
        return [Stored(w.partition, w.key, w.value, dict(w.headers)) for w in self.fake.written()]

    def unanswered_sink(self) -> DeadLetterSink:
        return FakeDeadLetters(settle_immediately=False, reachable=False)


class KafkaBackend:
    def __init__(self, bootstrap_servers: str, topic: str) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.sink: DeadLetterSink = KafkaDeadLetterSink(bootstrap_servers, topic)

    def stored(self) -> list[Stored]:
        return [
            Stored(r.partition, r.key, r.value, r.headers)
            for r in read_topic(self.bootstrap_servers, self.topic)
        ]

    def unanswered_sink(self) -> DeadLetterSink:
        # a loopback port nothing listens on: the broker never answers
        return KafkaDeadLetterSink(f"127.0.0.1:{free_port()}", self.topic)


@pytest.fixture(
    params=[
        pytest.param("fake", marks=pytest.mark.contract),
        pytest.param("kafka", marks=pytest.mark.integration),
    ]
)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "fake":
        yield FakeBackend()
        return
    stack: StackEndpoints = request.getfixturevalue("stack")
    topic = f"it-dlq-contract-{uuid.uuid4().hex[:8]}"
    ensure_topics(stack.bootstrap_servers, (topic,))  # 3 partitions, as the product's DLQ
    try:
        yield KafkaBackend(stack.bootstrap_servers, topic)
    finally:
        admin = AdminClient({"bootstrap.servers": stack.bootstrap_servers})
        for future in admin.delete_topics([topic], operation_timeout=30).values():
            future.result()


class Settlements:
    """Each ``on_settled`` call, by the number of the letter it settles."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str | None]] = []

    def of(self, number: int) -> DeliveryCallback:
        return lambda error: self.calls.append((number, error))

    def by_letter(self) -> dict[int, list[str | None]]:
        found: dict[int, list[str | None]] = {}
        for number, error in self.calls:
            found.setdefault(number, []).append(error)
        return found


def letter(
    key: bytes | None,
    value: bytes | None,
    offset: int,
    *,
    headers: dict[str, bytes] | None = None,
    error_message: str = "email: must be an email",
) -> DeadLetter:
    position = KafkaPosition(SOURCE_TOPIC, offset % 3, offset, headers or {})
    record = SourceRecord(position, key, value, f"trace-{offset}", table="public.customers")
    return DeadLetter(record, "InvalidRecord", error_message)


def send_all(sink: DeadLetterSink, letters: list[DeadLetter]) -> Settlements:
    """Send every letter and flush until confirmed; every letter settled exactly once."""
    settled = Settlements()
    for number, dead in enumerate(letters):
        sink.send(dead, settled.of(number))
    assert sink.flush(30) == 0, "writes left unconfirmed"
    assert settled.by_letter() == {n: [None] for n in range(len(letters))}
    return settled


def test_key_and_payload_are_kept_byte_for_byte(backend: Backend) -> None:
    rng = random.Random(12)
    payloads = [
        rng.randbytes(rng.randrange(1, 4096))
        for _ in range(20)  # invalid UTF-8, NUL bytes
    ] + [b'{"op": "u", "after": {"email": "z\xc3\xb6e@example.com"}}', b"\x00", b"\xff" * 3, b""]
    keys: list[bytes | None] = [
        None if n % 7 == 0 else b'{"id": %d}' % n if n % 2 else rng.randbytes(8)
        for n in range(len(payloads))
    ]
    letters = [letter(k, v, n) for n, (k, v) in enumerate(zip(keys, payloads, strict=True))]
    send_all(backend.sink, letters)
    stored = backend.stored()
    assert Counter((s.key, s.value) for s in stored) == Counter(zip(keys, payloads, strict=True))


def test_a_null_value_stays_null(backend: Backend) -> None:
    send_all(backend.sink, [letter(b"k", None, 0)])
    [stored] = backend.stored()
    assert (stored.key, stored.value) == (b"k", None)


def test_the_dlq_headers_carry_the_reason_and_the_origin(backend: Backend) -> None:
    reason = "bad value: " + "é" * (MAX_ERROR_MESSAGE + 100)
    original = {"x-tenant": b"\xff\x00raw", "trace_id": b"overwritten"}
    send_all(backend.sink, [letter(b"k", b"v", 41, headers=original, error_message=reason)])
    [stored] = backend.stored()
    assert (
        stored.headers
        == {
            "x-tenant": b"\xff\x00raw",  # the original record's own headers, byte for byte
            "trace_id": b"trace-41",
            "event_id": f"{SOURCE_TOPIC}:2:41".encode(),  # the record had none: its coordinates
            "source": b"cdcbridge-sync",
            "error_class": b"InvalidRecord",
            "error_message": reason[:MAX_ERROR_MESSAGE].encode(),
            "original_topic": SOURCE_TOPIC.encode(),
            "original_partition": b"2",
            "original_offset": b"41",
            "source_table": b"public.customers",  # one sync serves many tables
        }
    )


def test_every_design_header_is_present(backend: Backend) -> None:
    send_all(backend.sink, [letter(b"k", b"v", 0)])
    [stored] = backend.stored()
    assert set(DESIGN_HEADERS) <= set(stored.headers)


def test_order_is_kept_per_key(backend: Backend) -> None:
    keys = [b"customer-%d" % n for n in range(4)]
    letters = [letter(keys[n % 4], b"%d" % n, n) for n in range(60)]
    send_all(backend.sink, letters)
    stored = backend.stored()
    for key in keys:
        mine = [s for s in stored if s.key == key]
        assert [s.value for s in mine] == [d.record.value for d in letters if d.record.key == key]
        assert len({s.partition for s in mine}) == 1, "one key, one partition"


def test_a_refused_record_settles_with_an_error_and_the_sink_goes_on(backend: Backend) -> None:
    settled = Settlements()
    backend.sink.send(letter(b"big", b"x" * TOO_LARGE, 0), settled.of(0))
    refusal = settled.by_letter().get(0)
    assert refusal is not None and len(refusal) == 1 and refusal[0], "refused at once, with why"
    backend.sink.send(letter(b"small", b"fits", 1), settled.of(1))
    assert backend.sink.flush(30) == 0
    assert [s.key for s in backend.stored()] == [b"small"]
    assert len(settled.calls) == 2 and settled.by_letter()[1] == [None]


def test_flush_times_out_unconfirmed_while_the_broker_does_not_answer(backend: Backend) -> None:
    sink = backend.unanswered_sink()
    settled = Settlements()
    sink.send(letter(b"k", b"v", 0), settled.of(0))
    assert sink.flush(0.5) == 1, "the write is reported unconfirmed"
    assert settled.calls == [], "not settled: its source offset stays uncommitted"
