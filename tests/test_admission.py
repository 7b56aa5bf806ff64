"""Admission by a real kube-apiserver (etcd and kube-apiserver only, on loopback): what kubeconform passes and the
API server refuses. Needs the pinned Kubernetes and etcd builds (the offline cluster builds them too)."""

from __future__ import annotations

import json
import sys
import time

import pytest
import yaml

from portico import schemas
from portico.admission import stage
from portico.admission.client import Client
from portico.admission.server import LocalAPIServer
from portico.process import default_runner
from tests.conftest import CHART, FIXTURES

pytestmark = pytest.mark.apiserver

NS = "apps"
LABELS = {"app": "web"}
RESTRICTED = {"runAsNonRoot": True, "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
              "seccompProfile": {"type": "RuntimeDefault"}}


@pytest.fixture(scope="module")
def client():
    started = time.monotonic()
    with LocalAPIServer() as server:
        c = Client(server.url, server.token)
        c.discover()
        c.startup_seconds = time.monotonic() - started
        # The whole catalog, once: the server must accept and establish every pinned CRD (install_crds raises if not).
        stage.install_crds(c, stage.catalog_crds())
        yield c


def service(**spec) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": NS},
            "spec": {"selector": LABELS, "ports": [{"name": "http", "port": 80}], **spec}}


def deployment(security: dict | None) -> dict:
    container = {"name": "web", "image": "web:1"}
    if security is not None:
        container["securityContext"] = security
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": NS},
            "spec": {"selector": {"matchLabels": LABELS}, "template": {"metadata": {"labels": LABELS},
                                                                       "spec": {"containers": [container]}}}}


def route(parent_refs: list[dict]) -> dict:
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "web", "namespace": NS},
            "spec": {"parentRefs": parent_refs, "rules": [{"backendRefs": [{"name": "web", "port": 80}]}]}}


def admit(client: Client, *docs: dict) -> set[tuple[str, str]]:
    findings, sent = stage.admit(client, {"r": list(docs)}, {"r": ["combo"]}, namespace=NS, kubernetes_version="1.34")
    assert sent == len(docs)
    return {(f.rule, f.kind) for f in findings}


def kubeconform_passes(tmp_path, doc: dict) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert schemas.validate("1.34", [path]).invalid == (), "the control must pass kubeconform"


def test_the_server_starts_quickly(client):
    assert client.startup_seconds < 60  # seconds warm; docs/benchmarks.md has the figure


def test_a_clean_service_and_a_restricted_deployment_are_admitted(client):
    assert admit(client, service(), deployment(RESTRICTED)) == set()


@pytest.mark.parametrize("bad", [
    {"externalTrafficPolicy": "Local"},                                       # only for externally reachable types
    {"ports": [{"name": "http", "port": 80, "nodePort": 30080}]},            # a nodePort on a ClusterIP
    {"ports": [{"name": "http", "port": 80}, {"name": "http", "port": 81}]},  # duplicate port names
], ids=["externalTrafficPolicy-on-ClusterIP", "nodePort-on-ClusterIP", "duplicate-port-names"])
def test_service_rules_kubeconform_cannot_see(client, tmp_path, bad):
    doc = service(**bad)
    kubeconform_passes(tmp_path, doc)
    assert ("admission/rejected", "Service") in admit(client, doc)


def test_cel_validation_of_a_crd(client, tmp_path):
    """Gateway API: two parentRefs to the same Gateway need a sectionName or port (a CEL rule)."""
    doc = route([{"name": "gw"}, {"name": "gw"}])
    kubeconform_passes(tmp_path, doc)
    assert ("admission/rejected", "HTTPRoute") in admit(client, doc)
    assert admit(client, route([{"name": "gw", "sectionName": "http"}, {"name": "gw", "sectionName": "https"}])) == set()


def test_pod_security_of_the_namespace(client, tmp_path):
    doc = deployment(None)
    kubeconform_passes(tmp_path, doc)
    assert ("admission/pod-security", "Deployment") in admit(client, doc)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "test", "namespace": NS},
           "spec": {"containers": [{"name": "t", "image": "t:1"}]}}
    assert ("admission/rejected", "Pod") in admit(client, pod)  # enforce refuses bare pods


def test_an_unserved_kind_is_named(client):
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": NS}}
    assert ("admission/not-served", "Widget") in admit(client, widget)


def test_speed(client):
    docs = [service() | {"metadata": {"name": f"web-{i}", "namespace": NS}} for i in range(400)]
    started = time.monotonic()
    admit(client, *docs)
    rate = len(docs) / (time.monotonic() - started)
    print(f"admission: {rate:.0f} objects/s")
    assert rate > 0


def test_matrix_admission_finds_what_only_the_server_sees(tmp_path):
    """The tiny fixture chart with an axis that sets externalTrafficPolicy on its ClusterIP Service."""
    matrix = tmp_path / "m.yaml"
    matrix.write_text(yaml.safe_dump({
        "chart": str(FIXTURES / "charts" / "tiny"), "release": {"name": "tiny", "namespace": "apps"},
        "axes": {"bug": {"path": "bug", "values": ["none", "external-traffic-policy"]}},
        "validate": {"kubernetesVersions": ["1.34"]}}))
    done = default_runner().run([sys.executable, "-m", "portico.cli", "matrix", str(matrix), "-o", str(tmp_path / "o"),
                                 "--no-progress", "--json", str(tmp_path / "r.json"), "--admission",
                                 "--pod-security", "baseline"], check=False, timeout=600)
    report = json.loads((tmp_path / "r.json").read_text())
    rejected = [f for f in report["findings"] if f["rule"] == "admission/rejected"]
    assert done.returncode == 1, done.stderr
    assert rejected and rejected[0]["kind"] == "Service" and dict(rejected[0]["trigger"]) == {
        "bug": "external-traffic-policy"}
    assert not [f for f in report["findings"] if f["stage"] == "schema"], "kubeconform passes it"


def tiny_upgrade(tmp_path, previous: str) -> tuple[int, list[dict]]:
    """The tiny chart's matrix upgraded from `previous`, through admission: (exit code, findings)."""
    matrix = tmp_path / "m.yaml"
    matrix.write_text(yaml.safe_dump({
        "chart": str(FIXTURES / "charts" / "tiny"), "release": {"name": "tiny", "namespace": "apps"},
        "axes": {"bug": {"path": "bug", "values": ["none"]}}, "validate": {"kubernetesVersions": ["1.34"]},
        "upgrade": {"from": str(FIXTURES / "charts" / previous)}}))
    done = default_runner().run([sys.executable, "-m", "portico.cli", "matrix", str(matrix), "-o", str(tmp_path / "o"),
                                 "--no-progress", "--json", str(tmp_path / "r.json"), "--admission",
                                 "--pod-security", "baseline"], check=False, timeout=600)
    return done.returncode, json.loads((tmp_path / "r.json").read_text())["findings"]


def test_an_immutable_field_on_upgrade_is_refused_by_the_server(tmp_path):
    """tiny-v1 -> tiny changes the Deployment's selector: the server refuses the server-side apply."""
    code, findings = tiny_upgrade(tmp_path, "tiny-v1")
    refused = [f for f in findings if f["rule"] == "admission/upgrade-rejected"]
    assert code == 1
    assert refused and refused[0]["kind"] == "Deployment" and "immutable" in refused[0]["message"]


def test_an_unchanged_upgrade_is_admitted(tmp_path):
    code, findings = tiny_upgrade(tmp_path, "tiny")
    assert not [f for f in findings if f["rule"].startswith("admission/")], findings
    assert code == 0


def test_upgrading_the_chart_to_itself_is_admitted(tmp_path):
    """The chart's helm test Pod is a hook (helm recreates it, never upgrades it) and the pods it owns need the
    namespace's default ServiceAccount, which no controller creates on the local server: neither is a finding."""
    matrix = tmp_path / "m.yaml"
    matrix.write_text(yaml.safe_dump({
        "chart": str(CHART), "release": {"name": "shop", "namespace": "apps"},
        "axes": {"type": {"path": "service.type", "values": ["ClusterIP"]}},
        "validate": {"kubernetesVersions": ["1.34"]}, "upgrade": {"from": str(CHART)}}))
    done = default_runner().run([sys.executable, "-m", "portico.cli", "matrix", str(matrix), "-o", str(tmp_path / "o"),
                                 "--no-progress", "--json", str(tmp_path / "r.json"), "--admission"], check=False,
                                timeout=600)
    findings = json.loads((tmp_path / "r.json").read_text())["findings"]
    assert done.returncode == 0 and not findings, findings


def test_the_servers_the_matrix_asks_for(tmp_path):
    """admission.kubernetesVersions: one local server per minor; findings carry the server's version."""
    matrix = tmp_path / "m.yaml"
    matrix.write_text(yaml.safe_dump({
        "chart": str(FIXTURES / "charts" / "tiny"), "release": {"name": "tiny", "namespace": "apps"},
        "axes": {"bug": {"path": "bug", "values": ["external-traffic-policy"]}},
        "validate": {"kubernetesVersions": ["1.34"]}, "admission": {"kubernetesVersions": ["1.34"]}}))
    done = default_runner().run([sys.executable, "-m", "portico.cli", "matrix", str(matrix), "-o", str(tmp_path / "o"),
                                 "--no-progress", "--json", str(tmp_path / "r.json"), "--admission",
                                 "--pod-security", "baseline"], check=False, timeout=600)
    report = json.loads((tmp_path / "r.json").read_text())
    assert done.returncode == 1
    assert {f["kubernetes_version"] for f in report["findings"] if f["stage"] == "admission"} == {"1.34"}


def test_other_minors_resolve_to_their_pinned_kube_apiserver(monkeypatch):
    from portico.admission import server
    from portico.cluster import gobuild

    built = []

    def fake_build(component, versions, log=None):
        built.append((component.name, component.packages, versions[component.version_key]))
        return tmp_dir

    from pathlib import Path
    tmp_dir = Path("/nonexistent")
    monkeypatch.setattr(gobuild, "build", fake_build)
    bins = server.binaries("1.30")
    assert ("kube-apiserver", {"kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver"}, "v1.30.14") in built
    assert bins.apiserver.name == "kube-apiserver"
    assert set(server.available_minors()) >= {"1.30", "1.34", "1.37"}


def test_only_the_catalog_crds_the_manifests_use_are_installed():
    """The server gets the CRDs of the kinds sent (in a List too), not the whole catalog (88 CRDs)."""
    docs = [{"apiVersion": "cert-manager.io/v1", "kind": "Certificate"},
            {"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject"}]},
            {"apiVersion": "apps/v1", "kind": "Deployment"}]
    names = sorted(crd["metadata"]["name"] for crd in stage.catalog_crds_for(docs))
    assert names == ["certificates.cert-manager.io", "scaledobjects.keda.sh"]
    assert len(stage.catalog_crds()) > 80, "the catalog holds far more"
    assert stage.catalog_crds_for([]) == []
