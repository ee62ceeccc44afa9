"""The wheel is what ships (and what the container image installs): build it, install it into
a clean virtualenv outside the checkout, and run it from another folder. Its mappings, schemas,
SQL and connector configs must come from inside the installed package."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "debezium" / "create.json"

pytestmark = pytest.mark.artifact


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``bin/`` of a fresh virtualenv holding only the wheel and its dependencies."""
    work = tmp_path_factory.mktemp("wheel")
    dist = work / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist),
                    str(ROOT)], check=True, cwd=work)
    (wheel,) = dist.glob("cdcbridge-*.whl")
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    subprocess.run([str(env_dir / "bin" / "pip"), "install", "-q", "-q",
                    "--disable-pip-version-check", str(wheel)], check=True, cwd=work)
    return env_dir / "bin"


def test_map_runs_from_another_folder_with_the_packaged_mapping(
    installed: Path, tmp_path: Path
) -> None:
    line = json.dumps(json.loads(FIXTURE.read_text())) + "\n"
    result = subprocess.run([str(installed / "cdcbridge"), "map", "--target", "hubspot"],
                            input=line.encode(), capture_output=True, cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stderr.decode()
    (out,) = [json.loads(x) for x in result.stdout.splitlines()]
    assert out["ok"]["platform"] == "hubspot"
    assert out["ok"]["properties"]["email"] == "ana.garcia@example.com"


def test_sync_help_runs_from_another_folder(installed: Path, tmp_path: Path) -> None:
    result = subprocess.run([str(installed / "cdcbridge"), "sync", "--help"],
                            capture_output=True, cwd=tmp_path, check=False, text=True)
    assert result.returncode == 0, result.stderr
    assert "CDCBRIDGE_SYNC_BOOTSTRAP_SERVERS" in result.stdout


def test_run_files_come_from_the_installed_package_not_the_checkout(
    installed: Path, tmp_path: Path
) -> None:
    probe = ("from cdcbridge import package_data as p\n"
             "for f in (p.schemas_dir() / 'mappings' / 'customers.yaml', p.stack_sql_dir(),\n"
             "          p.connectors_dir() / 'debezium-postgres-source.json', p.jvm_pom(),\n"
             "          p.stack_config('log4j2.properties')):\n"
             "    assert f.exists() and not f.is_symlink(), f\n"
             "    print(f.resolve())\n")
    result = subprocess.run([str(installed / "python"), "-c", probe], capture_output=True,
                            cwd=tmp_path, check=False, text=True)
    assert result.returncode == 0, result.stderr
    paths = result.stdout.split()
    assert len(paths) == 5
    assert all("site-packages" in p and not p.startswith(str(ROOT)) for p in paths)
