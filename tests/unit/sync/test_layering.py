"""The import layering holds (the contracts are in pyproject.toml, ``[tool.importlinter]``):
mapping imports nothing from sync or platform; the Kafka boundary imports no domain module;
the envelope parser does not import the compiler; the sync domain sits below its commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from importlinter.cli import lint_imports

pytestmark = pytest.mark.unit

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


def test_every_import_contract_is_kept() -> None:
    assert lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True) == 0
