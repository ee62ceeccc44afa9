"""Associations turn on by themselves while the sync consumes a companies table;
``CDCBRIDGE_SYNC_ASSOCIATIONS`` overrides either way."""

from __future__ import annotations

import pytest

from streams.sync.service import SyncParts, associations_on
from streams.sync.settings import SyncSettings
from tests.fakes.sync import FakeAdapter

pytestmark = pytest.mark.unit


def parts(company_tables: frozenset[str]) -> SyncParts:
    return SyncParts(
        FakeAdapter(), lambda *_: None, lambda c: None, lambda _f: None,  # type: ignore[arg-type,return-value]
        company_tables=company_tables,
    )  # fmt: skip


@pytest.mark.parametrize(
    "env,tables,expected",
    [
        (None, frozenset({"public.companies"}), True),
        (None, frozenset(), False),
        ("0", frozenset({"public.companies"}), False),
        ("1", frozenset(), True),
    ],
)
def test_associations_follow_the_companies_mapping_unless_the_env_says(
    monkeypatch: pytest.MonkeyPatch, env: str | None, tables: frozenset[str], expected: bool
) -> None:
    monkeypatch.delenv("CDCBRIDGE_SYNC_ASSOCIATIONS", raising=False)
    if env is not None:
        monkeypatch.setenv("CDCBRIDGE_SYNC_ASSOCIATIONS", env)
    assert associations_on(SyncSettings(), parts(tables)) is expected
