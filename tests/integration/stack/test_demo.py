"""README's first command: the end-to-end demo reaches a platform that matches the database."""

from __future__ import annotations

import pytest

from local_stack.demo import run_demo
from local_stack.endpoints import StackEndpoints
from local_stack.layout import StackLayout

pytestmark = pytest.mark.integration


def test_demo_ends_with_platform_matching_database(stack: StackEndpoints) -> None:
    if stack.origin != "local":
        pytest.skip("the demo drives the project's own local stack")
    lines: list[str] = []
    summary = run_demo(StackLayout.default(), 12, lines.append)
    assert "error" not in summary, summary
    assert summary["ops"] == {"c": 12, "u": 3, "d": 1}
    assert summary["database_rows"] == summary["platform_contacts"] == 11
    assert summary["sync_exit_code"] == 0
    assert any("RUNNING" in line for line in lines)
