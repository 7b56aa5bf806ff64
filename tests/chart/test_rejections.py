"""Every rejection: the schema's and the templates' `fail`s, each with the message a user sees."""

from __future__ import annotations

import json

import pytest

from tests.chart.render import render, render_error
from tests.conftest import CHART

HTTP = {"name": "http", "port": 80, "targetPort": "http"}

SCHEMA_REJECTIONS = {
    "unknown root key": ({"replicas": 3}, "at '': additional properties 'replicas' not allowed"),
    "unknown nested key": ({"service": {"typ": "NodePort"}}, "at '/service': additional properties 'typ' not allowed"),
    "service type enum": ({"service": {"type": "Nodeport"}},
                          "at '/service/type': value must be one of 'ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'"),
    "port range": ({"service": {"ports": [{"name": "http", "port": 70000}]}},
                   "at '/service/ports/0/port': maximum: got 70,000, want 65,535"),
    "container port range": ({"ports": [{"name": "http", "containerPort": 0}]},
                             "at '/ports/0/containerPort': minimum: got 0, want 1"),
    "nodePort needs NodePort or LoadBalancer": (
        {"service": {"type": "ClusterIP", "ports": [dict(HTTP, nodePort=30080)]}},
        "at '/service/ports/0/nodePort': value must be one of <nil>, "
        "'nodePort is only allowed when the Service type is NodePort or LoadBalancer'"),
    "no externalTrafficPolicy on ClusterIP": (
        {"service": {"externalTrafficPolicy": "Local"}},
        "externalTrafficPolicy is only allowed when the Service type is NodePort or LoadBalancer"),
    "loadBalancerClass only with LoadBalancer": (
        {"service": {"type": "NodePort", "loadBalancerClass": "x"}},
        "loadBalancerClass is only allowed when the Service type is LoadBalancer"),
    "allocateLoadBalancerNodePorts only with LoadBalancer": (
        {"service": {"allocateLoadBalancerNodePorts": False}},
        "allocateLoadBalancerNodePorts is only allowed when the Service type is LoadBalancer"),
    "loadBalancerSourceRanges only with LoadBalancer": (
        {"service": {"loadBalancerSourceRanges": ["10.0.0.0/8"]}},
        "at '/service/loadBalancerSourceRanges': maxItems: got 1, want 0"),
    "sessionAffinityTimeoutSeconds only with ClientIP": (
        {"service": {"sessionAffinityTimeoutSeconds": 60}},
        "sessionAffinityTimeoutSeconds is only allowed when sessionAffinity is ClientIP"),
    "maxSurge and maxUnavailable not both zero": (
        {"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}},
        "maxSurge and maxUnavailable cannot both be 0: the rollout could never make progress"),
    "ExternalName needs externalName": (
        {"service": {"type": "ExternalName"}}, "at '/service/externalName': '' does not match pattern"),
    "headless must be ClusterIP": (
        {"service": {"type": "NodePort", "clusterIP": "None"}},
        "a headless Service (clusterIP None) must have type ClusterIP"),
    "hostname pattern": (
        {"expose": {"via": ["ingress"], "hosts": [{"host": "Shop_Example.com", "paths": [{"path": "/"}]}]}},
        "at '/expose/hosts/0/host': 'Shop_Example.com' does not match pattern"),
    "path starts with /": (
        {"expose": {"via": ["ingress"], "hosts": [{"host": "a.example.com", "paths": [{"path": "api"}]}]}},
        "at '/expose/hosts/0/paths/0/path': 'api' does not match pattern '^/'"),
    "expose.via enum": ({"expose": {"via": ["nginx"]}},
                        "at '/expose/via/0': value must be one of 'ingress', 'httpRoute', 'route'"),
    "expose.via needs hosts": ({"expose": {"via": ["ingress"], "hosts": []}},
                               "at '/expose/hosts': minItems: got 0, want 1"),
    "image digest": ({"image": {"digest": "sha256:abc"}}, "at '/image/digest': 'sha256:abc' does not match pattern"),
    "port name length": ({"ports": [{"name": "a-very-long-port-name", "containerPort": 80}]},
                         "at '/ports/0/name': maxLength: got 21, want 15"),
    "probe spec field": ({"probes": {"readiness": {"spec": {"httpGett": {}}}}},
                         "at '/probes/readiness/spec': additional properties 'httpGett' not allowed"),
    "workload kind": ({"workload": {"kind": "ReplicaSet"}},
                      "at '/workload/kind': value must be one of 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'None'"),
    "pdb enabled": ({"podDisruptionBudget": {"enabled": "yes"}},
                    "at '/podDisruptionBudget/enabled': value must be one of 'auto', true, false"),
    "route timeouts": ({"httpRoute": {"timeouts": {"request": "ten seconds"}}},
                       "at '/httpRoute/timeouts/request': 'ten seconds' does not match pattern"),
    "preStop mode": ({"lifecycle": {"preStop": {"mode": "wait"}}},
                     "at '/lifecycle/preStop/mode': value must be one of 'sleep', 'exec', 'none'"),
}

TEMPLATE_REJECTIONS = {
    "grace period above preStop sleep": (
        {"terminationGracePeriodSeconds": 10},
        "terminationGracePeriodSeconds: 10 must exceed lifecycle.preStop.seconds (10)"),
    "TLS hosts among rule hosts": (
        {"expose": {"hosts": [{"host": "a.example.com", "paths": [{"path": "/"}]}],
                    "tls": {"enabled": True, "hosts": ["b.example.com"]}}},
        'expose.tls.hosts[0]: "b.example.com" is not one of the hosts (a.example.com)'),
    "TLS hosts of extra ingresses": (
        {"ingress": {"extra": {"admin": {"hosts": [{"host": "a.example.com", "paths": [{"path": "/"}]}],
                                         "tls": {"enabled": True, "hosts": ["c.example.com"]}}}}},
        'ingress.extra.admin.tls.hosts[0]: "c.example.com" is not one of the hosts (a.example.com)'),
    "nodePort inside the node port range": (
        {"service": {"type": "NodePort", "ports": [dict(HTTP, nodePort=8080)]}},
        "service.ports[0].nodePort: 8080 is outside nodePortRange 30000-32767"),
    "targetPort name is a container port": (
        {"service": {"ports": [{"name": "http", "port": 80, "targetPort": "web"}]}},
        'service.ports[0].targetPort: "web" is not a container port name (ports: http)'),
    "additional service targetPort": (
        {"additionalServices": {"admin": {"ports": [{"name": "admin", "port": 9000, "targetPort": "admin"}]}}},
        'additionalServices.admin.ports[0].targetPort: "admin" is not a container port name'),
    "probe port name is a container port": (
        {"probes": {"readiness": {"spec": {"httpGet": {"path": "/", "port": "metrics"}}}}},
        'probes.readiness.spec: port "metrics" is not a container port name (ports: http)'),
    "container port names unique": (
        {"ports": [{"name": "http", "containerPort": 80}, {"name": "http", "containerPort": 81}]},
        'ports[1].name: "http" is used twice'),
    "service port names required with several ports": (
        {"service": {"ports": [HTTP, {"port": 81, "targetPort": "http"}]}},
        "service.ports[1].name: required when a Service has several ports"),
    "service-only mode needs a selector": (
        {"workload": {"kind": "None"}}, "workload.selector: required when workload.kind is None"),
    "HPA min above max": (
        {"autoscaling": {"enabled": True, "minReplicas": 5, "maxReplicas": 2}},
        "autoscaling.minReplicas: 5 is above autoscaling.maxReplicas (2)"),
    "HPA needs a metric": (
        {"autoscaling": {"enabled": True, "targetCPUUtilizationPercentage": None}},
        "autoscaling: enabled but neither targetCPUUtilizationPercentage nor targetMemoryUtilizationPercentage is set"),
    "ingress backend port exists": (
        {"expose": {"via": ["ingress"], "hosts": [{"host": "a.example.com",
                                                   "paths": [{"path": "/", "service": {"port": "grpc"}}]}]}},
        "expose.hosts[0].paths[0].service.port: port grpc is not a port of this release's Service (service.ports: http)"),
    "default backend port exists": (
        {"expose": {"via": ["ingress"]}, "ingress": {"defaultBackend": {"service": {"port": 8443}}}},
        "ingress.defaultBackend.service.port: port 8443 is not a port of this release's Service"),
    "gateway backendRef to another service needs a number": (
        {"expose": {"via": ["httpRoute"], "hosts": [{"host": "a.example.com", "paths": [
            {"path": "/", "service": {"name": "other", "port": "http"}}]}]}},
        'expose.hosts[0].paths[0].service.port: Gateway API backendRefs need a port number for service "other"'),
    "route rule backendRef port exists": (
        {"expose": {"via": ["httpRoute"]}, "httpRoute": {"rules": [{"backendRefs": [{"port": 9999}]}]}},
        "httpRoute.rules[0].backendRefs[0]: port 9999 is not a port of this release's Service"),
}


@pytest.mark.parametrize("values,message", SCHEMA_REJECTIONS.values(), ids=SCHEMA_REJECTIONS.keys())
def test_schema_rejects_with_a_message_naming_the_key(values, message):
    err = render_error(values)
    assert "values don't meet the specifications of the schema" in err
    assert message in err


@pytest.mark.parametrize("values,message", TEMPLATE_REJECTIONS.values(), ids=TEMPLATE_REJECTIONS.keys())
def test_template_fail_names_the_key(values, message):
    err = render_error(values)
    assert message in err, err


def test_node_port_range_is_overridable():
    values = {"nodePortRange": {"min": 20000, "max": 22767},
              "service": {"type": "NodePort", "ports": [dict(HTTP, nodePort=20080)]}}
    assert render(values).one("Service")["spec"]["ports"][0]["nodePort"] == 20080
    values["service"]["ports"] = [dict(HTTP, nodePort=30080)]
    assert "30080 is outside nodePortRange 20000-22767" in render_error(values)


def test_null_unsets_a_default():
    container = render({"resources": None, "probes": {"readiness": {"spec": {"periodSeconds": None}}}}).container()
    assert "resources" not in container
    assert "periodSeconds" not in container["readinessProbe"]


def test_schema_is_self_contained_and_strict_everywhere():
    schema = json.loads((CHART / "values.schema.json").read_text())
    refs = []

    def walk(node, path):
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            is_object = node.get("type") == "object" or node.get("type") == ["object", "null"]
            passthrough = "Kubernetes object passed through" in node.get("description", "")
            open_map = "additionalProperties" in node and node["additionalProperties"] is not False
            if is_object and "properties" in node:
                assert node.get("additionalProperties") is False, f"{path} lacks additionalProperties: false"
            elif is_object and not (passthrough or open_map or "allOf" in node or path == "/properties/global"):
                raise AssertionError(f"{path} is an object with neither properties nor a declared shape")
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}/{i}")

    walk(schema, "")
    assert schema["additionalProperties"] is False
    assert refs and all(ref.startswith("#/") for ref in refs), "every $ref must be local (air-gapped)"


def test_schema_json_matches_its_yaml_source():
    import yaml

    source = yaml.safe_load((CHART / "values.schema.yaml").read_text())
    assert json.loads((CHART / "values.schema.json").read_text()) == source, "run `make schema`"
