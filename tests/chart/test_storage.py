"""Persistence, RBAC, ListenerSet, BackendTLSPolicy, VPA and KEDA: what the chart renders, on helm 4 and helm 3,
and their matrices (ci/storage.yaml, ci/gateway.yaml, ci/scaling.yaml) admitted."""

from __future__ import annotations

import json
import sys

import pytest

from portico.process import default_runner
from tests.chart.render import render
from tests.conftest import CHART

DATA = {"type": "pvc", "mountPath": "/data", "size": "1Gi"}
TOKEN = {"serviceAccount": {"automountServiceAccountToken": True}}
READ = {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}


def _volumes(out, kind="Deployment"):
    pod = out.one(kind)["spec"]["template"]["spec"]
    return ({v["name"]: v for v in pod["volumes"]}, {m["name"]: m for m in pod["containers"][0]["volumeMounts"]})


@pytest.mark.parametrize("helm", ["helm", "helm3"])
def test_a_claim_the_chart_creates_is_mounted_by_name(helm):
    out = render({"replicaCount": 1, "persistence": {"data": dict(DATA, storageClass="fast", retain=True)}},
                 helm=helm)
    claim = out.one("PersistentVolumeClaim")
    assert claim["metadata"]["name"] == "rel-portico-data"
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert claim["spec"] == {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast",
                             "resources": {"requests": {"storage": "1Gi"}}}
    volumes, mounts = _volumes(out)
    assert volumes["data"] == {"name": "data", "persistentVolumeClaim": {"claimName": "rel-portico-data"}}
    assert mounts["data"] == {"name": "data", "mountPath": "/data"}
    assert "tmp" in volumes, "the chart's own volumes stay"


@pytest.mark.parametrize("helm", ["helm", "helm3"])
def test_each_volume_type_on_each_kind_that_runs_pods(helm):
    persistence = {
        "shared": {"type": "pvc", "existingClaim": "team-share", "mountPath": "/share", "readOnly": True},
        "cache": {"type": "emptyDir", "mountPath": "/cache"},
        "settings": {"type": "configMap", "name": "app-settings", "mountPath": "/etc/app", "defaultMode": 0o444},
        "creds": {"type": "secret", "name": "app-creds", "mountPath": "/etc/creds/token", "subPath": "token"},
        "off": {"enabled": False, "type": "emptyDir", "mountPath": "/off"}}
    for kind, extra in (("Deployment", {}), ("StatefulSet", {}), ("DaemonSet", {}), ("Job", {})):
        out = render({"workload": {"kind": kind}, "persistence": persistence, **extra}, helm=helm)
        assert "PersistentVolumeClaim" not in out.kinds(), "an existing claim is not created"
        volumes, mounts = _volumes(out, kind)
        assert volumes["shared"]["persistentVolumeClaim"] == {"claimName": "team-share"}
        assert volumes["cache"]["emptyDir"] == {}, "an emptyDir with no options is {} (null would be no source)"
        assert volumes["settings"]["configMap"] == {"name": "app-settings", "defaultMode": 0o444}
        assert volumes["creds"]["secret"] == {"secretName": "app-creds"}
        assert mounts["shared"]["readOnly"] is True and mounts["creds"]["subPath"] == "token"
        assert "off" not in volumes and "off" not in mounts


def test_a_statefulset_keeps_its_claims_per_pod():
    template = {"metadata": {"name": "db"}, "spec": {"accessModes": ["ReadWriteOnce"],
                                                      "resources": {"requests": {"storage": "1Gi"}}}}
    out = render({"workload": {"kind": "StatefulSet"}, "statefulSet": {"volumeClaimTemplates": [template]},
                  "replicaCount": 1, "persistence": {"data": DATA}})
    assert out.one("StatefulSet")["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "db"
    assert out.one("PersistentVolumeClaim")["metadata"]["name"] == "rel-portico-data"


@pytest.mark.parametrize("helm", ["helm", "helm3"])
def test_rbac_binds_a_role_to_the_releases_service_account(helm):
    out = render({"rbac": {"rules": [READ]}, **TOKEN}, helm=helm)
    role, binding = out.one("Role"), out.one("RoleBinding")
    assert role["rules"] == [READ] and role["metadata"]["namespace"] == "apps"
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": role["metadata"]["name"]}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": out.one("ServiceAccount")["metadata"]["name"],
                                    "namespace": "apps"}]
    assert render({}, helm=helm).kinds().count("Role") == 0, "no rights unless asked"


def test_cluster_wide_rbac_is_cluster_scoped_and_named_per_namespace():
    out = render({"rbac": {"clusterWide": True, "rules": [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]},
                  "serviceAccount": {"automountServiceAccountToken": True, "name": "reader"}})
    role, binding = out.one("ClusterRole"), out.one("ClusterRoleBinding")
    # Two releases of the same name in two namespaces must not share one ClusterRole.
    assert role["metadata"]["name"] == "apps:rel-portico" and "namespace" not in role["metadata"]
    assert "namespace" not in binding["metadata"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "reader", "namespace": "apps"}]


def test_a_projected_token_is_enough_for_rbac():
    projected = {"name": "api", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}}
    out = render({"rbac": {"rules": [READ]}, "volumes": [projected]})
    assert out.one("Role")


@pytest.mark.apiserver
@pytest.mark.parametrize("matrix", ["storage.yaml", "gateway.yaml", "scaling.yaml"])
def test_the_matrix_is_valid_and_admitted(tmp_path, matrix):
    """ci/storage.yaml and ci/gateway.yaml: every combination through kubeconform, the policy rules, its
    expectations and a real kube-apiserver (with the pinned Gateway API CRDs) under restricted Pod Security."""
    report = tmp_path / "r.json"
    done = default_runner().run([sys.executable, "-m", "portico.cli", "matrix", str(CHART / "ci" / matrix),
                                 "-o", str(tmp_path / "o"), "--no-progress", "--json", str(report), "--admission"],
                                check=False, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    summary = json.loads(report.read_text())
    assert not summary["findings"]
    assert summary["space"]["run"] >= 10 and summary["ok"]


@pytest.mark.parametrize("helm", ["helm", "helm3"])
def test_a_listener_set_per_host_with_the_routes_attached(helm):
    out = render({"expose": {"via": ["httpRoute"], "tls": {"enabled": True}}, "listenerSet": {"enabled": True}},
                 helm=helm)
    spec = out.one("ListenerSet")["spec"]
    assert spec["parentRef"] == {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "gateway"}
    assert [(item["name"], item["port"], item["protocol"]) for item in spec["listeners"]] == [
        ("http-app.example.com", 80, "HTTP"), ("https-app.example.com", 443, "HTTPS")]
    assert out.one("HTTPRoute")["spec"]["parentRefs"] == [
        {"group": "gateway.networking.k8s.io", "kind": "ListenerSet", "name": "rel-portico"}]


def test_gateway_kinds_follow_what_the_cluster_serves():
    values = {"backendTLSPolicy": {"enabled": True, "hostname": "app.example.com", "wellKnownCACertificates": "System"}}
    old = render(values, extra=["--api-versions", "gateway.networking.k8s.io/v1",
                                "--api-versions", "gateway.networking.k8s.io/v1alpha3/BackendTLSPolicy"])
    assert old.one("BackendTLSPolicy")["apiVersion"] == "gateway.networking.k8s.io/v1alpha3"
    assert render(values).one("BackendTLSPolicy")["apiVersion"] == "gateway.networking.k8s.io/v1"


@pytest.mark.parametrize("helm", ["helm", "helm3"])
def test_keda_owns_the_replicas_and_a_recommending_vpa_may_watch(helm):
    prometheus = {"type": "prometheus", "metadata": {"serverAddress": "http://prometheus:9090", "threshold": "10",
                                                     "query": "sum(rate(http_requests_total[1m]))"}}
    out = render({"keda": {"scaledObject": {"enabled": True, "minReplicaCount": 0, "triggers": [prometheus]}},
                  "verticalPodAutoscaler": {"enabled": True, "updateMode": "Off"}}, helm=helm)
    assert "replicas" not in out.one("Deployment")["spec"]
    assert out.one("ScaledObject")["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                                                 "name": "rel-portico"}
    assert out.one("VerticalPodAutoscaler")["spec"]["updatePolicy"] == {"updateMode": "Off"}
    assert "HorizontalPodAutoscaler" not in out.kinds() and out.one("PodDisruptionBudget")


@pytest.mark.parametrize("helm", ["helm", "helm3"])
def test_names_that_read_as_booleans_or_numbers_stay_strings(helm):
    """YAML would read `no` back as false and `0123` as octal 83: the chart builds the volumes as JSON."""
    out = render({"replicaCount": 1, "persistence": {
        "no": {"type": "emptyDir", "mountPath": "/no"},
        "cfg": {"type": "configMap", "name": "0123", "mountPath": "/cfg"},
        "ex": {"type": "pvc", "existingClaim": "0755", "mountPath": "/ex"}}}, helm=helm)
    volumes, mounts = _volumes(out)
    assert "no" in volumes and mounts["no"]["mountPath"] == "/no"
    assert volumes["cfg"]["configMap"] == {"name": "0123"}
    assert volumes["ex"]["persistentVolumeClaim"] == {"claimName": "0755"}
