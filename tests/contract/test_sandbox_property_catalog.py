"""The sandbox's property catalogs refuse writes as the vendors do. Each test names the vendor
document its rule comes from (shared/reference/marketing_platforms.md §N, which cites the
vendor's spec or page)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from sandbox_platform.app import build_app

if TYPE_CHECKING:
    from starlette.testclient import TestClient

pytestmark = pytest.mark.contract

HUBSPOT = {"Authorization": "Bearer sandbox-token"}
UPSERT = "/crm/v3/objects/contacts/batch/upsert"
UPDATE = "/crm/v3/objects/contacts/batch/update"
PROPERTIES = "/crm/v3/properties/contacts"


@pytest.fixture
def client() -> Iterator[TestClient]:
    from starlette.testclient import TestClient  # imported here: it warns about httpx

    with TestClient(build_app()) as test_client:
        yield test_client


def upsert(client: TestClient, email: str, **props: str) -> Any:
    body = {"inputs": [{"id": email, "idProperty": "email", "properties": props}]}
    return client.post(UPSERT, headers=HUBSPOT, json=body)


def item_error(answer: Any) -> dict[str, Any]:
    assert answer.status_code == 207, answer.text
    error: dict[str, Any] = answer.json()["errors"][0]
    assert error["category"] == "VALIDATION_ERROR"
    return error


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


def test_hubspot_unknown_property_is_refused_until_created(client: TestClient) -> None:
    # §4 HubSpot properties API: a property must exist (PropertyCreate) before it is written.
    error = item_error(upsert(client, "a@example.com", cdcbridge_plan="pro"))
    assert error["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"
    assert error["context"]["ids"] == ["a@example.com"]
    detail = json.loads(error["message"].removeprefix("Property values were not valid: "))
    assert detail[0] == {
        "isValid": False,
        "message": 'Property "cdcbridge_plan" does not exist',
        "error": "PROPERTY_DOESNT_EXIST",
        "name": "cdcbridge_plan",
    }
    created = client.post(
        PROPERTIES,
        headers=HUBSPOT,
        json={
            "name": "cdcbridge_plan",
            "label": "Plan",
            "type": "string",
            "fieldType": "text",
            "groupName": "contactinformation",
        },
    )
    assert created.status_code == 201
    assert created.json()["modificationMetadata"]["readOnlyValue"] is False
    assert upsert(client, "a@example.com", cdcbridge_plan="pro").status_code == 200


def test_hubspot_read_only_properties_are_refused(client: TestClient) -> None:
    # §5: hs_email_optout "is a read only property; its value cannot be set" (opt-out goes
    # through communication preferences); §4: hs_object_id, lastmodifieddate are system-set.
    for name in ("hs_email_optout", "hs_object_id", "lastmodifieddate"):
        error = item_error(upsert(client, "a@example.com", **{name: "true"}))
        assert error["errors"][0]["code"] == "READ_ONLY_VALUE"
        assert "is a read only property; its value cannot be set" in error["message"]


def test_hubspot_lifecycle_stage_takes_only_its_options(client: TestClient) -> None:
    # §4: lifecyclestage's default internal values; "" clears any value.
    error = item_error(upsert(client, "a@example.com", lifecyclestage="Customer"))
    assert error["errors"][0]["code"] == "INVALID_OPTION"
    assert upsert(client, "a@example.com", lifecyclestage="customer").status_code == 200
    assert upsert(client, "a@example.com", lifecyclestage="").status_code == 200


def test_hubspot_property_create_rules(client: TestClient) -> None:
    # §4: PropertyCreate requires name, label, type, fieldType, groupName; type/fieldType
    # pairs; enumerations need options; a duplicate name is 409 Conflict.
    base = {"name": "cdcbridge_x", "label": "X", "groupName": "contactinformation"}
    missing = client.post(PROPERTIES, headers=HUBSPOT, json=base)
    assert missing.status_code == 400
    bad_pair = {**base, "type": "number", "fieldType": "text"}
    assert client.post(PROPERTIES, headers=HUBSPOT, json=bad_pair).status_code == 400
    no_options = {**base, "type": "enumeration", "fieldType": "select"}
    assert client.post(PROPERTIES, headers=HUBSPOT, json=no_options).status_code == 400
    good = {**base, "type": "string", "fieldType": "textarea"}
    assert client.post(PROPERTIES, headers=HUBSPOT, json=good).status_code == 201
    again = client.post(PROPERTIES, headers=HUBSPOT, json=good)
    assert again.status_code == 409 and again.json()["category"] == "CONFLICT"
    batch = client.post(
        f"{PROPERTIES}/batch/create",
        headers=HUBSPOT,
        json={"inputs": [good, {**good, "name": "cdcbridge_y"}]},
    )
    assert batch.status_code == 207
    assert [r["name"] for r in batch.json()["results"]] == ["cdcbridge_y"]
    assert batch.json()["errors"][0]["category"] == "CONFLICT"
    names = {p["name"] for p in client.get(PROPERTIES, headers=HUBSPOT).json()["results"]}
    assert {"email", "lifecyclestage", "cdcbridge_x", "cdcbridge_y"} <= names
    assert client.get(f"{PROPERTIES}/nope", headers=HUBSPOT).status_code == 404
    assert client.get(PROPERTIES).status_code == 401  # same auth as the objects API


def test_hubspot_batch_update_by_email_id_property(client: TestClient) -> None:
    # §6: batch/update works by record ID or by a unique idProperty on each input; a
    # non-unique one is refused; a missing record is a per-input OBJECT_NOT_FOUND.
    upsert(client, "old@example.com", firstname="A")
    moved = client.post(
        UPDATE,
        headers=HUBSPOT,
        json={
            "inputs": [
                {
                    "id": "old@example.com",
                    "idProperty": "email",
                    "properties": {"email": "new@example.com"},
                },
                {"id": "none@example.com", "idProperty": "email", "properties": {"firstname": "B"}},
            ]
        },
    )
    assert moved.status_code == 207
    assert moved.json()["results"][0]["properties"]["email"] == "new@example.com"
    assert moved.json()["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    non_unique = client.post(
        UPDATE,
        headers=HUBSPOT,
        json={"inputs": [{"id": "A", "idProperty": "firstname", "properties": {}}]},
    )
    assert non_unique.status_code == 400
    assert "non-unique" in non_unique.json()["message"]


def test_hubspot_unsubscribe_all_is_kept_per_address(client: TestClient) -> None:
    # §5: v4 statuses/batch/unsubscribe-all?channel=EMAIL takes addresses; opt-out is state
    # per address, also for an address with no contact.
    path = "/communication-preferences/v4/statuses/batch/unsubscribe-all"
    answer = client.post(
        f"{path}?channel=EMAIL", headers=HUBSPOT, json={"inputs": ["x@example.com", "broken"]}
    )
    assert answer.status_code == 207
    assert answer.json()["results"][0]["subscriberIdString"] == "x@example.com"
    assert answer.json()["errors"][0]["context"]["ids"] == ["broken"]
    assert client.app.state.sandbox.hubspot_optouts == {"x@example.com"}  # type: ignore[attr-defined]
    no_channel = client.post(path, headers=HUBSPOT, json={"inputs": ["x@example.com"]})
    assert no_channel.status_code == 400


def test_marketo_unknown_field_is_skipped_1006_until_created(client: TestClient) -> None:
    # §8 / error-codes.md: 1006 field not found (check against describe); leads.md "Create
    # Fields": displayName, name, dataType required; result per input "created".
    headers = marketo_token(client)
    body = {"action": "createOrUpdate", "input": [{"email": "a@example.com", "cdcbridgePlan": "p"}]}
    skipped = client.post("/rest/v1/leads.json", headers=headers, json=body).json()["result"][0]
    assert skipped["status"] == "skipped" and skipped["reasons"][0]["code"] == "1006"
    field = {"displayName": "cdcbridge plan", "name": "cdcbridgePlan", "dataType": "string"}
    created = client.post(
        "/rest/v1/leads/schema/fields.json", headers=headers, json={"input": [field]}
    ).json()
    assert created["result"] == [{"name": "cdcbridgePlan", "status": "created"}]
    again = client.post(
        "/rest/v1/leads/schema/fields.json", headers=headers, json={"input": [field]}
    ).json()
    assert again["result"][0]["status"] == "skipped"
    described = client.get("/rest/v1/leads/describe.json", headers=headers).json()["result"]
    rest = {d["rest"]["name"]: d["rest"]["readOnly"] for d in described}
    assert rest["cdcbridgePlan"] is False and rest["id"] is True and rest["unsubscribed"] is False
    ok = client.post("/rest/v1/leads.json", headers=headers, json=body).json()["result"][0]
    assert ok["status"] == "created"


def test_marketo_id_is_only_an_update_only_lookup(client: TestClient) -> None:
    # §8: id is system-managed; send it only with action updateOnly / lookupField id.
    headers = marketo_token(client)
    body = {"action": "createOrUpdate", "input": [{"email": "a@example.com", "id": 7}]}
    result = client.post("/rest/v1/leads.json", headers=headers, json=body).json()["result"][0]
    assert result["status"] == "skipped" and result["reasons"][0]["code"] == "1003"


def test_admin_reset_keeps_the_catalog_unless_asked(client: TestClient) -> None:
    field = {
        "name": "cdcbridge_z",
        "label": "Z",
        "type": "string",
        "fieldType": "text",
        "groupName": "contactinformation",
    }
    client.post(PROPERTIES, headers=HUBSPOT, json=field)
    client.post("/admin/reset")
    assert client.get(f"{PROPERTIES}/cdcbridge_z", headers=HUBSPOT).status_code == 200
    client.post("/admin/reset?catalog=defaults")
    assert client.get(f"{PROPERTIES}/cdcbridge_z", headers=HUBSPOT).status_code == 404
