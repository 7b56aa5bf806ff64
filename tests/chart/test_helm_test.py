"""`helm test`: one container per Service port, with a client that speaks the port's protocol."""

from __future__ import annotations

import pytest

from tests.chart.render import render

PORTS = [{"name": "http", "containerPort": 8080}, {"name": "grpc", "containerPort": 9090},
         {"name": "redis", "containerPort": 6379}, {"name": "dns", "containerPort": 5353, "protocol": "UDP"}]
SERVICE_PORTS = [{"name": "http", "port": 80, "targetPort": "http"},
                 {"name": "grpc", "port": 9090, "targetPort": "grpc"},
                 {"name": "redis", "port": 6379, "targetPort": "redis"},
                 {"name": "dns", "port": 53, "targetPort": "dns", "protocol": "UDP"}]


def checks(values: dict, helm: str = "helm") -> dict[str, dict]:
    pod = render(values, helm=helm).one("Pod")
    return {c["name"]: c for c in pod["spec"]["containers"]}


@pytest.mark.parametrize("helm", ["helm", "helm3"])
def test_each_port_is_checked_with_its_protocol(helm):
    got = checks({"ports": PORTS, "service": {"ports": SERVICE_PORTS}}, helm)
    assert sorted(got) == ["grpc", "http", "redis"], "UDP ports are not checked"
    assert got["http"]["command"] == ["wget", "-q", "-O", "-", "-T", "5", "http://rel-portico:80/"]
    assert got["grpc"]["image"].startswith("ghcr.io/grpc-ecosystem/grpc-health-probe:")
    assert got["grpc"]["args"] == ["-addr=rel-portico:9090"] and "command" not in got["grpc"]
    assert got["redis"]["command"] == ["nc", "-z", "-w", "5", "rel-portico", "6379"]


def test_app_protocol_and_name_prefixes_pick_the_client():
    ports = [{"name": "http", "containerPort": 8000}, {"name": "web", "containerPort": 8080},
             {"name": "api", "containerPort": 9090},
             {"name": "http-admin", "containerPort": 8081}, {"name": "grpc-internal", "containerPort": 9091}]
    got = checks({"ports": ports, "service": {"ports": [
        {"name": "web", "port": 80, "targetPort": "web", "appProtocol": "http"},
        {"name": "api", "port": 9090, "targetPort": "api", "appProtocol": "grpc"},
        {"name": "http-admin", "port": 8081, "targetPort": "http-admin"},
        {"name": "grpc-internal", "port": 9091, "targetPort": "grpc-internal"}]}})
    assert got["web"]["command"][0] == "wget" and got["http-admin"]["command"][0] == "wget"
    assert "args" in got["api"] and "args" in got["grpc-internal"]


def test_per_port_overrides_pick_the_check_and_the_path():
    got = checks({"ports": PORTS, "service": {"ports": SERVICE_PORTS},
                  "tests": {"ports": {"http": {"path": "/healthz"}, "redis": {"check": "none"},
                                      "grpc": {"check": "tcp"}}}})
    assert sorted(got) == ["grpc", "http"]
    assert got["http"]["command"][-1] == "http://rel-portico:80/healthz"
    assert got["grpc"]["command"][-2:] == ["rel-portico", "9090"]


def test_a_headless_service_is_checked_on_the_container_ports():
    got = checks({"ports": PORTS[:2], "service": {"clusterIP": "None", "ports": SERVICE_PORTS[:2]}})
    assert got["http"]["command"][-1] == "http://rel-portico:8080/"
    assert got["grpc"]["args"] == ["-addr=rel-portico:9090"]


def test_no_test_pod_when_nothing_can_be_checked():
    values = {"ports": [PORTS[0], PORTS[3]], "service": {"ports": SERVICE_PORTS[3:]}}
    assert not render(values).all("Pod")
    assert not render({"tests": {"enabled": False}}).all("Pod")
