"""The fault suite's pieces that need no stack: the report table, and the sandbox's admin read
of one contact (the lag probe reads the heartbeat row with it, outside the vendor API)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from sandbox_platform.app import build_app
from tests.faults import report

if TYPE_CHECKING:
    from starlette.testclient import TestClient

pytestmark = pytest.mark.unit


@pytest.fixture
def client() -> Iterator[TestClient]:
    from starlette.testclient import TestClient  # imported here: it warns about httpx

    with TestClient(build_app()) as test_client:
        yield test_client


def test_admin_get_of_one_contact_reads_it_without_counting_a_vendor_request(
    client: TestClient,
) -> None:
    assert client.get("/admin/contacts/hubspot/hb@example.com").status_code == 404
    props = {"email": "hb@example.com", "firstname": "hb17"}
    body = {"inputs": [{"id": "hb@example.com", "idProperty": "email", "properties": props}]}
    upserted = client.post("/crm/v3/objects/contacts/batch/upsert", json=body,
                           headers={"Authorization": "Bearer sandbox-token"})  # fmt: skip
    assert upserted.status_code == 200, upserted.text
    before = client.get("/admin/requests").json()["total"]
    answer = client.get("/admin/contacts/hubspot/HB@example.com")
    assert answer.status_code == 200
    assert answer.json()["properties"]["firstname"] == "hb17"
    assert client.get("/admin/requests").json()["total"] == before
    assert client.get("/admin/contacts/nowhere/hb@example.com").status_code == 404


def test_report_renders_one_row_per_fault_and_fails_on_a_failed_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CDCBRIDGE_FAULTS_REPORT", str(tmp_path / "r.jsonl"))
    report.append_row({"fault": "kill -9 sync x5", "passed": True, "recovery_s": 1.8,
                       "resent": 282, "duplicates_dropped": 0, "peak_outbound_lag_s": 74.6,
                       "peak_inbound_lag_s": 15.8, "api_success_after_retries": 1.0})  # fmt: skip
    assert report.main() == 0
    table = (tmp_path / "r.md").read_text()
    assert "| kill -9 sync x5 | pass | 1.8 | 282 | 0 | 74.6 / 15.8 | 1.0 | - | - |" in table
    report.append_row({"fault": "outage", "passed": False, "failures": ["(a) audit failed"]})
    assert report.main() == 1
    assert "| outage | FAIL |" in capsys.readouterr().out
    assert json.loads((tmp_path / "r.jsonl").read_text().splitlines()[1])["fault"] == "outage"
