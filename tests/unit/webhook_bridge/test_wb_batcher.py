"""SendBatcher (batching, byte limit, failures) and the envelope's queue format."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from webhook_bridge.batcher import MAX_BATCH_BYTES, SendBatcher
from webhook_bridge.envelope import MalformedEnvelope, WebhookEnvelope
from webhook_bridge.queue import QueueUnavailable

pytestmark = pytest.mark.unit


def envelope(i: int, body: str = "{}") -> WebhookEnvelope:
    return WebhookEnvelope("src", f"w{i}", "t" * 32, 1_700_000_000_000, body)


class RecordingSender:
    def __init__(self, fail_ids: frozenset[str] = frozenset(), down: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.fail_ids = fail_ids
        self.down = down
        self.release = asyncio.Event()
        self.release.set()

    async def send_batch(self, envelopes: Sequence[WebhookEnvelope]) -> list[str | None]:
        await asyncio.wait_for(self.release.wait(), 5)
        if self.down:
            raise QueueUnavailable("down")
        self.calls.append([e.webhook_id for e in envelopes])
        return ["Throttled" if e.webhook_id in self.fail_ids else None for e in envelopes]

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


async def send_all(batcher: SendBatcher, envelopes: list[WebhookEnvelope]) -> list[object]:
    await batcher.start()
    try:
        return await asyncio.gather(*(batcher.send(e) for e in envelopes), return_exceptions=True)
    finally:
        await batcher.stop()


def test_envelope_roundtrip_keeps_body_bytes() -> None:
    original = envelope(1, '{"a": "line\\nbreak", "b": [1, 2]}\n')
    assert WebhookEnvelope.decode(original.encode()) == original
    assert original.encode().endswith(original.body)


@pytest.mark.parametrize("text", ["", "{}", '{"v":1}\n{}', '{"v":2,"source":"s"}\n{}', "[1]\n{}"])
def test_malformed_envelopes(text: str) -> None:
    with pytest.raises(MalformedEnvelope):
        WebhookEnvelope.decode(text)


def test_lone_request_is_sent_alone_and_at_once() -> None:
    sender = RecordingSender()
    batcher = SendBatcher(sender, linger_s=10.0)  # a linger would time the test out
    assert asyncio.run(asyncio.wait_for(send_all(batcher, [envelope(1)]), 5)) == [None]
    assert sender.calls == [["w1"]]


def test_batches_hold_at_most_ten_and_every_message_once() -> None:
    sender = RecordingSender()
    sender.release.clear()  # the first call blocks until the rest has queued up

    async def scenario() -> list[object]:
        batcher = SendBatcher(sender, linger_s=0.05, max_in_flight=2)
        await batcher.start()
        try:
            first = asyncio.ensure_future(batcher.send(envelope(0)))
            await asyncio.sleep(0)  # let the dispatcher take it
            rest = [asyncio.ensure_future(batcher.send(envelope(i))) for i in range(1, 35)]
            sender.release.set()
            return await asyncio.gather(first, *rest, return_exceptions=True)
        finally:
            await batcher.stop()

    assert asyncio.run(scenario()) == [None] * 35
    assert sorted(w for call in sender.calls for w in call) == sorted(f"w{i}" for i in range(35))
    assert max(len(call) for call in sender.calls) == 10


def test_batch_over_the_byte_limit_is_split() -> None:
    sender = RecordingSender()
    big = "x" * (MAX_BATCH_BYTES // 3)
    results = asyncio.run(send_all(SendBatcher(sender), [envelope(i, big) for i in range(5)]))
    assert results == [None] * 5
    assert all(len(call) <= 2 for call in sender.calls)


def test_per_entry_failures_and_outage_raise_queue_unavailable() -> None:
    sender = RecordingSender(fail_ids=frozenset({"w2"}))
    results = asyncio.run(send_all(SendBatcher(sender), [envelope(i) for i in range(4)]))
    assert [type(r).__name__ if r else None for r in results] == [
        None, None, "QueueUnavailable", None,
    ]  # fmt: skip
    down = asyncio.run(send_all(SendBatcher(RecordingSender(down=True)), [envelope(1)]))
    assert isinstance(down[0], QueueUnavailable)
