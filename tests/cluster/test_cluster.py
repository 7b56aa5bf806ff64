"""The offline kind cluster: a Ready node, the test app, and every way in (cluster marker).

Each test installs the chart with the locally built test app and reaches it
through one exposure, only on 127.0.0.1 or on the LoadBalancer address MetalLB
gives a Service this test created.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request

import pykube
import pytest

from portico.binaries import tool_path
from portico.cluster import addons, kind
from tests.conftest import CHART

pytestmark = pytest.mark.cluster

APP = {"image": {"repository": addons.TESTAPP_REPO, "tag": "1.0.0", "pullPolicy": "Never"},
       "probes": {"readiness": {"spec": {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 1}}},
       "replicaCount": 1, "lifecycle": {"preStop": {"seconds": 2}}, "terminationGracePeriodSeconds": 10,
       "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}


@pytest.fixture(scope="session")
def cluster():
    kind.up()
    return kind.ENDPOINTS


def helm(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([tool_path("helm"), "--kubeconfig", str(kind.kubeconfig_path()), *args],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture
def release(cluster, tmp_path, request):
    """Install the chart in a fresh namespace; uninstall and delete it afterwards."""
    installed = []

    def install(values: dict, name: str | None = None) -> str:
        name = name or request.node.name.replace("_", "-")[:40].strip("-")
        path = tmp_path / f"{name}.yaml"
        path.write_text(json.dumps(values))
        helm("upgrade", "--install", name, str(CHART), "--namespace", name, "--create-namespace", "-f", str(path),
             "--wait", "--timeout", "180s")
        installed.append(name)
        return name

    yield install
    for name in installed:
        helm("uninstall", name, "--namespace", name, "--wait")
        kind.kubectl("delete", "namespace", name, "--wait=false", check=False)


def get(url: str, host: str | None = None, attempts: int = 30) -> dict:
    """GET with retries (routes take a moment to program); bounded in count and time."""
    last = None
    for _ in range(attempts):
        req = urllib.request.Request(url, headers={"Host": host} if host else {})
        try:
            with urllib.request.urlopen(req, timeout=3) as resp:
                return json.loads(resp.read())
        except Exception as exc:  # noqa: BLE001 - any failure is retried, the last one reported
            last = exc
            time.sleep(1)
    raise AssertionError(f"{url} (Host: {host}) never answered: {last}")


def merge(*layers: dict) -> dict:
    out: dict = {}
    for layer in layers:
        for key, value in layer.items():
            out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def test_node_is_ready(cluster, kube_cluster):
    state = kind.status()
    assert state["exists"] and set(state["nodes"].values()) == {"True"}
    # The same through pytest-helm-charts' cluster client.
    nodes = list(pykube.Node.objects(kube_cluster.kube_client))
    assert [{c["type"]: c["status"] for c in n.obj["status"]["conditions"]}["Ready"] for n in nodes] == ["True"]
    system = pykube.Pod.objects(kube_cluster.kube_client).filter(namespace="kube-system")
    assert {p.labels.get("component") or p.labels.get("k8s-app") for p in system} >= {
        "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "kube-dns"}


def test_app_through_a_node_port(release):
    name = release(merge(APP, {"service": {"type": "NodePort", "ports": [
        {"name": "http", "port": 80, "targetPort": "http", "nodePort": 30001}]}}))
    answer = get("http://127.0.0.1:30001/hello")
    assert answer["version"] == "1.0.0" and answer["pod"].startswith(f"{name}-portico-")


def test_app_through_an_ingress(release, cluster):
    host = "ingress.portico.test"
    release(merge(APP, {"expose": {"via": ["ingress"], "hosts": [{"host": host, "paths": [{"path": "/"}]}]},
                        "ingress": {"className": "traefik"}}))
    assert get(f"{cluster.http}/via-ingress", host=host)["path"] == "/via-ingress"


def test_app_through_an_httproute(release, cluster):
    host = "route.portico.test"
    release(merge(APP, {"expose": {"via": ["httpRoute"], "hosts": [{"host": host, "paths": [{"path": "/"}]}]},
                        "httpRoute": {"parentRefs": [{"name": addons.GATEWAY_NAME, "namespace": addons.GATEWAY_NAMESPACE,
                                                      "sectionName": "http"}]}}))
    assert get(f"{cluster.http}/via-route", host=host)["path"] == "/via-route"


def test_load_balancer_gets_an_address_that_answers(release):
    name = release(merge(APP, {"service": {"type": "LoadBalancer"}}))
    address = None
    for _ in range(60):
        svc = json.loads(kind.kubectl("-n", name, "get", "service", f"{name}-portico", "-o", "json").stdout)
        ingress = svc.get("status", {}).get("loadBalancer", {}).get("ingress") or []
        if ingress:
            address = ingress[0]["ip"]
            break
        time.sleep(1)
    assert address, "MetalLB gave no address"
    assert get(f"http://{address}:80/via-lb")["version"] == "1.0.0"
