"""The admin side of a private sandbox platform (a process of its own on a free port, started
with ``local_stack.sandbox_launcher.private_sandbox``): what it stores, what it was asked, its
knobs, and the environment that points ``cdcbridge`` at it."""

from __future__ import annotations

from typing import Any

import httpx


class Sandbox:
    """A private sandbox serving one vendor's contract (``platform``: hubspot or marketo)."""

    def __init__(self, url: str, platform: str = "hubspot") -> None:
        self.url = url
        self.name = platform

    def contacts(self) -> dict[str, dict[str, Any]]:
        """The platform's contacts' properties by email (lower-case)."""
        listing = httpx.get(f"{self.url}/admin/contacts?platform={self.name}", timeout=10).json()
        return {
            str(c["properties"].get("email", "")).lower(): c["properties"]
            for c in listing[self.name]
        }

    def associations(self, prefix: str = "") -> dict[str, set[str]]:
        """HubSpot contact email (starting with ``prefix``) -> the source ids of its companies,
        as the sandbox keeps them (admin API: no vendor call counted)."""
        with httpx.Client(base_url=self.url, timeout=30) as admin:
            listing = admin.get("/admin/contacts").json()["hubspot"]
            contacts = {c["id"]: c["properties"]["email"] for c in listing}
            companies = {
                c["id"]: c["properties"]["cdcbridge_company_id"]
                for c in admin.get("/admin/companies").json()["hubspot"]
            }
            pairs = admin.get("/admin/associations").json()["hubspot"]
        found: dict[str, set[str]] = {}
        for pair in pairs:
            email = contacts[pair["contactId"]]
            if email.startswith(prefix):
                found.setdefault(email, set()).add(companies[pair["companyId"]])
        return found

    def tagged(self, tag: str) -> dict[str, dict[str, Any]]:
        """Contacts whose email starts with ``tag``."""
        return {e: p for e, p in self.contacts().items() if e.startswith(tag)}

    def contact(self, email: str) -> dict[str, Any] | None:
        """One stored contact's properties by email (the admin API: no vendor call counted)."""
        answer = httpx.get(f"{self.url}/admin/contacts/{self.name}/{email}", timeout=10)
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        properties: dict[str, Any] = answer.json()["properties"]
        return properties

    def edit(self, email: str, **properties: object) -> None:
        """Change a stored contact directly (the admin API), as a marketer would in the UI."""
        response = httpx.patch(
            f"{self.url}/admin/contacts/{self.name}/{email}", json=properties, timeout=10
        )
        response.raise_for_status()

    def requests(self) -> dict[str, Any]:
        result: dict[str, Any] = httpx.get(f"{self.url}/admin/requests", timeout=10).json()
        return result

    def upsert_calls(self) -> int:
        """Requests to a ``/batch/upsert`` endpoint, whatever their answer."""
        by_endpoint = self.requests()["by_endpoint"]
        return sum(
            sum(statuses.values())
            for endpoint, statuses in by_endpoint.items()
            if endpoint.endswith("/batch/upsert")
        )

    def write_calls(self) -> int:
        """Every request that may write a contact (anything but token, reads and admin)."""
        by_endpoint: dict[str, dict[str, int]] = self.requests()["by_endpoint"]
        return sum(
            sum(statuses.values())
            for endpoint, statuses in by_endpoint.items()
            if "batch/upsert" in endpoint or "batch/update" in endpoint
            or "batch/archive" in endpoint or "leads.json" in endpoint
        )  # fmt: skip

    def knobs(self, **changes: object) -> None:
        httpx.patch(f"{self.url}/admin/knobs", json=changes, timeout=10).raise_for_status()

    def knob(self, name: str) -> Any:
        """One knob's current value (``burst_429`` counts down as the platform answers)."""
        return httpx.get(f"{self.url}/admin/knobs", timeout=10).json()[name]

    def emit(self, count: int, type_: str) -> list[int]:
        """Have the sandbox send ``count`` signed webhooks; their HTTP statuses."""
        answer = httpx.post(
            f"{self.url}/admin/webhooks/emit", json={"count": count, "type": type_}, timeout=60
        ).json()
        statuses: list[int] = answer["statuses"]
        return statuses

    def env(self) -> dict[str, str]:
        """``cdcbridge``'s settings that point it at this sandbox."""
        if self.name == "hubspot":
            return {
                "CDCBRIDGE_PLATFORM": "hubspot",
                "CDCBRIDGE_HUBSPOT_BASE_URL": self.url,
                "CDCBRIDGE_HUBSPOT_TOKEN": "sandbox-token",
            }
        return {
            "CDCBRIDGE_PLATFORM": "marketo",
            "CDCBRIDGE_MARKETO_BASE_URL": self.url,
            "CDCBRIDGE_MARKETO_CLIENT_ID": "sandbox-client",
            "CDCBRIDGE_MARKETO_CLIENT_SECRET": "sandbox-secret",
        }
