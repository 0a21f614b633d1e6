"""deploy/k8s: every file a complete manifest, valid against the Kubernetes schemas offline,
listed in the kustomization, and every service with probes, limits, config, a
PodDisruptionBudget and a NetworkPolicy."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

pytestmark = pytest.mark.unit

K8S = Path(__file__).parents[2] / "deploy" / "k8s"
SERVICES = ("directory", "surveys", "events", "notifications")
MANIFESTS = sorted(p for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml")


@functools.cache
def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {
        doc["metadata"]["name"]: doc
        for path in MANIFESTS
        for doc in documents(path)
        if doc["kind"] == kind
    }


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: str(p.relative_to(K8S)))
def test_each_file_is_a_complete_valid_manifest(path: Path) -> None:
    docs = documents(path)
    assert docs, f"{path} is empty"
    for doc in docs:
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)


def test_the_kustomization_names_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = sorted(kustomization["resources"])
    assert listed == sorted(str(p.relative_to(K8S)) for p in MANIFESTS)


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_probes_limits_config_a_budget_and_a_policy(service: str) -> None:
    name = f"lobu-{service}"
    deployment = of_kind("Deployment")[name]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert set(container["resources"]) == {"requests", "limits"}
    sources = {next(iter(source)) for source in container["envFrom"]}
    assert sources == {"configMapRef", "secretRef"}
    assert deployment["spec"]["replicas"] >= 2
    assert of_kind("PodDisruptionBudget")[name]["spec"]["minAvailable"] == 1
    policy = of_kind("NetworkPolicy")[name]["spec"]
    assert policy["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": service}
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    assert of_kind("Service")[name]["spec"]["selector"] == {"app.kubernetes.io/name": service}
    assert f"{name}-config" in of_kind("ConfigMap")


def test_everything_not_allowed_is_denied() -> None:
    deny = of_kind("NetworkPolicy")["default-deny"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
