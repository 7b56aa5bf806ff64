"""Field ownership under helm 4 (server-side apply) and helm 3 (three-way merge) (cluster marker).

An autoscaled workload's replicas belong to the HPA: the chart leaves them out, so
an upgrade neither resets them nor conflicts with the autoscaler's writes. The
/scale subresource that the HPA writes through stands in for it here (no
metrics-server on the offline cluster), with a negative control: a chart that
renders `replicas` is reset (or refused) by a helm 4 upgrade.
"""

from __future__ import annotations

import pytest

from portico.cluster import kind, lifecycle
from portico.clients.helm import Helm
from portico.process import CommandError
from tests.cluster.test_cluster import APP
from tests.conftest import CHART

pytestmark = pytest.mark.cluster

AUTOSCALED = {"autoscaling": {"enabled": True, "minReplicas": 1, "maxReplicas": 3}}


@pytest.fixture
def namespace(request):
    lifecycle.up()
    name = request.node.name.replace("_", "-").replace("[", "-").replace("]", "")[-40:].strip("-")
    yield name
    k8s = kind.cluster()
    k8s.helm.run("uninstall", name, "--namespace", name, "--ignore-not-found", check=False)
    k8s.kubectl.delete_namespace(name)


def helm(name: str) -> Helm:
    return Helm.pinned(name, kubeconfig=kind.kubeconfig_path())


def deployment(name: str) -> dict:
    return kind.cluster().kubectl.get("deployment", f"{name}-portico", "--show-managed-fields", namespace=name)


def owners_of_replicas(deploy: dict) -> set[str]:
    return {f"{m['manager']}/{m['operation']}" for m in deploy["metadata"].get("managedFields", [])
            if "f:replicas" in m.get("fieldsV1", {}).get("f:spec", {})}


def scale(name: str, replicas: int) -> None:
    kind.cluster().kubectl.run("scale", f"deployment/{name}-portico", f"--replicas={replicas}", "-n", name)


@pytest.mark.parametrize("installer,upgrader", [("helm", "helm"), ("helm3", "helm3"), ("helm3", "helm")])
def test_autoscaled_replicas_survive_upgrades(namespace, installer, upgrader):
    layers = [APP, AUTOSCALED]
    helm(installer).install_or_upgrade(namespace, CHART, namespace, layers, timeout="180s")
    scale(namespace, 2)
    for revision in ("2", "3"):
        helm(upgrader).install_or_upgrade(namespace, CHART, namespace,
                                          [*layers, {"podAnnotations": {"revision": revision}}], install=False,
                                          timeout="180s")
    deploy = deployment(namespace)
    assert deploy["spec"]["replicas"] == 2, "an upgrade reset the autoscaled replica count"
    assert not any(owner.startswith("helm/") for owner in owners_of_replicas(deploy)), owners_of_replicas(deploy)
    managers = {m["manager"] for m in deploy["metadata"]["managedFields"]}
    assert "helm" in managers


def test_negative_control_rendered_replicas_are_taken_back_by_helm4(namespace):
    """Without an HPA the chart renders replicas; helm 4 owns them by server-side apply, so an upgrade after an
    out-of-band scale resets them or refuses with a conflict: the check above can fail."""
    layers = [APP, {"replicaCount": 1}]
    helm("helm").install_or_upgrade(namespace, CHART, namespace, layers, timeout="180s")
    assert "helm/Apply" in owners_of_replicas(deployment(namespace))
    scale(namespace, 2)
    try:
        helm("helm").install_or_upgrade(namespace, CHART, namespace, [*layers, {"podAnnotations": {"r": "2"}}],
                                        install=False, timeout="180s")
    except CommandError as exc:
        assert "conflict" in str(exc).lower(), exc
        return
    assert deployment(namespace)["spec"]["replicas"] == 1
