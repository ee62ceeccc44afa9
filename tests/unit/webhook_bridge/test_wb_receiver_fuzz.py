"""Hypothesis: bad requests to the receiver never get a 5xx and never enqueue anything."""

from __future__ import annotations

import json
import string
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.fakes.webhook_receiver import HEX_SECRET, NOW, SW_SECRET, build
from webhook_bridge.signatures import sign

pytestmark = pytest.mark.unit

HEADER_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " ,=+/_-.:", max_size=120)
SOURCES = st.sampled_from(["sandbox", "hubspot", "gh", "nope", "", "SANDBOX", "../sandbox"])
HEADER_NAMES = st.sampled_from([
    "webhook-id", "webhook-timestamp", "webhook-signature", "x-hubspot-signature-v3",
    "x-hubspot-request-timestamp", "x-hub-signature-256", "content-length", "traceparent",
])  # fmt: skip
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def is_json_container(body: bytes) -> bool:
    try:
        return isinstance(json.loads(body.decode("utf-8")), dict | list)
    except (UnicodeDecodeError, ValueError):
        return False


def test_unsigned_or_forged_requests() -> None:
    receiver, queue, _, metrics = build()
    with TestClient(receiver.app, raise_server_exceptions=True) as client:

        @FUZZ
        @given(
            source=SOURCES,
            body=st.binary(max_size=2048) | st.text(max_size=512).map(str.encode),
            headers=st.dictionaries(HEADER_NAMES, HEADER_TEXT, max_size=6),
        )
        def check(source: str, body: bytes, headers: dict[str, str]) -> None:
            headers.pop("content-length", None)  # the client sets the true length
            answer = client.post(f"/webhooks/{quote(source)}", content=body, headers=headers)
            assert answer.status_code in {400, 401, 404, 405, 413}
            assert queue.depth() == 0

        check()
    assert metrics.total("cdcbridge_webhooks_enqueued_total") == 0


def test_correctly_signed_but_malformed_or_stale_requests() -> None:
    receiver, queue, _, _ = build()
    with TestClient(receiver.app) as client:

        @FUZZ
        @given(
            body=st.binary(max_size=1024).filter(lambda b: not is_json_container(b)),
            skew=st.one_of(st.just(0.0), st.floats(301, 10**9), st.floats(-(10**9), -301)),
            scheme=st.sampled_from(["standard-webhooks", "hmac-sha256-hex"]),
            msg_id=st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=40),
        )
        def check(body: bytes, skew: float, scheme: str, msg_id: str) -> None:
            if scheme == "standard-webhooks":
                headers = sign(scheme, secret=SW_SECRET, body=body, msg_id=msg_id,
                               timestamp=NOW + skew)  # fmt: skip
                path = "/webhooks/sandbox"
            else:
                headers = sign(scheme, secret=HEX_SECRET, body=body)
                path = "/webhooks/gh"
            answer = client.post(path, content=body, headers=headers)
            if scheme == "standard-webhooks" and skew != 0.0:
                assert answer.status_code == 401
            else:
                assert answer.status_code in {400, 413}
            assert queue.depth() == 0

        check()


def test_other_methods_and_paths_never_5xx() -> None:
    receiver, queue, _, _ = build()
    with TestClient(receiver.app) as client:

        @FUZZ
        @given(
            method=st.sampled_from(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]),
            path=st.text(alphabet=string.ascii_letters + "/-_.%", max_size=40),
        )
        def check(method: str, path: str) -> None:
            answer = client.request(method, "/" + quote(path.lstrip("/"), safe="/"))
            assert answer.status_code < 500
            assert queue.depth() == 0

        check()
