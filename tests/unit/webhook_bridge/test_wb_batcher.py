"""SendBatcher (batching, byte limit, failures) and the envelope's queue format."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from webhook_bridge.batcher import MAX_BATCH_BYTES, MAX_PACK, SendBatcher
from webhook_bridge.config import SQS_MAX_MESSAGE_BYTES
from webhook_bridge.envelope import MalformedEnvelope, QueueBody, WebhookEnvelope, decode_message
from webhook_bridge.queue import MAX_BATCH_ENTRIES, QueueUnavailable

pytestmark = pytest.mark.unit


def envelope(i: int, body: str = "{}") -> WebhookEnvelope:
    return WebhookEnvelope("src", f"w{i}", "t" * 32, 1_700_000_000_000, body)


class RecordingSender:
    def __init__(self, fail_ids: frozenset[str] = frozenset(), down: bool = False) -> None:
        self.calls: list[list[list[str]]] = []  # per call, per message, its webhook ids
        self.fail_ids = fail_ids
        self.down = down
        self.release = asyncio.Event()
        self.release.set()

    async def send_batch(self, messages: Sequence[QueueBody]) -> list[str | None]:
        await asyncio.wait_for(self.release.wait(), 5)
        if self.down:
            raise QueueUnavailable("down")
        assert len(messages) <= MAX_BATCH_ENTRIES
        assert sum(m.size_bytes() for m in messages) <= MAX_BATCH_BYTES or len(messages) == 1
        packs = [[e.webhook_id for e in decode_message(m.encode())] for m in messages]
        self.calls.append(packs)
        return ["Throttled" if self.fail_ids.intersection(p) else None for p in packs]

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
    assert decode_message(original.encode()) == [original]
    assert original.encode().endswith(original.body)


@pytest.mark.parametrize("text", ["", "{}", '{"v":1}\n{}', '{"v":2,"source":"s"}\n{}', "[1]\n{}"])
def test_malformed_envelopes(text: str) -> None:
    with pytest.raises(MalformedEnvelope):
        decode_message(text)


def test_lone_request_is_sent_alone_and_at_once() -> None:
    sender = RecordingSender()
    batcher = SendBatcher(sender, linger_s=10.0)  # a linger would time the test out
    assert asyncio.run(asyncio.wait_for(send_all(batcher, [envelope(1)]), 5)) == [None]
    assert sender.calls == [[["w1"]]]


def test_batches_are_packed_and_every_webhook_sent_once() -> None:
    sender = RecordingSender()
    sender.release.clear()  # the first call blocks until the rest has queued up

    async def scenario() -> list[object]:
        batcher = SendBatcher(sender, linger_s=0.05, max_in_flight=2)
        await batcher.start()
        try:
            first = asyncio.ensure_future(batcher.send(envelope(0)))
            await asyncio.sleep(0)  # let the dispatcher take it
            rest = [asyncio.ensure_future(batcher.send(envelope(i))) for i in range(1, 235)]
            sender.release.set()
            return await asyncio.gather(first, *rest, return_exceptions=True)
        finally:
            await batcher.stop()

    assert asyncio.run(scenario()) == [None] * 235
    sent = [w for call in sender.calls for pack in call for w in pack]
    assert sorted(sent) == sorted(f"w{i}" for i in range(235))
    packs = [pack for call in sender.calls for pack in call]
    assert max(len(pack) for pack in packs) == MAX_PACK
    assert max(len(call) for call in sender.calls) == MAX_BATCH_ENTRIES  # 200 were waiting


def test_batch_over_the_byte_limit_is_split() -> None:
    sender = RecordingSender()
    big = "x" * (MAX_BATCH_BYTES // 3)
    envelopes = [envelope(i, big) for i in range(5)]
    results = asyncio.run(send_all(SendBatcher(sender), envelopes))
    assert results == [None] * 5
    assert sorted(w for call in sender.calls for pack in call for w in pack) == [
        f"w{i}" for i in range(5)
    ]
    sizes = {e.webhook_id: e.size_bytes() for e in envelopes}
    for call in sender.calls:  # RecordingSender checks each call's total
        for pack in call:
            assert sum(sizes[w] for w in pack) <= SQS_MAX_MESSAGE_BYTES
    assert max(len(pack) for call in sender.calls for pack in call) == 2


def test_a_rejected_pack_fails_exactly_its_webhooks() -> None:
    sender = RecordingSender(fail_ids=frozenset({"w2"}))
    results = asyncio.run(send_all(SendBatcher(sender), [envelope(i) for i in range(30)]))
    failed_pack = next(p for call in sender.calls for p in call if "w2" in p)
    assert len(failed_pack) > 1  # packed with others
    for i, result in enumerate(results):
        if f"w{i}" in failed_pack:
            assert isinstance(result, QueueUnavailable)
        else:
            assert result is None


def test_outage_raises_queue_unavailable() -> None:
    down = asyncio.run(send_all(SendBatcher(RecordingSender(down=True)), [envelope(1)]))
    assert isinstance(down[0], QueueUnavailable)
