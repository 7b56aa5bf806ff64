"""Zero-downtime: helm upgrade under load drops nothing with the chart's defaults (cluster marker).

The single-fault controls are defined here (SINGLE_FAULTS, run_control) and run on the multi-node cluster
(tests/cluster/test_node_drain.py); `make soak` repeats them on this one-node cluster.

Each scenario keeps 300 req/s (ONE_NODE_RATE), open loop (vegeta), on each of two exposures,
POSTs on kept-alive connections and GETs on fresh ones (half each, as far as the
local ports hold: docs/zero-downtime.md), through the rollout and a settle time,
with at least 10,000 requests a target: the NodePort beside the Ingress, the
HTTPRoute, a ClusterIP loaded from a pod or gRPC through a GRPCRoute, and the
LoadBalancer beside the HTTPRoute (TWO_TARGETS says why not more at once).
Every scenario but the image change is a config-only change (the
VERSION variable), so none tests that alone; the single-fault controls replace
the first version's control that combined three faults. `make soak` repeats the
controls (tests/cluster/soak.py).
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from portico import upgrade_safety
from portico.cluster import addons, kind, lifecycle
from portico.kube import Cluster
from portico.zerodowntime import check, verdict
from portico.zerodowntime.load import Target
from portico.zerodowntime.plot import plot
from tests.cluster.test_cluster import APP, merge
from tests.conftest import CHART, REPO

pytestmark = [pytest.mark.cluster, pytest.mark.zero_downtime]

NODE_PORT = 30002
# One host per front door: the Ingress and the HTTPRoute are routers on Traefik's one entrypoint, and with the
# same host and path one of them would serve both targets.
INGRESS_HOST, ROUTE_HOST = "upgrade-ingress.portico.test", "upgrade-route.portico.test"
BASE = merge(APP, {
    "replicaCount": 2,
    "service": {"type": "NodePort", "ports": [{"name": "http", "port": 80, "targetPort": "http",
                                               "nodePort": NODE_PORT}]},
    "expose": {"via": ["httpRoute"], "hosts": [{"host": ROUTE_HOST, "paths": [{"path": "/"}]}]},
    "ingress": {"extra": {"front": {"className": "traefik",
                                    "hosts": [{"host": INGRESS_HOST, "paths": [{"path": "/"}]}]}}},
    "httpRoute": {"parentRefs": [{"name": addons.GATEWAY_NAME, "namespace": addons.GATEWAY_NAMESPACE,
                                  "sectionName": "http"}]},
})
# The chart's own defaults for the rollout (APP shortens them for quick installs).
DEFAULTS = {"lifecycle": {"preStop": {"seconds": 10}}, "terminationGracePeriodSeconds": 30}
# The controls' app behaves like most: it serves 3 s after it starts, stops accepting new connections at SIGTERM
# (kept-alive ones drain), and opens a plain TCP port at once (for the lying readiness probe).
SLOW_START = {"env": {"STARTUP_DELAY": "3s", "TCP_PORT": "9191", "ACCEPT_WHILE_DRAINING": "false"},
              "ports": [{"name": "http", "containerPort": 8080}, {"name": "raw", "containerPort": 9191}]}
# One fault each, on otherwise safe defaults. Each must fail the check; `make soak` runs each 10 times.
SINGLE_FAULTS = {
    "no-readiness-probe": {"probes": {"readiness": {"enabled": False}}},
    "readiness-before-serving": {"probes": {"readiness": {"spec": {"httpGet": None,
                                                                   "tcpSocket": {"port": "raw"}}}}},
    # A race per terminating pod (a new connection reaching a pod that stopped accepting before the endpoint
    # removal reached every proxy): 4 replicas give it twice the chances of 2 (the soak missed 1 in 10 with 2).
    "no-prestop-delay": {"lifecycle": {"preStop": {"mode": "none"}}, "replicaCount": 4},
    # Every old pod goes at once. kube-proxy (and so Traefik on the ClusterIP) then falls back to the
    # terminating pods while they still serve, so the fault shows only when the new ones need longer to serve
    # than the preStop sleep keeps the old ones: here 15 s against 10.
    "max-unavailable-100": {"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "100%"}},
                            "podDisruptionBudget": {"enabled": False}, "env": {"STARTUP_DELAY": "15s"}},
    "exit-on-sigterm": {"env": {"DRAIN": "false"}},
    # The grace ends 1 s after the preStop sleep; kubelet still gives the app its minimum of 2 s after SIGTERM,
    # then kills it: 3 s requests still in flight on kept-alive connections die with it.
    "grace-shorter-than-drain": {"terminationGracePeriodSeconds": 11},
}
# The controls' fourth target: requests that take 3 s, so some are in flight whenever a pod is told to stop.
SLOW_TARGET_RATE = 50
RATE = 500
MIN_REQUESTS = 30000
# Two targets a scenario on this cluster (each exposure under load in one of them): three at 500 req/s
# (1,500 req/s with half the connections fresh) kept the two cores so close to saturated that a pod start or
# exit now and then stalled everything for seconds (timeouts, readiness probes missed): the machine's
# failure, not the rollout's.
TWO_TARGETS = 20000
# The scenarios that must drop nothing on the one-node cluster: 300 req/s a target. At 500 (1,000 req/s with the
# cluster, Traefik and the generators on two cores) the run queue stayed near 20 and single requests stalled
# past the 5 s client timeout now and then (1 to 6 timeouts a run, p99 near 4 s, during healthy rollouts:
# 2026-12-07, three runs of this phase); these scenarios judge the chart, not the machine. The controls that
# must fail, and `portico upgrade-check`'s default, keep RATE.
ONE_NODE_RATE = 300


@pytest.fixture(scope="module")
def cluster():
    lifecycle.up()
    return kind.cluster()


def targets() -> list[Target]:
    """NodePort: the client's connections reach the pods (kept-alive POSTs). Ingress and HTTPRoute: they end at
    Traefik, so kept-alive GETs (docs/zero-downtime.md: POSTs through a pooling proxy)."""
    return [Target("nodeport", f"http://127.0.0.1:{NODE_PORT}/"),
            Target("ingress", f"{kind.ENDPOINTS.http}/ingress", INGRESS_HOST, keepalive_method="GET"),
            Target("httproute", f"{kind.ENDPOINTS.http}/route", ROUTE_HOST, keepalive_method="GET")]


def by_name(name: str) -> Target:
    return next(t for t in targets() if t.name == name)


def control_targets() -> list[Target]:
    """The three exposures, and 3 s requests on the NodePort (a pod must finish them before it exits)."""
    return targets() + [Target("slow", f"http://127.0.0.1:{NODE_PORT}/?delay=3s", rate=SLOW_TARGET_RATE)]


def run_control(cluster, name: str, layers: tuple[dict, ...], out_dir, make_step=None, load_targets=None,
                min_requests=MIN_REQUESTS):
    """A single-fault control or its safe baseline: the same app, values and load, versions name-a -> name-b
    (`make_step` and `load_targets`: another cluster's values and exposures, e.g. the multi-node one's)."""
    make_step = make_step or step
    return run_scenario(cluster, name, make_step(f"{name} a", *layers, version(f"{name}-a")),
                        make_step(f"{name} b", *layers, version(f"{name}-b")), f"{name}-b", out_dir,
                        load_targets=load_targets or control_targets(), min_requests=min_requests)


def version(v: str) -> dict:
    return {"env": {"VERSION": v}}


def remove(cluster, release: str, wait: bool = False) -> None:
    """Every scenario pins the same nodePort: a release left behind would fail all that follow. Without
    `wait` the pods finish their preStop sleep in the background (the Service and its nodePort go at once)."""
    cluster.helm.uninstall(release, release, wait=wait, missing_ok=True)
    cluster.kubectl.delete_namespace(release, wait=wait)


def run_scenario(cluster, name, before, after, expected, out_dir, load_targets=None, min_requests=MIN_REQUESTS,
                 rate=RATE, **options):
    """One upgrade under load (options go to check.upgrade_check), its JSON and plot under out_dir."""
    release = f"up-{name}"
    remove(cluster, release, wait=True)  # one an interrupted run left behind
    try:
        report, run = check.upgrade_check(cluster, name, release, release, before, after, load_targets or targets(),
                                          expected_version=expected, rate=rate, min_requests=min_requests,
                                          **{"warmup": 2.0, "settle": 3.0, **options})
    finally:
        remove(cluster, release)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps(verdict.to_dict(report), indent=2))
    plot(report, run, out_dir / f"{name}.png")
    print(verdict.render_text(report))
    return report


@pytest.fixture(scope="module")
def out_dir():
    return REPO / "out" / "upgrade-check"


def step(label: str, *layers: dict, chart=CHART) -> check.Step:
    return check.Step(chart, (BASE, DEFAULTS, *layers), label)


def assert_zero_downtime(report: verdict.UpgradeReport, min_requests: int = MIN_REQUESTS) -> None:
    assert report.requests >= min_requests
    for t in report.targets:
        assert t.requests / max(report.duration, 1) >= t.rate * 0.9, f"{t.name}: rate below {t.rate:g} req/s"
    assert report.failed == 0, verdict.render_text(report)
    assert report.switch_completed, verdict.render_text(report)


def test_image_change_by_helm3_drops_nothing(cluster, out_dir):
    """An image change under load on the LoadBalancer (MetalLB's address for the Service, resolved after the
    install) and the HTTPRoute, installed and upgraded by helm 3 (`--helm helm3`: a client-side three-way merge
    instead of server-side apply): helm 3 users get the same verdict. The other scenarios use helm 4. The
    Deployment rolls an image change as it rolls any template change."""
    helm3 = Cluster(cluster.kubeconfig, helm_binary="helm3")
    lb = {"service": {"type": "LoadBalancer"}}
    report = run_scenario(helm3, "image-change", step("image 1.0.0", lb, {"image": {"tag": "1.0.0"}}),
                          step("image 2.0.0", lb, {"image": {"tag": "2.0.0"}}), "2.0.0", out_dir,
                          load_targets=[Target("loadbalancer", "lb://up-image-change-portico/"), by_name("httproute")],
                          min_requests=TWO_TARGETS, rate=ONE_NODE_RATE)
    assert_zero_downtime(report, TWO_TARGETS)
    assert {t.name for t in report.targets} == {"httproute", "loadbalancer"}
    assert {"1.0.0", "2.0.0"} <= {v for _, _, v in report.version_timeline}


def test_scale_down_drops_nothing(cluster, out_dir):
    report = run_scenario(cluster, "scale-change", step("4 replicas", version("scale"), {"replicaCount": 4}),
                          step("2 replicas", version("scale"), {"replicaCount": 2}), "scale", out_dir,
                          load_targets=[by_name("nodeport"), by_name("ingress")], min_requests=TWO_TARGETS,
                          rate=ONE_NODE_RATE)
    assert_zero_downtime(report, TWO_TARGETS)
    assert max(p.terminating for p in report.pods) >= 1, "the scale-down terminated no pod under load"


def test_upgrade_from_the_previous_chart_release(cluster, out_dir):
    first = subprocess.run(["git", "-C", str(REPO), "log", "--diff-filter=A", "--format=%H", "--",
                            "charts/portico/Chart.yaml"], capture_output=True, text=True, check=True).stdout.split()
    previous = upgrade_safety.resolve(f"git:{first[-1]}", CHART, source=str(CHART / "Chart.yaml"))
    report = run_scenario(cluster, "previous-release", step(f"chart {previous.label}", version("previous"),
                                                            chart=previous.path),
                          step("chart (this commit)", version("current")), "current", out_dir,
                          load_targets=[by_name("nodeport"), by_name("httproute")], min_requests=TWO_TARGETS,
                          rate=ONE_NODE_RATE)
    assert_zero_downtime(report, TWO_TARGETS)


def test_an_app_that_names_no_pod_or_version_is_judged_by_the_cluster(cluster, out_dir):
    """Any app: without X-Version or X-Pod the switch is judged from the pods' revisions, and it passes. Its
    ClusterIP Service is under load too, from a pod inside the cluster (vegeta's own image).

    The NodePort and the ClusterIP only: the load pod shares the node's two cores with Traefik, and with two
    more targets through Traefik every Traefik request slowed to seconds (p50 2.2 s, timeouts well after the
    rollout: the proxy starved, not the rollout). The other scenarios load Traefik's exposures."""
    anonymous = {"env": {"IDENTIFY": "false"}}
    report = run_scenario(cluster, "anonymous-app", step("anonymous a", anonymous, version("anon-a")),
                          step("anonymous b", anonymous, version("anon-b")), None, out_dir,
                          load_targets=targets()[:1] + [Target("clusterip", "cluster://up-anonymous-app-portico/")],
                          min_requests=20000, rate=ONE_NODE_RATE)  # 10,000 a target, as elsewhere
    assert report.switch_judged_by == "cluster"
    assert_zero_downtime(report, min_requests=20000)
    assert {t.name for t in report.targets} == {"nodeport", "clusterip"}


def test_load_from_inside_the_cluster_counts_what_fails(cluster):
    """Negative control for cluster:// load: a Service with no endpoints fails every request, counted from the
    pod; the namespace enforces Pod Security "restricted", which the load pod meets."""
    from portico.clients.vegeta import PodVegeta, Vegeta, pod_image
    from portico.toolchain.pins import load_versions
    from portico.zerodowntime.load import LoadGenerator

    ns, kubectl = "up-in-cluster-control", cluster.kubectl
    kubectl.delete_namespace(ns, wait=True)
    kubectl.run("create", "namespace", ns)
    try:
        kubectl.run("label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted")
        kubectl.run("-n", ns, "create", "service", "clusterip", "nobody", "--tcp=80:8080")
        pod = PodVegeta(kubectl.binary, kubectl.kubeconfig, ns, pod_image(load_versions()["VEGETA_VERSION"]),
                        Vegeta.pinned())
        gen = LoadGenerator([Target("clusterip", f"http://nobody.{ns}.svc:80/", in_cluster=True)],
                            rate_per_target=50, max_seconds=30, in_cluster=pod, timeout=1)
        gen.start()
        time.sleep(3)
        run = gen.stop()
    finally:
        kubectl.delete_namespace(ns)
    assert len(run.samples) >= 100 and all(not s.ok for s in run.samples)
    assert set(run.failures()) <= {"refused", "timeout"}


GRPC_HOST = "upgrade-grpc.portico.test"
# The test app's gRPC health service on a second port, behind a Service of its own that Traefik routes to the
# pods' IPs (`traefik.io/service.nativelb: "false"`; h2c: the port names no appProtocol). Through the ClusterIP
# (this cluster's default, docs/zero-downtime.md) Traefik's one HTTP/2 connection stays on the pod it reached
# until the pod's GOAWAY at SIGTERM, still carrying calls, and a call caught between its stream ID and its
# HEADERS write fails with 500 (Go's HTTP/2 client cannot retry a proxied body): 1 call in 17,254 in a
# fresh-clone run. With the pods' IPs Traefik stops sending to a pod during its preStop sleep, so the GOAWAY
# finds an idle connection; and the calls spread over the pods instead of over one.
GRPC_SERVICE = "up-grpc-route-portico-grpc"
GRPC = {"env": {"GRPC_PORT": "9090"},
        "ports": [{"name": "http", "containerPort": 8080}, {"name": "grpc", "containerPort": 9090}],
        "additionalServices": {"grpc": {"annotations": {"traefik.io/service.nativelb": "false"},
                                        "ports": [{"name": "grpc", "port": 9090, "targetPort": "grpc"}]}},
        "grpcRoute": {"enabled": True, "hostnames": [GRPC_HOST],
                      "rules": [{"backendRefs": [{"name": GRPC_SERVICE, "port": 9090}]}],
                      "parentRefs": [{"name": addons.GATEWAY_NAME, "namespace": addons.GATEWAY_NAMESPACE,
                                      "sectionName": "http"}]}}


def test_grpc_through_a_grpcroute_drops_nothing(cluster, out_dir):
    """gRPC health checks through the Gateway's GRPCRoute (ghz, open loop) beside the NodePort: the app sends
    GOAWAY at SIGTERM and waits for the calls in flight before it exits. Not the Ingress and HTTPRoute too: with
    three targets through Traefik on two cores its calls slowed to p50 0.7 s (and the other scenarios load
    them)."""
    report = run_scenario(cluster, "grpc-route", step("grpc a", GRPC, version("grpc-a")),
                          step("grpc b", GRPC, version("grpc-b")), "grpc-b", out_dir, min_requests=20000,
                          rate=ONE_NODE_RATE,
                          load_targets=[targets()[0],
                                        Target("grpcroute", kind.ENDPOINTS.http.replace("http", "grpc", 1), GRPC_HOST)])
    assert_zero_downtime(report, min_requests=20000)
    grpc = next(t for t in report.targets if t.name == "grpcroute")
    assert grpc.requests >= 10000 and not grpc.failures
