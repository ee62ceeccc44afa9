"""The sandbox's companies and contact ↔ company associations follow the vendors' published
contracts (shared/reference/marketing_platforms.md §6 HubSpot companies and associations v4,
§8 Marketo companies); where the reference is silent the module docstrings of
``sandbox_platform.hubspot_associations`` / ``marketo_companies`` say what is assumed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from sandbox_platform.app import build_app

if TYPE_CHECKING:
    from starlette.testclient import TestClient

pytestmark = pytest.mark.contract

HUBSPOT = {"Authorization": "Bearer sandbox-token"}
COMPANIES = "/crm/v3/objects/companies/batch"
ASSOC = "/crm/v4/associations/contacts/companies/batch"
UNIQUE = {
    "name": "cdcbridge_company_id",
    "label": "cdcbridge company id",
    "type": "string",
    "fieldType": "text",
    "groupName": "companyinformation",
    "hasUniqueValue": True,
}


@pytest.fixture
def client() -> Iterator[TestClient]:
    from starlette.testclient import TestClient  # imported here: it warns about httpx

    with TestClient(build_app()) as test_client:
        yield test_client


def hubspot_company(client: TestClient, source_id: str, **props: str) -> Any:
    inputs = [{"idProperty": "cdcbridge_company_id", "id": source_id, "properties": props}]
    return client.post(f"{COMPANIES}/upsert", headers=HUBSPOT, json={"inputs": inputs})


def hubspot_contact(client: TestClient, email: str) -> str:
    body = {"inputs": [{"idProperty": "email", "id": email, "properties": {}}]}
    answer = client.post("/crm/v3/objects/contacts/batch/upsert", headers=HUBSPOT, json=body)
    return str(answer.json()["results"][0]["id"])


def marketo_token(client: TestClient) -> dict[str, str]:
    token = client.get(
        "/identity/oauth/token",
        params={
            "grant_type": "client_credentials",
            "client_id": "sandbox-client",
            "client_secret": "sandbox-secret",
        },
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_hubspot_upsert_needs_a_unique_id_property(client: TestClient) -> None:
    # §6: idProperty must have hasUniqueValue; domain is not unique (several companies share it)
    body = {"inputs": [{"idProperty": "domain", "id": "acme.com", "properties": {}}]}
    answer = client.post(f"{COMPANIES}/upsert", headers=HUBSPOT, json=body)
    assert answer.status_code == 400
    assert "non-unique 0-1 property: domain" in answer.json()["message"]
    assert hubspot_company(client, "c1").status_code == 400  # the property is not defined yet
    created = client.post("/crm/v3/properties/companies", headers=HUBSPOT, json=UNIQUE)
    assert created.status_code == 201 and created.json()["hasUniqueValue"] is True
    first = hubspot_company(client, "c1", name="Acme", domain="acme.com")
    assert first.status_code == 200 and first.json()["results"][0]["new"] is True
    again = hubspot_company(client, "c1", name="Acme Inc")
    result = again.json()["results"][0]
    assert result["new"] is False and result["properties"]["name"] == "Acme Inc"
    assert result["id"] == first.json()["results"][0]["id"]


def test_hubspot_company_partial_failure_names_the_input(client: TestClient) -> None:
    client.post("/crm/v3/properties/companies", headers=HUBSPOT, json=UNIQUE)
    inputs = [
        {"idProperty": "cdcbridge_company_id", "id": "ok", "properties": {"name": "Ok"}},
        {"idProperty": "cdcbridge_company_id", "id": "bad", "properties": {"nope": "x"}},
    ]
    answer = client.post(f"{COMPANIES}/upsert", headers=HUBSPOT, json={"inputs": inputs})
    assert answer.status_code == 207
    assert [e["context"]["ids"] for e in answer.json()["errors"]] == [["bad"]]
    assert answer.json()["errors"][0]["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"
    too_many = [
        {"idProperty": "cdcbridge_company_id", "id": str(n), "properties": {}} for n in range(101)
    ]
    refused = client.post(f"{COMPANIES}/upsert", headers=HUBSPOT, json={"inputs": too_many})
    assert refused.status_code == 400
    unauthorised = client.post(f"{COMPANIES}/upsert", json={"inputs": inputs[:1]})
    assert unauthorised.status_code == 401


def test_hubspot_associations_v4_default(client: TestClient) -> None:
    client.post("/crm/v3/properties/companies", headers=HUBSPOT, json=UNIQUE)
    company = hubspot_company(client, "c1", name="Acme").json()["results"][0]["id"]
    other = hubspot_company(client, "c2", name="Other").json()["results"][0]["id"]
    contact = hubspot_contact(client, "a@example.com")
    pair = {"from": {"id": contact}, "to": {"id": company}}
    missing = {"from": {"id": contact}, "to": {"id": "999999"}}
    answer = client.post(
        f"{ASSOC}/associate/default", headers=HUBSPOT, json={"inputs": [pair, missing]}
    )
    assert answer.status_code == 207
    assert answer.json()["results"][0]["associationSpec"]["associationTypeId"] == 279
    assert answer.json()["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    read = client.post(f"{ASSOC}/read", headers=HUBSPOT, json={"inputs": [{"id": contact}]})
    assert [t["toObjectId"] for t in read.json()["results"][0]["to"]] == [int(company)]
    # move: archive the old pair, associate the new one (single PUT form)
    archive = {"inputs": [{"from": {"id": contact}, "to": [{"id": company}]}]}
    assert client.post(f"{ASSOC}/archive", headers=HUBSPOT, json=archive).status_code == 204
    put = f"/crm/v4/objects/contact/{contact}/associations/default/company/{other}"
    assert client.put(put, headers=HUBSPOT).status_code == 200
    admin = client.get("/admin/associations").json()["hubspot"]
    assert admin == [{"contactId": contact, "companyId": other, "associationTypeId": 279}]
    # archiving the company removes its associations
    gone = {"inputs": [{"id": other}]}
    assert client.post(f"{COMPANIES}/archive", headers=HUBSPOT, json=gone).status_code == 204
    assert client.get("/admin/associations").json()["hubspot"] == []


def test_marketo_companies_sync_and_lead_link(client: TestClient) -> None:
    auth = marketo_token(client)
    body = {
        "action": "createOrUpdate",
        "dedupeBy": "dedupeFields",
        "input": [
            {"externalCompanyId": "c1", "company": "Acme", "numberOfEmployees": 40},
            {"externalCompanyId": "c2", "plan": "pro"},
            {"company": "no key"},
        ],
    }
    answer = client.post("/rest/v1/companies.json", headers=auth, json=body).json()
    assert answer["success"] is True
    assert [r["status"] for r in answer["result"]] == ["created", "skipped", "skipped"]
    assert [r["seq"] for r in answer["result"]] == [0, 1, 2]
    assert answer["result"][1]["reasons"][0]["code"] == "1006"
    assert answer["result"][2]["reasons"][0]["code"] == "1003"
    # a lead's externalCompanyId must name an existing company (assumed 1013 otherwise)
    leads = {
        "action": "createOrUpdate",
        "lookupField": "email",
        "input": [
            {"email": "a@example.com", "externalCompanyId": "c1"},
            {"email": "b@example.com", "externalCompanyId": "nope"},
        ],
    }
    result = client.post("/rest/v1/leads.json", headers=auth, json=leads).json()["result"]
    assert [r["status"] for r in result] == ["created", "skipped"]
    assert result[1]["reasons"][0]["code"] == "1013"
    linked = client.get("/admin/associations").json()["marketo"]
    assert [a["externalCompanyId"] for a in linked] == ["c1"]
    read = client.get(
        "/rest/v1/companies.json",
        headers=auth,
        params={"filterType": "externalCompanyId", "filterValues": "c1,c9"},
    ).json()
    assert [c["company"] for c in read["result"]] == ["Acme"]
    too_many = {"input": [{"externalCompanyId": str(n)} for n in range(301)]}
    refused = client.post("/rest/v1/companies.json", headers=auth, json=too_many).json()
    assert refused["success"] is False and refused["errors"][0]["code"] == "1003"
    no_token = client.post("/rest/v1/companies.json", json=body).json()
    assert no_token["errors"][0]["code"] == "600"
    deleted = client.post(
        "/rest/v1/companies/delete.json",
        headers=auth,
        json={
            "deleteBy": "dedupeFields",
            "input": [{"externalCompanyId": "c1"}, {"externalCompanyId": "x"}],
        },
    ).json()["result"]
    assert [r["status"] for r in deleted] == ["deleted", "skipped"]
    assert client.get("/admin/associations").json()["marketo"] == []
