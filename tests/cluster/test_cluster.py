"""The offline kind cluster: a Ready node, the test app, and every way in (cluster marker).

Each test installs the chart with the locally built test app and reaches it
through one exposure, only on 127.0.0.1 or on the LoadBalancer address MetalLB
gives a Service this test created.
"""

from __future__ import annotations

import json
import urllib.request

import pykube
import pytest

from portico import values, wait
from portico.cluster import addons, kind, lifecycle
from tests.conftest import CHART

pytestmark = pytest.mark.cluster

APP = {"image": {"repository": addons.TESTAPP_REPO, "tag": "1.0.0", "pullPolicy": "Never"},
       "probes": {"readiness": {"spec": {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 1}}},
       "replicaCount": 1, "lifecycle": {"preStop": {"seconds": 2}}, "terminationGracePeriodSeconds": 10,
       "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}


@pytest.fixture(scope="session")
def cluster():
    lifecycle.up()
    return kind.ENDPOINTS


@pytest.fixture
def release(cluster, tmp_path, request):
    """Install the chart in a fresh namespace; uninstall and delete it afterwards."""
    installed = []

    local = kind.cluster()

    def install(values: dict, name: str | None = None) -> str:
        name = name or request.node.name.replace("_", "-")[:40].strip("-")
        local.install(name, CHART, name, [values], timeout="180s")
        installed.append(name)
        return name

    yield install
    for name in installed:
        local.helm.uninstall(name, name)
        local.kubectl.delete_namespace(name)


def _fetch_json(url: str, host: str | None) -> dict:
    req = urllib.request.Request(url, headers={"Host": host} if host else {})
    with urllib.request.urlopen(req, timeout=3) as resp:
        return json.loads(resp.read())


def get(url: str, host: str | None = None, timeout: float = 30) -> dict:
    """GET until it answers (routes take a moment to program); bounded in time."""
    return wait.until(lambda: _fetch_json(url, host), timeout=timeout, interval=1,
                      what=f"{url} (Host: {host}) never answered")


def merge(*layers: dict) -> dict:
    return values.merge(layers)


def test_node_is_ready(cluster, kube_cluster):
    state = lifecycle.status()
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


def test_a_daemonset_through_a_node_port(release, cluster):
    """One pod per node (one node here), reached through its Service like any workload, then rolled with the
    surge strategy: the new pod is ready before the old one goes."""
    values = merge(APP, {"workload": {"kind": "DaemonSet"}, "service": {"type": "NodePort", "ports": [
        {"name": "http", "port": 80, "targetPort": "http", "nodePort": 30009}]}})
    name = release(values)
    first = get("http://127.0.0.1:30009/ds")
    assert first["version"] == "1.0.0" and first["pod"].startswith(f"{name}-portico-")
    kind.cluster().upgrade(name, CHART, name, [merge(values, {"env": {"VERSION": "2.0.0"}})], timeout="180s")
    assert get("http://127.0.0.1:30009/ds")["version"] == "2.0.0"
    ds = kind.cluster().kubectl.get("daemonset", f"{name}-portico", namespace=name)
    assert ds["status"]["numberReady"] == ds["status"]["desiredNumberScheduled"] == 1


def test_a_job_and_a_cronjob_run_to_completion(release, cluster):
    """The test app's `get` mode fetches a URL and exits: a Job of it completes once the web release answers, and
    the CronJob's job, started by hand (kubectl create job --from), completes too."""
    web = release(APP, name="batch-web")
    url = f"http://{web}-portico.{web}.svc/"
    batch = {**APP, "args": ["get", url], "probes": {"readiness": {"enabled": False}}}
    k8s = kind.cluster()
    job = release(merge(batch, {"workload": {"kind": "Job"}}), name="batch-job")
    k8s.kubectl.run("wait", "--for=condition=complete", f"job/{job}-portico-r1", "-n", job, "--timeout=120s",
                    timeout=150)
    cron = release(merge(batch, {"workload": {"kind": "CronJob"}, "cronJob": {"schedule": "0 0 1 1 *"}}),
                   name="batch-cron")
    k8s.kubectl.run("create", "job", "by-hand", f"--from=cronjob/{cron}-portico", "-n", cron)
    k8s.kubectl.run("wait", "--for=condition=complete", "job/by-hand", "-n", cron, "--timeout=120s", timeout=150)
    assert not k8s.kubectl.get("services", namespace=job)["items"], "a Job gets no Service unless asked"


PROTOCOLS = {"env": {"GRPC_PORT": "9090", "TCP_PORT": "9191"},
             "ports": [{"name": "http", "containerPort": 8080}, {"name": "grpc", "containerPort": 9090},
                       {"name": "raw", "containerPort": 9191}],
             "service": {"ports": [{"name": "http", "port": 80, "targetPort": "http"},
                                   {"name": "grpc", "port": 9090, "targetPort": "grpc", "appProtocol": "grpc"},
                                   {"name": "raw", "port": 9191, "targetPort": "raw"}]},
             "tests": {"image": f"{addons.TESTAPP_REPO}:1.0.0", "command": ["/testapp", "get"],
                       "tcpCommand": ["/testapp", "tcp"],
                       "grpc": {"image": f"{addons.TESTAPP_REPO}:1.0.0", "command": ["/testapp", "grpc"]}}}


def test_helm_test_checks_every_port_with_its_protocol(release, cluster):
    """helm test passes on an app serving HTTP, gRPC health and TCP; it fails when gRPC health reports
    NOT_SERVING (an HTTP or TCP check would pass: the port is open), and when the TCP port is closed."""
    name = release(values.merge([APP, PROTOCOLS]))
    k8s = kind.cluster()
    wait.retry(lambda: k8s.helm.test(name, name), attempts=3, delay=3, on=(Exception,), what="helm test")
    for broken, container in (({"env": {"GRPC_STATUS": "NOT_SERVING"}}, "grpc"), ({"env": {"TCP_PORT": ""}}, "raw")):
        k8s.upgrade(name, CHART, name, [values.merge([APP, PROTOCOLS, broken])], timeout="180s")
        with pytest.raises(Exception) as failed:
            k8s.helm.test(name, name, timeout="60s")
        pod = k8s.kubectl.get("pod", f"{name}-portico-test", namespace=name)
        states = {c["name"]: c["state"].get("terminated", {}).get("exitCode")
                  for c in pod["status"]["containerStatuses"]}
        assert states[container] == 1 and states["http"] == 0, (states, str(failed.value)[-500:])


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

    def address() -> str | None:
        svc = kind.cluster().kubectl.get("service", f"{name}-portico", namespace=name)
        ingress = svc.get("status", {}).get("loadBalancer", {}).get("ingress") or []
        return ingress[0]["ip"] if ingress else None

    address = wait.until(address, timeout=60, interval=1, what="MetalLB gave no address")
    assert get(f"http://{address}:80/via-lb")["version"] == "1.0.0"
