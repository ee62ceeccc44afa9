"""deploy/monitoring against the declared metrics and the tools' own checks.

Every metric a Prometheus rule, the Grafana dashboard, the Datadog dashboard, monitor or SLO
names is declared in ``cdcbridge.metric_names``, and every declared metric is used on both
sides (Prometheus and Datadog). ``promtool check rules`` and ``promtool test rules`` pass, and
every alert has a row in the README's runbook.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from cdcbridge.metric_names import METRIC_NAMES, METRICS

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy" / "monitoring"
RULES = sorted((MONITORING / "prometheus").glob("*.rules.yml"))
DATADOG = [MONITORING / "datadog" / n for n in ("dashboard.json", "monitors.json", "slos.json")]
PROMETHEUS_OWN = {"up"}  # series Prometheus itself writes
SUFFIXES = ("_bucket", "_count", "_sum")


def promql_expressions() -> list[str]:
    exprs = []
    for path in RULES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            exprs += [str(rule["expr"]) for rule in group["rules"]]
    grafana = json.loads((MONITORING / "grafana" / "cdcbridge.json").read_text())
    exprs += [t["expr"] for panel in grafana["panels"] for t in panel["targets"]]
    return exprs


def prometheus_names_used() -> set[str]:
    used = set()
    for expr in promql_expressions():
        for token in re.findall(r"\b(cdcbridge_[a-z0-9_]+)", expr):
            base = next((token.removesuffix(s) for s in SUFFIXES if token.endswith(s)), token)
            used.add(token if token in METRIC_NAMES else base)
    return used


def datadog_queries() -> list[str]:
    queries: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("q", "query", "numerator", "denominator") and isinstance(value, str):
                    queries.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in DATADOG:
        walk(json.loads(path.read_text()))
    return queries


def datadog_names_used() -> set[str]:
    pattern = r"(?:avg|sum|min|max|p\d+):([a-z][a-z0-9_.]*)\{"
    return {name for q in datadog_queries() for name in re.findall(pattern, q)}


def test_every_prometheus_reference_is_declared_and_every_metric_used() -> None:
    used = prometheus_names_used()
    assert used - set(METRIC_NAMES) == set(), "referenced but not declared"
    assert set(METRIC_NAMES) - used == set(), "declared but used by no rule or Grafana panel"


def test_every_datadog_reference_is_declared_and_every_metric_used() -> None:
    declared = {spec.datadog for spec in METRICS.values()}
    used = datadog_names_used()
    assert used - declared == set(), "referenced but not declared"
    assert declared - used == set(), "declared but used by no Datadog dashboard or monitor"
    for name in ("api.client.requests.total", "webhook.handler.invocations.success",
                 "sqs.queue.depth", "integration.latency.p95"):  # fmt: skip
        assert name in used, f"the SREs' guide name {name} is on no dashboard or monitor"


def test_datadog_documents_have_their_required_fields() -> None:
    dashboard = json.loads(DATADOG[0].read_text())
    assert {"title", "layout_type", "widgets"} <= dashboard.keys()
    assert dashboard["layout_type"] in ("ordered", "free")
    for widget in dashboard["widgets"]:
        definition = widget["definition"]
        assert {"type", "requests"} <= definition.keys()
        if definition["type"] == "query_value":
            assert len(definition["requests"]) == 1
    for monitor in json.loads(DATADOG[1].read_text()):
        assert monitor["type"] in ("query alert", "metric alert")
        threshold = re.search(r"(?:>=|<=|>|<)\s*([0-9.]+)\s*$", monitor["query"])
        assert threshold is not None, monitor["name"]
        assert float(threshold.group(1)) == monitor["options"]["thresholds"]["critical"]


def promtool() -> str:
    path = shutil.which("promtool")
    assert path is not None, "promtool missing (scripts/install-deps.sh installs it)"
    return path


def test_promtool_checks_the_rules() -> None:
    answer = subprocess.run([promtool(), "check", "rules", *map(str, RULES)],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert answer.returncode == 0, answer.stdout + answer.stderr


def test_promtool_unit_tests_each_alert_firing_and_quiet() -> None:
    tests = MONITORING / "prometheus" / "tests" / "alerts.test.yml"
    alerts = {
        rule["alert"]
        for path in RULES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    cases = [t for c in yaml.safe_load(tests.read_text())["tests"] for t in c["alert_rule_test"]]
    fired = {t["alertname"] for t in cases if t["exp_alerts"]}
    quiet = {t["alertname"] for t in cases if not t["exp_alerts"]}
    assert alerts - fired == set(), "alerts never seen firing"
    assert alerts - quiet == set(), "alerts never seen quiet"
    answer = subprocess.run([promtool(), "test", "rules", str(tests)],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert answer.returncode == 0, answer.stdout + answer.stderr


def test_every_alert_has_a_runbook_row() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Operating cdcbridge", 1)[-1].split("\n## ", 1)[0]
    alerts = re.findall(r"- alert: (\w+)", "".join(p.read_text() for p in RULES))
    missing = [a for a in alerts if a.removesuffix("Fast").removesuffix("Slow") not in section]
    assert missing == [], "alerts without a runbook row in README 'Operating cdcbridge'"


def test_the_monitoring_readme_lists_every_metric_with_both_names() -> None:
    text = (MONITORING / "README.md").read_text()
    for name, spec in METRICS.items():
        assert f"| `{name}` | `{spec.datadog}`" in text, name
