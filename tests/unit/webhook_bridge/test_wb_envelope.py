"""The queue message format: packs of framed envelopes, the legacy single envelope, and
malformed messages (property-based round trip, derandomized so CI runs are repeatable)."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webhook_bridge.envelope import (
    EnvelopePack,
    MalformedEnvelope,
    WebhookEnvelope,
    decode_message,
)

pytestmark = pytest.mark.unit

# Any text SQS carries (no surrogates: they are not Unicode scalar values), newlines and
# astral characters included: the framing must not depend on what a body holds.
_BODIES = st.text(st.characters(codec="utf-8"), max_size=200)
_ENVELOPES = st.builds(
    WebhookEnvelope,
    source=st.sampled_from(["sandbox", "hubspot", "marketo"]),
    webhook_id=st.text(st.characters(codec="utf-8"), max_size=40),
    trace_id=st.text("0123456789abcdef", min_size=32, max_size=32),
    received_at_ms=st.integers(0, 2**53),
    body=_BODIES,
)


@settings(max_examples=300, derandomize=True)
@given(st.lists(_ENVELOPES, min_size=1, max_size=25))
def test_a_pack_decodes_to_its_envelopes_in_order(envelopes: list[WebhookEnvelope]) -> None:
    pack = EnvelopePack(tuple(envelopes))
    assert decode_message(pack.encode()) == envelopes
    assert pack.size_bytes() == len(pack.encode().encode())


@settings(max_examples=200, derandomize=True)
@given(_ENVELOPES)
def test_a_lone_envelope_is_a_pack_of_one(envelope: WebhookEnvelope) -> None:
    assert envelope.encode() == EnvelopePack((envelope,)).encode()
    assert decode_message(envelope.encode()) == [envelope]
    assert envelope.encode().endswith(envelope.body)  # the body travels as signed


def test_a_version_1_message_is_still_read() -> None:
    meta = {"v": 1, "source": "sandbox", "webhook_id": "w1", "trace_id": "t" * 32,
            "received_at_ms": 5}  # fmt: skip
    body = '{"a": 1}\n{"b": 2}\n'  # version 1: everything after the first line is the body
    text = json.dumps(meta) + "\n" + body
    assert decode_message(text) == [WebhookEnvelope("sandbox", "w1", "t" * 32, 5, body)]


_LEGACY_FRAME = json.dumps(
    {"v": 1, "source": "s", "webhook_id": "w", "trace_id": "t", "received_at_ms": 1}
) + "\n{}"


def _frame(**changes: object) -> str:
    meta: dict[str, object] = {"v": 2, "source": "s", "webhook_id": "w", "trace_id": "t",
                               "received_at_ms": 1, "len": 2}  # fmt: skip
    meta.update(changes)
    return json.dumps(meta) + "\n{}"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{}",
        "[1]\n{}",
        _frame(len=3),  # body shorter than its len
        _frame(len=-1),
        _frame(len=True),
        _frame(len="2"),
        _frame(v=3),
        _frame() + "x",  # trailing bytes that are no frame
        _frame() + _LEGACY_FRAME,
        _frame(received_at_ms="soon"),
        _frame().replace('"source": "s", ', ""),
    ],
)
def test_malformed_messages_raise(text: str) -> None:
    with pytest.raises(MalformedEnvelope):
        decode_message(text)


def test_decoding_is_linear_in_the_message() -> None:
    """20,000 tiny frames (a hostile message of ~1.3 MB) decode in well under a second; a
    quadratic scan would take minutes."""
    text = EnvelopePack(tuple(WebhookEnvelope("s", "w", "t", 1, "{}") for _ in range(20_000)))
    started = time.perf_counter()
    assert len(decode_message(text.encode())) == 20_000
    assert time.perf_counter() - started < 2.0
