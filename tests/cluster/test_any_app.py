"""Any app, not only Portico's test app (cluster marker).

A corpus chart (stakater/application) running a stock web server (Debian's nginx: no X-Pod or X-Version header,
selector labels without app.kubernetes.io/instance) passes `portico smoke` and `portico upgrade-check`, run as a
user runs them; the same chart on its own rollout defaults (no readiness probe, no preStop) fails the upgrade
check: the negative control.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from portico.cluster import addons, kind, lifecycle
from tests.cluster import stock_web
from tests.conftest import REPO

pytestmark = pytest.mark.cluster

CORPUS = REPO.parent / "shared" / "corpus" / "charts"
CHART = CORPUS / "application"
VALUES = REPO / "tests" / "corpus" / "values" / "application-stock-web.yaml"
SMOKE = REPO / "tests" / "corpus" / "smoke" / "application.yaml"
NODE_PORT = 30004
# One host per front door: both are routers on Traefik's one entrypoint, and with the same host and path one of
# them would serve both targets.
INGRESS_HOST, ROUTE_HOST = "stock-ingress.portico.test", "stock-route.portico.test"
EXPOSED = {
    "service": {"type": "NodePort", "ports": [{"name": "http", "port": 8080, "protocol": "TCP",
                                               "targetPort": "http", "nodePort": NODE_PORT}]},
    "ingress": {"enabled": True, "ingressClassName": "traefik",
                "hosts": [{"host": INGRESS_HOST, "paths": [{"path": "/", "pathType": "Prefix"}]}]},
    "httpRoute": {"enabled": True, "hostnames": [ROUTE_HOST],
                  "parentRefs": [{"name": addons.GATEWAY_NAME, "namespace": addons.GATEWAY_NAMESPACE,
                                  "sectionName": "http"}]},
}
# The chart's own rollout defaults: no readiness probe, no preStop, no grace of its own.
CHART_DEFAULTS = {"deployment": {"readinessProbe": {"enabled": False}, "lifecycle": None,
                                 "terminationGracePeriodSeconds": None}}


@pytest.fixture(scope="module")
def images():
    if not CHART.is_dir():
        pytest.skip(f"the chart corpus is not at {CORPUS}")
    lifecycle.up()
    return stock_web.images()


def portico(*args, timeout: float = 600) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "portico.cli", *map(str, args),
                           "--kubeconfig", str(kind.kubeconfig_path())],
                          capture_output=True, text=True, timeout=timeout)
    print(proc.stdout[-4000:], proc.stderr[-2000:])
    return proc


def test_a_corpus_chart_with_a_stock_web_server_passes_smoke(images, tmp_path):
    report = tmp_path / "smoke.json"
    proc = portico("smoke", CHART, SMOKE, "--client-image", f"{addons.TESTAPP_REPO}:1.0.0",
                   "--client-command", "/testapp get", "--json", report)
    assert proc.returncode == 0
    cases = json.loads(report.read_text())["cases"]
    assert {c["name"] for c in cases} == {"clusterip", "nodeport", "ingress", "httproute"}
    assert all(c["status"] == "passed" for c in cases)
    # nginx names no pod: each answer was attributed by the cluster (the Service's ready endpoints).
    assert all("the Service's endpoints" in c["properties"]["answered_by"] for c in cases)


def upgrade(tmp_path, name: str, *layers: dict, keepalive: str = "auto") -> tuple[int, dict]:
    files = []
    for i, layer in enumerate((EXPOSED, *layers)):
        files += ["-f", tmp_path / f"{i}.yaml"]
        (tmp_path / f"{i}.yaml").write_text(yaml.safe_dump(layer))
    to = tmp_path / "to.yaml"
    to.write_text(yaml.safe_dump({"deployment": {"image": {"tag": stock_web.TAGS[1]}}}))
    out = REPO / "out" / "upgrade-check"
    out.mkdir(parents=True, exist_ok=True)
    report = out / f"{name}.json"
    proc = portico("upgrade-check", CHART, "--release", name, "--namespace", name, "-f", VALUES, *files,
                   "--to-values", to, "--scenario", name, "--from-label", stock_web.TAGS[0],
                   "--to-label", stock_web.TAGS[1], "--keepalive-method", keepalive,
                   # Two targets, as the other upgrade scenarios on this cluster (test_upgrade.TWO_TARGETS); the
                   # chart's HTTPRoute is reached by the smoke test above; test_upgrade loads an HTTPRoute.
                   "--target", f"nodeport=http://127.0.0.1:{NODE_PORT}/",
                   "--target", f"ingress={kind.ENDPOINTS.http}/@{INGRESS_HOST}",
                   "--json", report, "--plot", out / f"{name}.png", timeout=900)
    kind.cluster().helm.uninstall(name, name, wait=False, missing_ok=True)
    kind.cluster().kubectl.delete_namespace(name)
    return proc.returncode, json.loads(report.read_text())["cases"][0]["properties"]


@pytest.mark.zero_downtime
def test_a_stock_web_server_upgrades_without_a_failed_request(images, tmp_path):
    code, report = upgrade(tmp_path, "stock-web")
    assert code == 0 and report["failed"] == 0, report["failure_classes"]
    assert report["switch_judged_by"] == "cluster" and report["switch_completed"]
    assert report["requests"] >= 15000  # 2 x 500 req/s through a short rollout and its settle time


@pytest.mark.zero_downtime
def test_the_same_chart_on_its_own_rollout_defaults_drops_requests(images, tmp_path):
    """Negative control: no readiness probe and no preStop, and nginx stops listening at once."""
    code, report = upgrade(tmp_path, "stock-web-defaults", CHART_DEFAULTS)
    assert code == 1 and report["failed"] > 0, report
