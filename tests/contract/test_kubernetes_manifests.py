"""deploy/kubernetes/: every document validates (strict) against the Kubernetes API schema with
kubernetes-validate, offline; and the sync Deployment keeps the rules the service depends on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from local_stack.topics import PARTITIONS
from streams.sync.settings import SyncSettings

pytestmark = pytest.mark.contract

MANIFESTS = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.33.0"


def documents() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        docs += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _, d in documents() if d["kind"] == kind}


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


@pytest.mark.parametrize(("name", "doc"), documents(),
                         ids=[f"{n}:{d['kind']}" for n, d in documents()])
def test_each_document_validates_strictly_against_the_api_schema(
    name: str, doc: dict[str, Any]
) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validator_would_catch_a_broken_manifest() -> None:
    broken = dict(by_kind("Deployment")["cdcbridge-sync"])
    broken["spec"] = {**broken["spec"], "replica": 3}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_sync_replicas_never_exceed_the_partitions_even_during_a_rollout() -> None:
    spec = by_kind("Deployment")["cdcbridge-sync"]["spec"]
    assert spec["replicas"] <= PARTITIONS
    assert spec["strategy"]["rollingUpdate"]["maxSurge"] == 0


def test_sync_grace_period_exceeds_its_drain_timeout() -> None:
    pod = by_kind("Deployment")["cdcbridge-sync"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    drain = float(env_of(container).get("CDCBRIDGE_SYNC_DRAIN_TIMEOUT_S",
                                        SyncSettings().drain_timeout_s))
    assert pod["terminationGracePeriodSeconds"] > drain


def test_sync_probes_use_its_health_endpoint_and_it_has_a_disruption_budget() -> None:
    pod = by_kind("Deployment")["cdcbridge-sync"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert int(env_of(container)["CDCBRIDGE_SYNC_HEALTH_PORT"]) == ports["health"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert "cdcbridge-sync" in by_kind("PodDisruptionBudget")


def test_receiver_has_service_and_autoscaler_and_no_secret_in_any_environment() -> None:
    assert "cdcbridge-webhooks" in by_kind("Service")
    hpa = by_kind("HorizontalPodAutoscaler")["cdcbridge-webhooks"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "cdcbridge-webhooks"
    for deployment in by_kind("Deployment").values():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            assert container["resources"]["requests"]["memory"]
            for name in env_of(container):
                assert not any(word in name for word in ("TOKEN", "SECRET_", "PASSWORD"))
