"""Optional Prometheus in the local stack: Debian's ``prometheus`` on loopback with our rules.

``cdcbridge stack up --prometheus`` (or ``CDCBRIDGE_STACK_PROMETHEUS=1``) starts it on
``CDCBRIDGE_STACK_PROMETHEUS_PORT`` (default 19090), scraping and evaluating every 2 s, with the
rule files of ``deploy/monitoring/prometheus``. Scrape targets are files in
``.stack/prometheus/targets/`` (``add_target``), re-read within seconds, so a service started
later (a test's sync process) is scraped without a restart. Its data lives in the state folder.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import requests

from local_stack.layout import HOST, PROJECT_ROOT, StackLayout
from local_stack.processes import StackError, spawn

RULES_DIR = PROJECT_ROOT / "deploy" / "monitoring" / "prometheus"
DEFAULT_PORT = 19090
INTERVAL = "2s"


def port() -> int:
    return int(os.environ.get("CDCBRIDGE_STACK_PROMETHEUS_PORT", DEFAULT_PORT))


def url() -> str:
    return f"http://{HOST}:{port()}"


def wanted() -> bool:
    return os.environ.get("CDCBRIDGE_STACK_PROMETHEUS") == "1"


def home(layout: StackLayout) -> Path:
    return layout.root / "prometheus"


def pid_file(layout: StackLayout) -> Path:
    return layout.run / "prometheus.pid"


def config(layout: StackLayout) -> str:
    rules = "\n".join(f"  - {path}" for path in sorted(RULES_DIR.glob("*.rules.yml")))
    targets = home(layout) / "targets" / "*.json"
    return (
        f"global:\n  scrape_interval: {INTERVAL}\n  evaluation_interval: {INTERVAL}\n"
        f"rule_files:\n{rules}\n"
        "scrape_configs:\n  - job_name: cdcbridge\n    file_sd_configs:\n"
        f"      - files: ['{targets}']\n        refresh_interval: 1s\n"
    )


def add_target(layout: StackLayout, job: str, address: str) -> Path:
    """Scrape ``address`` (host:port serving /metrics) as ``job`` (must start with cdcbridge)."""
    path = home(layout) / "targets" / f"{job}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([{"targets": [address], "labels": {"job": job}}]))
    return path


def start(layout: StackLayout) -> int:
    """Start Prometheus. Raises StackError when the binary is missing."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise StackError("prometheus is not installed; run `bash scripts/install-deps.sh`")
    (home(layout) / "targets").mkdir(parents=True, exist_ok=True)
    config_file = home(layout) / "prometheus.yml"
    config_file.write_text(config(layout))
    argv = [
        binary,
        f"--config.file={config_file}",
        f"--storage.tsdb.path={home(layout) / 'data'}",
        f"--web.listen-address={HOST}:{port()}",
        "--storage.tsdb.retention.time=1d",
    ]
    return spawn(argv, pid_file=pid_file(layout), log_file=layout.logs / "prometheus.log",
                 cwd=layout.root)  # fmt: skip


def ready() -> bool:
    try:
        return requests.get(f"{url()}/-/ready", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def alerts() -> list[dict[str, object]]:
    """The alerts Prometheus holds now (pending and firing), from its HTTP API."""
    answer = requests.get(f"{url()}/api/v1/alerts", timeout=5)
    answer.raise_for_status()
    found: list[dict[str, object]] = answer.json()["data"]["alerts"]
    return found
