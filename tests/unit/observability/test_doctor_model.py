"""Doctor's exit code and its two renderings."""

from __future__ import annotations

import json

import pytest

from cdcbridge.doctor.model import exit_code, fail, ok, render_json, render_text, warn
from cdcbridge.doctor.registry import CHECKS

pytestmark = pytest.mark.unit


def test_exit_code_is_the_worst_status() -> None:
    assert exit_code([]) == 0
    assert exit_code([ok("a", "fine")]) == 0
    assert exit_code([ok("a", "fine"), warn("b", "meh", "do x")]) == 1
    assert exit_code([warn("b", "meh", "do x"), fail("c", "broken", "do y"), ok("a", "")]) == 2


def test_text_names_the_fix_under_each_problem() -> None:
    text = render_text([ok("kafka", "up"), fail("postgres.slot", "missing", "apply it")])
    assert text.splitlines() == [
        "OK    kafka          up",
        "FAIL  postgres.slot  missing",
        "                     fix: apply it",
        "1 OK, 0 WARN, 1 FAIL",
    ]


def test_json_document() -> None:
    doc = json.loads(render_json([ok("a", "up"), warn("b", "slow", "wait")]))
    assert doc == {
        "status": "WARN",
        "checks": [
            {"name": "a", "status": "OK", "detail": "up", "fix": ""},
            {"name": "b", "status": "WARN", "detail": "slow", "fix": "wait"},
        ],
    }


def test_every_area_the_issue_names_has_a_check() -> None:
    names = {check.__name__ for check in CHECKS}
    assert names >= {"check_configuration", "check_kafka", "check_connector", "check_postgres",
                     "check_platform", "check_platform_properties", "check_queues"}  # fmt: skip
