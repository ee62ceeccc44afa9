"""Signature schemes: the published vectors plus negative cases."""

from __future__ import annotations

import base64

import pytest
from pydantic import SecretStr

from webhook_bridge.signatures import InvalidSignature, sign, verify

pytestmark = pytest.mark.unit

SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SW_TS = 1614265330
SW_BODY = b'{"test": 2432232314}'
SW_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
GH_SECRET = "It's a Secret to Everybody"
GH_BODY = b"Hello, World!"
GH_SIG = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
OTHER_SW_SECRET = "whsec_" + base64.b64encode(b"another-secret-of-24-bytes").decode()


def sw_headers(signature: str = SW_SIG, ts: int = SW_TS) -> dict[str, str]:
    return {"webhook-id": SW_ID, "webhook-timestamp": str(ts), "webhook-signature": signature}


def reason_of(**kwargs: object) -> str:
    with pytest.raises(InvalidSignature) as caught:
        verify(**kwargs)  # type: ignore[arg-type]
    return caught.value.reason


def test_standard_webhooks_published_vector() -> None:
    verify("standard-webhooks", secrets=[SW_SECRET], headers=sw_headers(), body=SW_BODY, now=SW_TS)


def test_standard_webhooks_sign_reproduces_vector() -> None:
    headers = sign(
        "standard-webhooks", secret=SW_SECRET, body=SW_BODY, msg_id=SW_ID, timestamp=SW_TS
    )
    assert headers["webhook-signature"] == SW_SIG


def test_github_published_vector_and_sign() -> None:
    verify(
        "hmac-sha256-hex",
        secrets=[GH_SECRET],
        headers={"X-Hub-Signature-256": GH_SIG},
        body=GH_BODY,
    )
    assert sign("hmac-sha256-hex", secret=GH_SECRET, body=GH_BODY) == {
        "X-Hub-Signature-256": GH_SIG
    }


def test_headers_are_case_insensitive() -> None:
    upper = {k.upper(): v for k, v in sw_headers().items()}
    verify("standard-webhooks", secrets=[SW_SECRET], headers=upper, body=SW_BODY, now=SW_TS)


def test_secretstr_and_unpadded_unprefixed_secret_accepted() -> None:
    bare = SW_SECRET.removeprefix("whsec_").rstrip("=")
    verify(
        "standard-webhooks",
        secrets=[SecretStr(bare)],
        headers=sw_headers(),
        body=SW_BODY,
        now=SW_TS,
    )


def test_rotated_secrets_any_match() -> None:
    verify(
        "standard-webhooks",
        secrets=[OTHER_SW_SECRET, SW_SECRET],
        headers=sw_headers(),
        body=SW_BODY,
        now=SW_TS,
    )


def test_several_signatures_in_header_and_unknown_versions_ignored() -> None:
    header = f"v1a,AAAA v1,{base64.b64encode(b'x' * 32).decode()} {SW_SIG}"
    verify(
        "standard-webhooks", secrets=[SW_SECRET], headers=sw_headers(header), body=SW_BODY,
        now=SW_TS,
    )  # fmt: skip


def test_plus_turned_into_space_still_verifies() -> None:
    mangled = SW_SIG.replace("+", " ")
    verify(
        "standard-webhooks", secrets=[SW_SECRET], headers=sw_headers(mangled), body=SW_BODY,
        now=SW_TS,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ({"body": SW_BODY + b" "}, "no_match"),
        ({"secrets": [OTHER_SW_SECRET]}, "no_match"),
        ({"now": SW_TS + 301}, "timestamp_too_old"),
        ({"now": SW_TS - 301}, "timestamp_in_future"),
        ({"headers": {"webhook-id": SW_ID, "webhook-timestamp": str(SW_TS)}}, "missing_header"),
        ({"headers": sw_headers(ts=SW_TS) | {"webhook-id": ""}}, "missing_header"),
        ({"headers": sw_headers() | {"webhook-timestamp": "16e8"}}, "malformed_header"),
        ({"headers": sw_headers("v1a,AAAA")}, "no_match"),
        ({"headers": sw_headers("v1,not!base64")}, "no_match"),
        ({"secrets": []}, "no_secrets"),
    ],
)
def test_standard_webhooks_rejections(case: dict[str, object], expected: str) -> None:
    kwargs: dict[str, object] = {
        "scheme": "standard-webhooks",
        "secrets": [SW_SECRET],
        "headers": sw_headers(),
        "body": SW_BODY,
        "now": SW_TS,
    }
    assert reason_of(**(kwargs | case)) == expected


def test_tolerance_is_configurable() -> None:
    verify(
        "standard-webhooks", secrets=[SW_SECRET], headers=sw_headers(), body=SW_BODY,
        now=SW_TS + 3600, tolerance_s=7200,
    )  # fmt: skip


def test_error_never_contains_the_expected_signature() -> None:
    with pytest.raises(InvalidSignature) as caught:
        verify(
            "standard-webhooks", secrets=[SW_SECRET], headers=sw_headers("v1,AAAA"),
            body=SW_BODY, now=SW_TS,
        )  # fmt: skip
    assert "g0hM9SsE" not in str(caught.value)
    assert caught.value.reason == "no_match"


HS_URL = "https://hooks.example.com/webhooks/hubspot?x=1%3A2"


def test_hubspot_roundtrip_and_uri_decoding() -> None:
    headers = sign("hubspot-v3", secret="client-secret", body=b"[]", url=HS_URL, timestamp=1000)
    assert headers["X-HubSpot-Request-Timestamp"] == "1000000"
    verify(
        "hubspot-v3", secrets=["client-secret"], headers=headers, body=b"[]",
        url="https://hooks.example.com/webhooks/hubspot?x=1:2", now=1000,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ({"method": "PUT"}, "no_match"),
        ({"url": "https://hooks.example.com/other"}, "no_match"),
        ({"body": b"[{}]"}, "no_match"),
        ({"secrets": ["wrong"]}, "no_match"),
        ({"now": 1000 + 300.5}, "timestamp_too_old"),
        ({"now": 1000 - 300.5}, "timestamp_in_future"),
    ],
)
def test_hubspot_rejections(case: dict[str, object], expected: str) -> None:
    headers = sign("hubspot-v3", secret="client-secret", body=b"[]", url=HS_URL, timestamp=1000)
    kwargs: dict[str, object] = {
        "scheme": "hubspot-v3",
        "secrets": ["client-secret"],
        "headers": headers,
        "body": b"[]",
        "url": HS_URL,
        "now": 1000,
    }
    assert reason_of(**(kwargs | case)) == expected


def test_hubspot_plus_as_space_and_missing_timestamp() -> None:
    headers = sign("hubspot-v3", secret="s", body=b"{}", url=HS_URL, timestamp=1000)
    spaced = {
        **headers,
        "X-HubSpot-Signature-v3": headers["X-HubSpot-Signature-v3"].replace("+", " "),
    }
    verify("hubspot-v3", secrets=["s"], headers=spaced, body=b"{}", url=HS_URL, now=1000)
    del spaced["X-HubSpot-Request-Timestamp"]
    assert (
        reason_of(
            scheme="hubspot-v3", secrets=["s"], headers=spaced, body=b"{}", url=HS_URL, now=1000
        )
        == "missing_header"
    )


def test_hex_custom_header_and_rejections() -> None:
    headers = sign("hmac-sha256-hex", secret="k", body=b"x", header_name="X-Signature")
    verify("hmac-sha256-hex", secrets=["k"], headers=headers, body=b"x", header_name="x-signature")
    base = {"scheme": "hmac-sha256-hex", "secrets": ["k"], "body": b"x"}
    assert reason_of(**base, headers=headers) == "missing_header"
    assert reason_of(**base, headers={"X-Hub-Signature-256": "sha1=00"}) == "malformed_header"
    assert reason_of(**base, headers={"X-Hub-Signature-256": "sha256=zz"}) == "malformed_header"
    assert reason_of(**base, headers={"X-Hub-Signature-256": GH_SIG}) == "no_match"


def test_unknown_scheme() -> None:
    assert reason_of(scheme="nope", secrets=["k"], headers={}, body=b"") == "unknown_scheme"
    with pytest.raises(ValueError, match="unknown"):
        sign("nope", secret="k", body=b"")
