"""NOTES.txt tells the user how to reach the app for the exposure they chose."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

from portico.process import default_runner
from portico.toolchain.locate import tool_path
from tests.conftest import CHART


def notes(values: dict) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
        yaml.safe_dump(values, fh)
    try:
        proc = default_runner().run([tool_path("helm"), "install", "web", str(CHART), "--dry-run=client",
                                     "--namespace", "shop", "-f", fh.name], check=False)
    finally:
        Path(fh.name).unlink()
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split("NOTES:", 1)[1]


def test_nodeport_gives_node_address_and_port_jsonpath():
    text = notes({"service": {"type": "NodePort"}})
    assert 'kubectl -n shop get service web-portico -o jsonpath="{.spec.ports[0].nodePort}"' in text
    assert "InternalIP" in text and "curl http://$NODE_IP:$NODE_PORT/" in text


def test_loadbalancer_says_how_to_wait_for_the_address():
    text = notes({"service": {"type": "LoadBalancer"}})
    assert "kubectl -n shop get service web-portico --watch" in text
    assert ".status.loadBalancer.ingress[0]" in text


def test_ingress_and_httproute_list_the_urls():
    hosts = [{"host": "shop.example.com", "paths": [{"path": "/"}, {"path": "/api"}]}]
    text = notes({"expose": {"via": ["ingress"], "hosts": hosts, "tls": {"enabled": True}}})
    assert "https://shop.example.com/" in text and "https://shop.example.com/api" in text
    text = notes({"expose": {"via": ["httpRoute"], "hosts": hosts}})
    assert "http://shop.example.com/api" in text and "get httproute web-portico" in text


def test_clusterip_gives_in_cluster_url_and_port_forward():
    text = notes({})
    assert "http://web-portico.shop.svc:80/" in text and "port-forward service/web-portico" in text


def test_service_only_mode_says_what_it_selects():
    text = notes({"workload": {"kind": "None", "selector": {"app": "legacy"}}})
    assert 'selects pods labelled {"app":"legacy"}' in text and "rollout status" not in text
