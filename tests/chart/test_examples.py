"""Each examples/ file renders exactly the objects its seed tutorial shows.

The expected objects are transcribed from ../shared/seeds (whose text lost its
indentation); names, types, ports, selectors and Ingress rules must match.
The chart may only add its standard metadata labels.
"""

from __future__ import annotations

import pytest

from tests.chart.render import render
from tests.conftest import CHART

EXAMPLES = CHART / "examples"


def service(name: str, spec: dict) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


FLASK = {"app": "stateless-flask"}
SEEDS = {
    "stateless-flask-1-clusterip.yaml": [service("stateless-flask-clusterip-service", {
        "type": "ClusterIP", "selector": FLASK, "ports": [{"port": 5000, "protocol": "TCP", "targetPort": 5000}]})],
    "stateless-flask-2-nodeport.yaml": [service("stateless-flask-nodeport-service", {
        "type": "NodePort", "selector": FLASK,
        "ports": [{"port": 5000, "protocol": "TCP", "targetPort": 5000, "nodePort": 30000}]})],
    "stateless-flask-3-loadbalancer.yaml": [service("stateless-flask-loadbalancer-service", {
        "type": "LoadBalancer", "selector": FLASK, "ports": [{"port": 5000, "protocol": "TCP", "targetPort": 5000}]})],
    "stateless-flask-4-ingress.yaml": [
        service("stateless-flask", {"type": "ClusterIP", "selector": FLASK, "ports": [
            {"name": "http", "protocol": "TCP", "port": 5000, "targetPort": 5000}]}),
        {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "stateless-flask"},
         "spec": {"ingressClassName": "nginx", "rules": [{"host": "stateless-flask.example.com", "http": {"paths": [
             {"path": "/", "pathType": "Prefix",
              "backend": {"service": {"name": "stateless-flask", "port": {"name": "http"}}}}]}}]}},
    ],
    "ftgo-api-gateway.yaml": [service("ftgo-api-gateway", {
        "type": "NodePort", "selector": {"app": "ftgo-api-gateway"},
        "ports": [{"nodePort": 30000, "port": 80, "targetPort": 8080, "protocol": "TCP"}]})],
    "helloworld-nodeport.yaml": [service("helloworld", {
        "type": "NodePort", "selector": {"app": "helloworld"},
        "ports": [{"port": 8080, "targetPort": "http-server", "protocol": "TCP"}]})],
    "example-nodeport-ingress.yaml": [
        service("example-nodeport", {"type": "NodePort", "selector": {"app": "example"},
                                     "ports": [{"port": 80, "targetPort": 80, "nodePort": 30021, "protocol": "TCP"}]}),
        {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "example"},
         "spec": {"rules": [{"host": "service.libert.xyz", "http": {"paths": [
             {"path": "/health", "pathType": "Prefix", "backend": {"service": {"name": "foo", "port": {"number": 80}}}},
             {"path": "/bar", "pathType": "Prefix", "backend": {"service": {"name": "bar", "port": {"number": 80}}}},
         ]}}]}},
    ],
}


# Examples of what the tutorials did not cover; each renders on helm 4 and helm 3 (tests below and in
# test_storage.py check what the values do).
FEATURES = ["persistence-and-rbac.yaml"]


def test_every_example_has_a_seed_or_is_a_feature_example():
    assert sorted(p.name for p in EXAMPLES.glob("*.yaml")) == sorted([*SEEDS, *FEATURES])


@pytest.mark.parametrize("helm", ["helm", "helm3"])
def test_the_persistence_and_rbac_example(helm):
    out = render(files=[EXAMPLES / "persistence-and-rbac.yaml"], helm=helm)
    assert out.one("PersistentVolumeClaim")["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert out.one("RoleBinding")["subjects"][0]["name"] == out.one("ServiceAccount")["metadata"]["name"]
    mounts = {m["name"]: m["mountPath"] for m in out.container()["volumeMounts"]}
    assert mounts == {"tmp": "/tmp", "data": "/data", "cache": "/cache", "settings": "/etc/app"}


@pytest.mark.parametrize("example", sorted(SEEDS))
def test_example_renders_the_seed_objects(example):
    out = render(files=[EXAMPLES / example], namespace="stateless-flask")
    got = [{"apiVersion": d["apiVersion"], "kind": d["kind"], "metadata": {"name": d["metadata"]["name"]},
            "spec": d["spec"]} for d in out.docs]
    assert got == SEEDS[example]


def test_helloworld_leaves_the_node_port_to_the_cluster_and_keeps_its_label():
    out = render(files=[EXAMPLES / "helloworld-nodeport.yaml"])
    svc = out.one("Service")
    assert "nodePort" not in svc["spec"]["ports"][0]
    assert svc["metadata"]["labels"]["app"] == "helloworld"
