"""The Marketo requests our client sends, and the sandbox's answers, against Adobe's swagger.

Requests are captured by a recording transport adapter (no network); answers come from the
sandbox app in process (Starlette's TestClient) for the same requests.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
import requests
from pydantic import SecretStr
from requests.adapters import BaseAdapter

from cdcbridge.clock import MockedClock
from cdcbridge.metrics import NoOpMetrics
from sandbox_platform.app import build_app
from streams.contracts import VendorRecord
from streams.platform.auth import ClientCredentialsAuth
from streams.platform.exchange import Exchange
from streams.platform.marketo import MARKETO_LIMITS, MarketoAdapter
from streams.platform.ratelimit import RateLimiter

pytestmark = [
    pytest.mark.contract,
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
]

HERE = Path(__file__).parent / "marketo"
LEADS_SPEC = json.loads((HERE / "marketo_leads_subset.swagger.json").read_text())
IDENTITY_SPEC = json.loads((HERE / "marketo_identity.swagger.json").read_text())
BASE = "https://123-abc-456.mktorest.com"


def schema(spec: Mapping[str, Any], name: str) -> dict[str, Any]:
    return {"$ref": f"#/definitions/{name}", "definitions": spec["definitions"]}


def check_query(operation: Mapping[str, Any], query: Mapping[str, list[str]]) -> None:
    """Every required query parameter present, every parameter sent is declared and typed."""
    declared = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
    missing = [n for n, p in declared.items() if p.get("required") and n not in query]
    assert not missing, f"missing required query parameters {missing}"
    for name, values in query.items():
        assert name in declared, f"undeclared query parameter {name}"
        if "enum" in declared[name]:
            assert set(values) <= set(declared[name]["enum"])


class Recorder(BaseAdapter):
    """Answers like Marketo (swagger-shaped) and keeps every prepared request."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        self.sent.append(request)
        path = urlsplit(request.url or "").path
        if path.endswith("/oauth/token"):
            body: dict[str, Any] = {"access_token": "t:ab", "token_type": "bearer",
                                    "expires_in": 3599, "scope": "apis@x"}  # fmt: skip
        elif request.method == "POST":
            count = len(json.loads(request.body or b"{}").get("input", []))
            result = [{"id": i + 1, "status": "created"} for i in range(count)]
            body = {"requestId": "r#1", "success": True, "errors": [], "warnings": [],
                    "result": result}  # fmt: skip
        else:
            body = {"requestId": "r#2", "success": True, "errors": [], "warnings": [],
                    "result": [{"id": 7, "email": "old@example.com"}]}  # fmt: skip
        response = requests.Response()
        response.status_code = 200
        response._content = json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        return None


@pytest.fixture
def recorded() -> list[requests.PreparedRequest]:
    recorder = Recorder()
    session = requests.Session()
    session.mount("https://", recorder)
    clock = MockedClock(start=time.time())
    auth = ClientCredentialsAuth(
        session, f"{BASE}/identity/oauth/token", "id", SecretStr("secret"),
        style="get_query", clock=clock,
    )  # fmt: skip
    adapter = MarketoAdapter(
        Exchange(session, BASE, "marketo", clock=clock),
        auth, RateLimiter(1000, 1.0, clock=clock), MARKETO_LIMITS,
        clock=clock, metrics=NoOpMetrics(),
    )  # fmt: skip
    adapter.upsert_batch([
        VendorRecord("k1", "a@example.com", {"firstName": "A", "unsubscribed": False}),
        VendorRecord("k2", "new@example.com", {"lastName": "B"},
                     previous_id_value="old@example.com"),
    ])  # fmt: skip
    adapter.read_batch(["a@example.com"])
    return recorder.sent


def test_token_request_matches_identity_swagger(recorded: list[requests.PreparedRequest]) -> None:
    token = recorded[0]
    assert token.method == "GET" and urlsplit(token.url or "").path == "/identity/oauth/token"
    operation = IDENTITY_SPEC["paths"]["/identity/oauth/token"]["get"]
    check_query(operation, parse_qs(urlsplit(token.url or "").query))


def test_sync_requests_match_sync_lead_request(recorded: list[requests.PreparedRequest]) -> None:
    syncs = [r for r in recorded if r.method == "POST" and (r.url or "").endswith("/leads.json")]
    assert len(syncs) == 2  # the plain upsert and the email-change update by id
    for request in syncs:
        body = json.loads(request.body or b"{}")
        jsonschema.validate(body, schema(LEADS_SPEC, "SyncLeadRequest"))
        assert len(body["input"]) <= 300
        assert all(body["lookupField"] in item for item in body["input"])
        assert request.headers["Authorization"] == "Bearer t:ab"
    actions = sorted(json.loads(r.body or b"{}")["action"] for r in syncs)
    assert actions == ["createOrUpdate", "updateOnly"]


def test_get_leads_requests_match_swagger(recorded: list[requests.PreparedRequest]) -> None:
    gets = [r for r in recorded if r.method == "GET" and (r.url or "").endswith("/leads.json")]
    gets += [r for r in recorded if r.method == "GET" and "/leads.json?" in (r.url or "")]
    assert gets
    operation = LEADS_SPEC["paths"]["/rest/v1/leads.json"]["get"]
    for request in gets:
        check_query(operation, parse_qs(urlsplit(request.url or "").query))


def test_sandbox_answers_match_response_of_lead() -> None:
    from starlette.testclient import TestClient  # imported here: it warns about httpx

    with TestClient(build_app(platform="marketo")) as client:
        token = client.get("/identity/oauth/token", params={
            "grant_type": "client_credentials", "client_id": "sandbox-client",
            "client_secret": "sandbox-secret"}).json()  # fmt: skip
        jsonschema.validate(token, schema(IDENTITY_SPEC, "ResponseOfIdentity"))
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        answers = [
            client.post("/rest/v1/leads.json", headers=headers, json={
                "action": "createOrUpdate", "lookupField": "email",
                "input": [{"email": "a@example.com"}, {"email": "broken"}]}),
            client.get("/rest/v1/leads.json", headers=headers,
                       params={"filterType": "email", "filterValues": "a@example.com"}),
            client.post("/rest/v1/leads.json", json={"input": []}),  # no token: error in a 200
        ]  # fmt: skip
    for answer in answers:
        assert answer.status_code == 200
        jsonschema.validate(answer.json(), schema(LEADS_SPEC, "ResponseOfLead"))
    assert answers[0].json()["result"][1]["reasons"][0]["code"] == "1003"
    assert answers[2].json()["success"] is False
