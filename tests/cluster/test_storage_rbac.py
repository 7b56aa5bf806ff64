"""Persistence and RBAC on the local cluster (cluster marker): the chart's claim binds, what a pod writes to it
survives a rollout, and the pod can do with the API what its Role allows and nothing more.

The local cluster has no dynamic storage provisioner (none is built here yet), so the test provides the
volume as an administrator would: a hostPath PersistentVolume of a storage class of its own, on a directory
it creates on the node. The claim is the chart's; binding it is the cluster's.
"""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
import yaml

from portico import wait
from portico.clients.docker import Docker
from portico.cluster import kind
from tests.cluster.test_cluster import APP, cluster, get, merge, release  # noqa: F401  (fixtures)
from tests.conftest import CHART

pytestmark = pytest.mark.cluster

PORT = 30008


def _http(method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@pytest.fixture
def static_volume(cluster, request):
    """A 1Gi hostPath PersistentVolume of storage class portico-static-<test>, on a world-writable node dir."""
    name = f"portico-static-{request.node.name.replace('_', '-')[:30].strip('-')}"
    path = f"/var/local/{name}"
    Docker().run("exec", f"{kind.CLUSTER}-control-plane", "mkdir", "-p", "-m", "0777", path)
    pv = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
          "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": name,
                   "persistentVolumeReclaimPolicy": "Retain", "hostPath": {"path": path, "type": "Directory"}}}
    kubectl = kind.cluster().kubectl
    kubectl.run("apply", "-f", "-", input=yaml.safe_dump(pv))
    yield name
    kubectl.run("delete", "persistentvolume", name, "--wait=false", check=False)
    Docker().run("exec", f"{kind.CLUSTER}-control-plane", "rm", "-rf", path, check=False)


def test_a_claim_binds_and_its_data_survives_a_rollout_and_the_role_allows_only_its_rules(release, static_volume):
    values = merge(APP, {
        "env": {"FILES_DIR": "/data"},
        "persistence": {"data": {"type": "pvc", "mountPath": "/data", "size": "1Gi", "storageClass": static_volume}},
        "serviceAccount": {"automountServiceAccountToken": True},
        "rbac": {"rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]},
        "service": {"type": "NodePort", "ports": [{"name": "http", "port": 80, "targetPort": "http",
                                                   "nodePort": PORT}]}})
    name = release(values)
    k8s = kind.cluster()
    claim = k8s.kubectl.get("persistentvolumeclaim", f"{name}-portico-data", namespace=name)
    assert claim["status"]["phase"] == "Bound" and claim["spec"]["volumeName"] == static_volume

    first = get(f"http://127.0.0.1:{PORT}/")["pod"]
    assert _http("PUT", "/files/greeting", b"written before the rollout") == (201, b"")

    # A rollout: a new pod (the surge strategy starts it on this one node while the old one still runs).
    k8s.upgrade(name, CHART, name, [merge(values, {"env": {"VERSION": "2.0.0"}})], timeout="180s")
    after = wait.until(lambda: (a := get(f"http://127.0.0.1:{PORT}/"))["version"] == "2.0.0" and a, timeout=60,
                       interval=1, what="the rolled pod never answered")
    assert after["pod"] != first
    assert _http("GET", "/files/greeting") == (200, b"written before the rollout")

    # RBAC: the pod, with its own token, can list ConfigMaps in its namespace and nothing else.
    assert _http("GET", f"/kube/api/v1/namespaces/{name}/configmaps")[0] == 200
    assert _http("GET", f"/kube/api/v1/namespaces/{name}/secrets")[0] == 403
    assert _http("GET", "/kube/api/v1/namespaces/default/configmaps")[0] == 403
    # And as the API server answers for the ServiceAccount (kubectl auth can-i --as).
    account = f"system:serviceaccount:{name}:{name}-portico"
    can = {(verb, resource): k8s.kubectl.run("auth", "can-i", verb, resource, "-n", name, "--as", account,
                                             check=False).stdout.strip()
           for verb, resource in (("list", "configmaps"), ("get", "secrets"), ("delete", "configmaps"))}
    assert can == {("list", "configmaps"): "yes", ("get", "secrets"): "no", ("delete", "configmaps"): "no"}


def test_without_rbac_rules_the_pod_can_read_nothing(release):
    """The control: the same pod with a token but no rules is refused by the API server."""
    values = merge(APP, {"serviceAccount": {"automountServiceAccountToken": True},
                         "service": {"type": "NodePort", "ports": [{"name": "http", "port": 80, "targetPort": "http",
                                                                    "nodePort": PORT}]}})
    name = release(values)
    get(f"http://127.0.0.1:{PORT}/")
    assert _http("GET", f"/kube/api/v1/namespaces/{name}/configmaps")[0] == 403


def test_an_empty_dir_loses_the_data_on_a_rollout(release):
    """The control for the claim: the same writes to an emptyDir are gone once the pod is replaced."""
    values = merge(APP, {"env": {"FILES_DIR": "/data"},
                         "persistence": {"data": {"type": "emptyDir", "mountPath": "/data"}},
                         "service": {"type": "NodePort", "ports": [{"name": "http", "port": 80, "targetPort": "http",
                                                                    "nodePort": PORT}]}})
    name = release(values)
    get(f"http://127.0.0.1:{PORT}/")
    assert _http("PUT", "/files/greeting", b"written before the rollout")[0] == 201
    kind.cluster().upgrade(name, CHART, name, [merge(values, {"env": {"VERSION": "2.0.0"}})], timeout="180s")
    wait.until(lambda: get(f"http://127.0.0.1:{PORT}/")["version"] == "2.0.0", timeout=60, interval=1,
               what="the rolled pod never answered")
    # The old pod may answer for a moment while it drains; the new one, alone, has no such file.
    wait.until(lambda: _http("GET", "/files/greeting")[0] == 404, timeout=30, interval=1,
               what="the file outlived its pod on an emptyDir")
