"""Zero-downtime: helm upgrade under load drops nothing with the chart's defaults,
and every single-fault control is caught (cluster marker).

Each scenario keeps 500 req/s, open loop (vegeta), on each of three exposures
(NodePort, Ingress, HTTPRoute), POSTs on kept-alive connections and GETs on
fresh ones (half each, as far as the local ports hold: docs/zero-downtime.md),
through the rollout and a settle time, with at least 30,000 requests per
upgrade. Every scenario but the image change is a config-only change (the
VERSION variable), so none tests that alone; the single-fault controls replace
the first version's control that combined three faults. `make soak` repeats the
controls (tests/cluster/soak.py).
"""

from __future__ import annotations

import json
import subprocess

import pytest

from portico import upgrade_safety
from portico.cluster import addons, kind, lifecycle
from portico.kube import Cluster
from portico.zerodowntime import check, verdict
from portico.zerodowntime.load import Target
from portico.zerodowntime.plot import plot
from tests.cluster.test_cluster import APP, merge
from tests.conftest import CHART, REPO

pytestmark = pytest.mark.cluster

NODE_PORT = 30002
HOST = "upgrade.portico.test"
BASE = merge(APP, {
    "replicaCount": 2,
    "service": {"type": "NodePort", "ports": [{"name": "http", "port": 80, "targetPort": "http",
                                               "nodePort": NODE_PORT}]},
    "expose": {"via": ["ingress", "httpRoute"], "hosts": [{"host": HOST, "paths": [{"path": "/"}]}]},
    "ingress": {"className": "traefik"},
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


@pytest.fixture(scope="module")
def cluster():
    lifecycle.up()
    return kind.cluster()


def targets() -> list[Target]:
    """NodePort: the client's connections reach the pods (kept-alive POSTs). Ingress and HTTPRoute: they end at
    Traefik, so kept-alive GETs (docs/zero-downtime.md: POSTs through a pooling proxy)."""
    return [Target("nodeport", f"http://127.0.0.1:{NODE_PORT}/"),
            Target("ingress", f"{kind.ENDPOINTS.http}/ingress", HOST, keepalive_method="GET"),
            Target("httproute", f"{kind.ENDPOINTS.http}/route", HOST, keepalive_method="GET")]


def control_targets() -> list[Target]:
    """The three exposures, and 3 s requests on the NodePort (a pod must finish them before it exits)."""
    return targets() + [Target("slow", f"http://127.0.0.1:{NODE_PORT}/?delay=3s", rate=SLOW_TARGET_RATE)]


def run_control(cluster, name: str, layers: tuple[dict, ...], out_dir):
    """A single-fault control or its safe baseline: the same app, values and load, versions name-a -> name-b."""
    return run_scenario(cluster, name, step(f"{name} a", *layers, version(f"{name}-a")),
                        step(f"{name} b", *layers, version(f"{name}-b")), f"{name}-b", out_dir,
                        load_targets=control_targets())


def version(v: str) -> dict:
    return {"env": {"VERSION": v}}


def remove(cluster, release: str, wait: bool = False) -> None:
    """Every scenario pins the same nodePort: a release left behind would fail all that follow. Without
    `wait` the pods finish their preStop sleep in the background (the Service and its nodePort go at once)."""
    cluster.helm.uninstall(release, release, wait=wait, missing_ok=True)
    cluster.kubectl.delete_namespace(release, wait=wait)


def run_scenario(cluster, name, before, after, expected, out_dir, load_targets=None, min_requests=MIN_REQUESTS,
                 **options):
    """One upgrade under load (options go to check.upgrade_check), its JSON and plot under out_dir."""
    release = f"up-{name}"
    remove(cluster, release, wait=True)  # one an interrupted run left behind
    try:
        report, run = check.upgrade_check(cluster, name, release, release, before, after, load_targets or targets(),
                                          expected_version=expected, rate=RATE, min_requests=min_requests,
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


def test_image_change_drops_nothing(cluster, out_dir):
    report = run_scenario(cluster, "image-change", step("image 1.0.0", {"image": {"tag": "1.0.0"}}),
                          step("image 2.0.0", {"image": {"tag": "2.0.0"}}), "2.0.0", out_dir)
    assert_zero_downtime(report)
    assert {"1.0.0", "2.0.0"} <= {v for _, _, v in report.version_timeline}


def test_scale_down_drops_nothing(cluster, out_dir):
    report = run_scenario(cluster, "scale-change", step("4 replicas", version("scale"), {"replicaCount": 4}),
                          step("2 replicas", version("scale"), {"replicaCount": 2}), "scale", out_dir)
    assert_zero_downtime(report)
    assert max(p.terminating for p in report.pods) >= 1, "the scale-down terminated no pod under load"


def test_upgrade_from_the_previous_chart_release(cluster, out_dir):
    first = subprocess.run(["git", "-C", str(REPO), "log", "--diff-filter=A", "--format=%H", "--",
                            "charts/portico/Chart.yaml"], capture_output=True, text=True, check=True).stdout.split()
    previous = upgrade_safety.resolve(f"git:{first[-1]}", CHART, source=str(CHART / "Chart.yaml"))
    report = run_scenario(cluster, "previous-release", step(f"chart {previous.label}", version("previous"),
                                                            chart=previous.path),
                          step("chart (this commit)", version("current")), "current", out_dir)
    assert_zero_downtime(report)


def test_safe_defaults_with_a_slow_starting_app_drop_nothing(cluster, out_dir):
    """The baseline of the single-fault controls: the same app and values without the fault pass."""
    report = run_control(cluster, "safe-defaults", (SLOW_START,), out_dir)
    assert_zero_downtime(report)


@pytest.mark.parametrize("fault", SINGLE_FAULTS)
def test_single_fault_is_caught(cluster, out_dir, fault):
    report = run_control(cluster, fault, (SLOW_START, SINGLE_FAULTS[fault]), out_dir)
    assert report.failed > 0, f"{fault}: the check missed a single fault\n{verdict.render_text(report)}"
    assert not report.passed


def test_an_app_that_names_no_pod_or_version_is_judged_by_the_cluster(cluster, out_dir):
    """Any app: without X-Version or X-Pod the switch is judged from the pods' revisions, and it passes."""
    anonymous = {"env": {"IDENTIFY": "false"}}
    report = run_scenario(cluster, "anonymous-app", step("anonymous a", anonymous, version("anon-a")),
                          step("anonymous b", anonymous, version("anon-b")), None, out_dir)
    assert report.switch_judged_by == "cluster"
    assert_zero_downtime(report)


def test_helm3_users_get_the_same_check(out_dir):
    """--helm helm3: helm 3 installs and upgrades (client-side three-way merge), the same verdict."""
    lifecycle.up()
    helm3 = Cluster(kind.kubeconfig_path(), helm_binary="helm3")
    report = run_scenario(helm3, "helm3-image-change", step("image 1.0.0", {"image": {"tag": "1.0.0"}}),
                          step("image 2.0.0", {"image": {"tag": "2.0.0"}}), "2.0.0", out_dir)
    assert_zero_downtime(report)
