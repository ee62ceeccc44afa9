"""The import layering holds (the contracts are in pyproject.toml, ``[tool.importlinter]``):
the project's layers (the CLI on top, the shared ``cdcbridge`` base at the bottom), the layers
inside ``streams``, ``webhook_bridge`` and its queue, the sync domain importing neither
writeback nor lag, mapping importing nothing from sync or platform, the Kafka boundary
importing no domain module. No module imports a module above it."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from importlinter.cli import lint_imports

pytestmark = pytest.mark.unit

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


def _contracts() -> list[dict[str, Any]]:
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    contracts: list[dict[str, Any]] = config["contracts"]
    return contracts


def test_every_import_contract_is_kept() -> None:
    assert lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True) == 0


def test_the_layers_cover_the_project_and_both_directions() -> None:
    layered = [c for c in _contracts() if c["type"] == "layers"]
    tops = {c["layers"][0] for c in layered if "layers" in c}
    assert {"cdcbridge.__main__", "streams.commands", "webhook_bridge.commands"} <= tops
    forbidden = [c for c in _contracts() if c["type"] == "forbidden"]
    assert any(
        c["source_modules"] == ["streams.sync"]
        and {"streams.writeback", "streams.lag"} <= set(c["forbidden_modules"])
        for c in forbidden
    )


def test_an_upward_import_breaks_the_layers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check can fail: a low module importing a high one is reported."""
    package = tmp_path / "layered_probe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "high.py").write_text("from layered_probe import low\n")
    (package / "low.py").write_text("from layered_probe import high\n")
    config = tmp_path / "probe.toml"
    config.write_text(
        '[tool.importlinter]\nroot_packages = ["layered_probe"]\n'
        '[[tool.importlinter.contracts]]\nname = "probe"\ntype = "layers"\n'
        'layers = ["layered_probe.high", "layered_probe.low"]\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "layered_probe", raising=False)
    assert lint_imports(config_filename=str(config), no_cache=True, no_logo=True) == 1
