"""The consumer side of our vendor pacts: what cdcbridge's adapters send and rely on.

Two providers: ``hubspot-crm-contacts`` and ``marketo-rest``. Each ``define_*`` adds the
interactions to a ``Pact``; ``exercise_*`` drives the real adapter against the pact mock
server and asserts what the adapter made of the answers. Provider states are named here and
set up on the sandbox by ``test_platform_pact_provider``.
"""

from __future__ import annotations

import time

import requests
from pact import Pact, match
from pydantic import SecretStr

from cdcbridge.clock import MockedClock
from cdcbridge.metrics import NoOpMetrics
from streams.contracts import (
    FatalPlatformError,
    PublishedLimits,
    RecordOutcome,
    TransientPlatformError,
    VendorRecord,
)
from streams.platform.auth import ClientCredentialsAuth, StaticBearer
from streams.platform.exchange import Exchange
from streams.platform.hubspot import DEFAULT_READ_PROPERTIES, HubSpotAdapter
from streams.platform.marketo import MARKETO_LIMITS, MarketoAdapter
from streams.platform.ratelimit import RateLimiter
from streams.platform.retry_policy import PolicyLimits

CONSUMER = "cdcbridge"
HUBSPOT = "hubspot-crm-contacts"
MARKETO = "marketo-rest"
HUBSPOT_TOKEN = "sandbox-token"
MARKETO_TOKEN = "pact-fixed-token:sb"
UPSERT = "/crm/v3/objects/contacts/batch/upsert"
JSON = "application/json"
ONCE = PolicyLimits(max_attempts=1)


def _upsert_body(*emails: str) -> dict[str, object]:
    return {
        "inputs": [
            {"properties": {"firstname": "Pat", "email": e}, "id": e, "idProperty": "email"}
            for e in emails
        ]
    }


def _result(email: str, new: bool) -> dict[str, object]:
    return {
        "id": match.string("1001"),
        "new": match.boolean(new),
        "properties": {"email": email},
    }


def define_hubspot(pact: Pact) -> None:
    auth = f"Bearer {HUBSPOT_TOKEN}"
    (
        pact.upon_receiving("a batch upsert of two new contacts by email")
        .given("no contacts exist")
        .with_request("POST", UPSERT)
        .with_header("Authorization", auth)
        .with_body(_upsert_body("ann@example.com", "bob@example.com"), JSON)
        .will_respond_with(200)
        .with_body({"status": "COMPLETE", "results": [
            _result("ann@example.com", True), _result("bob@example.com", True)]})
    )  # fmt: skip
    (
        pact.upon_receiving("a batch upsert with one invalid email")
        .given("no contacts exist")
        .with_request("POST", UPSERT)
        .with_header("Authorization", auth)
        .with_body(_upsert_body("cat@example.com", "not-an-email"), JSON)
        .will_respond_with(207)
        .with_body({
            "status": "COMPLETE",
            "results": [_result("cat@example.com", True)],
            "numErrors": 1,
            "errors": [{"status": "error", "category": "VALIDATION_ERROR",
                        "message": match.string("Property values were not valid"),
                        "context": {"ids": ["not-an-email"]}}],
        })
    )  # fmt: skip
    for state, email, policy in (
        ("the ten-secondly limit is used up", "busy@example.com", "TEN_SECONDLY_ROLLING"),
        ("the daily limit is used up", "late@example.com", "DAILY"),
    ):
        (
            pact.upon_receiving(f"a batch upsert when {state}")
            .given(state)
            .with_request("POST", UPSERT)
            .with_header("Authorization", auth)
            .with_body(_upsert_body(email), JSON)
            .will_respond_with(429)
            .with_body({"status": "error", "errorType": "RATE_LIMIT", "policyName": policy,
                        "message": match.string("You have reached your limit."),
                        "correlationId": match.uuid()})
        )  # fmt: skip
    (
        pact.upon_receiving("a batch read by email")
        .given("contact dan@example.com exists")
        .with_request("POST", "/crm/v3/objects/contacts/batch/read")
        .with_header("Authorization", auth)
        .with_body({"idProperty": "email", "inputs": [{"id": "dan@example.com"}],
                    "properties": list(DEFAULT_READ_PROPERTIES),
                    "propertiesWithHistory": []}, JSON)
        .will_respond_with(200)
        .with_body({"status": "COMPLETE", "results": [{
            "id": match.string("1001"),
            "properties": {"email": "dan@example.com", "firstname": "Dan",
                           "hs_object_id": match.string("1001")}}]})
    )  # fmt: skip


def exercise_hubspot(base_url: str) -> None:
    clock = MockedClock(start=time.time())

    def fresh_adapter() -> HubSpotAdapter:
        return HubSpotAdapter(
            Exchange(requests.Session(), base_url, "hubspot", clock=clock),
            StaticBearer(SecretStr(HUBSPOT_TOKEN)), RateLimiter(1000, 1.0, clock=clock),
            PublishedLimits(100, 10.0, 100), clock=clock, metrics=NoOpMetrics(), policy=ONCE,
        )  # fmt: skip

    adapter = fresh_adapter()

    def rec(email: str) -> VendorRecord:
        return VendorRecord(email, email, {"firstname": "Pat"})

    ok = adapter.upsert_batch([rec("ann@example.com"), rec("bob@example.com")])
    assert [r.outcome for r in ok] == [RecordOutcome.OK, RecordOutcome.OK]
    partial = adapter.upsert_batch([rec("cat@example.com"), rec("not-an-email")])
    assert [r.outcome for r in partial] == [RecordOutcome.OK, RecordOutcome.INVALID]
    try:
        adapter.upsert_batch([rec("busy@example.com")])
        raise AssertionError("a TEN_SECONDLY_ROLLING 429 must be transient")
    except TransientPlatformError as exc:
        assert exc.retry_after == 10.0
    try:
        adapter.upsert_batch([rec("late@example.com")])
        raise AssertionError("a DAILY 429 must be fatal")
    except FatalPlatformError:
        pass
    # After a DAILY answer the adapter's limiter is halted (no call leaves): a new process.
    adapter = fresh_adapter()
    assert adapter.read_batch(["dan@example.com"])["dan@example.com"]["firstname"] == "Dan"


def define_marketo(pact: Pact) -> None:
    (
        pact.upon_receiving("a client-credentials token request")
        .given("client sandbox-client is registered")
        .with_request("GET", "/identity/oauth/token")
        .with_query_parameter("grant_type", "client_credentials")
        .with_query_parameter("client_id", "sandbox-client")
        .with_query_parameter("client_secret", "sandbox-secret")
        .will_respond_with(200)
        .with_body({"access_token": MARKETO_TOKEN, "token_type": "bearer",
                    "expires_in": match.integer(3599), "scope": match.string("apis@x")})
    )  # fmt: skip
    sync = {"action": "createOrUpdate", "lookupField": "email"}
    (
        pact.upon_receiving("a lead sync with one invalid email")
        .given("no leads exist")
        .with_request("POST", "/rest/v1/leads.json")
        .with_header("Authorization", f"Bearer {MARKETO_TOKEN}")
        .with_body({**sync, "input": [{"firstName": "Eve", "email": "eve@example.com"},
                                      {"firstName": "X", "email": "broken"}]}, JSON)
        .will_respond_with(200)
        .with_body({"requestId": match.string("e42b#14272d07d78"), "success": True,
                    "result": [{"id": match.integer(5001), "status": "created"},
                               {"status": "skipped", "reasons": [
                                   {"code": "1003", "message": match.string("Invalid")}]}]})
    )  # fmt: skip
    for state, email, code in (
        ("the Marketo rate limit is used up", "fay@example.com", "606"),
        ("the Marketo daily quota is used up", "gus@example.com", "607"),
    ):
        (
            pact.upon_receiving(f"a lead sync when {state}")
            .given(state)
            .with_request("POST", "/rest/v1/leads.json")
            .with_header("Authorization", f"Bearer {MARKETO_TOKEN}")
            .with_body({**sync, "input": [{"firstName": "Eve", "email": email}]}, JSON)
            .will_respond_with(200)
            .with_body({"success": False, "errors": [
                {"code": code, "message": match.string("limit")}]})
        )  # fmt: skip


def exercise_marketo(base_url: str) -> None:
    clock = MockedClock(start=time.time())
    session = requests.Session()
    auth = ClientCredentialsAuth(
        session, f"{base_url}/identity/oauth/token", "sandbox-client",
        SecretStr("sandbox-secret"), style="get_query", clock=clock,
    )  # fmt: skip
    adapter = MarketoAdapter(
        Exchange(session, base_url, "marketo", clock=clock), auth,
        RateLimiter(1000, 1.0, clock=clock), MARKETO_LIMITS, clock=clock,
        metrics=NoOpMetrics(), policy=ONCE,
    )  # fmt: skip

    def rec(email: str, name: str = "Eve") -> VendorRecord:
        return VendorRecord(email, email, {"firstName": name})

    results = adapter.upsert_batch([rec("eve@example.com"), rec("broken", "X")])
    assert [r.outcome for r in results] == [RecordOutcome.OK, RecordOutcome.INVALID]
    assert results[1].error_code == "1003"
    try:
        adapter.upsert_batch([rec("fay@example.com")])
        raise AssertionError("606 must be transient")
    except TransientPlatformError:
        pass
    try:
        adapter.upsert_batch([rec("gus@example.com")])
        raise AssertionError("607 must be fatal")
    except FatalPlatformError:
        pass
