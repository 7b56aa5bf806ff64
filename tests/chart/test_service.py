"""Services: every type, several ports, traffic and LoadBalancer fields, extra Services, service-only mode."""

from __future__ import annotations

import pytest

from tests.chart.render import render, render_error

HTTP = {"name": "http", "port": 80, "targetPort": "http"}


def svc(**spec) -> dict:
    return {"service": {"ports": [HTTP], **spec}}


@pytest.mark.parametrize("svc_type", ["ClusterIP", "NodePort", "LoadBalancer"])
def test_each_type_selects_the_pods(svc_type):
    spec = render(svc(type=svc_type)).one("Service")["spec"]
    assert spec["type"] == svc_type
    assert spec["selector"] == {"app.kubernetes.io/name": "portico", "app.kubernetes.io/instance": "rel"}
    assert spec["ports"] == [{"port": 80, "name": "http", "targetPort": "http", "protocol": "TCP"}]


def test_headless():
    spec = render(svc(clusterIP="None")).one("Service")["spec"]
    assert spec["clusterIP"] == "None" and spec["type"] == "ClusterIP"


def test_external_name_has_no_selector():
    spec = render(svc(type="ExternalName", externalName="db.example.com")).one("Service")["spec"]
    assert spec["externalName"] == "db.example.com"
    assert "selector" not in spec and "clusterIP" not in spec


NOTHING_FOR_PODS = {"Deployment", "StatefulSet", "ServiceAccount", "PodDisruptionBudget", "HorizontalPodAutoscaler",
                    "NetworkPolicy"}
EVERYTHING_ON = {"replicaCount": 3, "autoscaling": {"enabled": True}, "networkPolicy": {"enabled": True},
                 "podDisruptionBudget": {"enabled": True}}


@pytest.mark.parametrize("helm", ["helm", "helm3"])
@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet"])
def test_an_external_name_alias_runs_no_pods(kind, helm):
    """ExternalName makes the release an alias: no workload, ServiceAccount, PDB, HPA or NetworkPolicy, whatever
    else is switched on, and no helm test pod (there is nothing of ours to reach)."""
    out = render({**EVERYTHING_ON, "workload": {"kind": kind},
                  **svc(type="ExternalName", externalName="db.example.com")}, helm=helm)
    assert out.kinds() == ["Service"]


@pytest.mark.parametrize("helm", ["helm", "helm3"])
def test_an_alias_only_release_needs_no_selector(helm):
    """workload.kind None with an ExternalName Service: a name in the namespace for something outside, nothing
    to select, so no selector is asked for; kind None with any other Service still needs one."""
    out = render({**EVERYTHING_ON, "workload": {"kind": "None"},
                  **svc(type="ExternalName", externalName="db.example.com")}, helm=helm)
    assert out.kinds() == ["Service"] and "selector" not in out.one("Service")["spec"]
    assert "workload.selector: required when workload.kind is None" in render_error(
        {"workload": {"kind": "None"}, **svc(type="ClusterIP")}, helm=helm)


def test_service_only_mode_renders_nothing_for_pods_either():
    out = render({**EVERYTHING_ON, "workload": {"kind": "None", "selector": {"app": "legacy"}},
                  "service": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
    assert not NOTHING_FOR_PODS & set(out.kinds())


def test_node_port_pinned_or_left_to_the_cluster():
    values = svc(type="NodePort")
    values["service"]["ports"] = [dict(HTTP, nodePort=30080), {"name": "admin", "port": 9000, "targetPort": 8080}]
    ports = render(values).one("Service")["spec"]["ports"]
    assert ports[0]["nodePort"] == 30080
    assert "nodePort" not in ports[1]
    assert ports[1]["targetPort"] == 8080


def test_port_fields_protocol_and_app_protocol():
    values = svc()
    values["service"]["ports"] = [{"name": "dns", "port": 53, "targetPort": 5353, "protocol": "UDP",
                                   "appProtocol": "dns"}]
    (port,) = render(values).one("Service")["spec"]["ports"]
    assert port == {"port": 53, "name": "dns", "targetPort": 5353, "protocol": "UDP", "appProtocol": "dns"}


def test_traffic_fields():
    spec = render(svc(type="NodePort", externalTrafficPolicy="Local", internalTrafficPolicy="Local",
                      sessionAffinity="ClientIP", sessionAffinityTimeoutSeconds=600,
                      ipFamilies=["IPv4", "IPv6"], ipFamilyPolicy="PreferDualStack",
                      trafficDistribution="PreferClose")).one("Service")["spec"]
    assert spec["externalTrafficPolicy"] == "Local"
    assert spec["internalTrafficPolicy"] == "Local"
    assert spec["sessionAffinity"] == "ClientIP"
    assert spec["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 600}}
    assert spec["ipFamilies"] == ["IPv4", "IPv6"] and spec["ipFamilyPolicy"] == "PreferDualStack"
    assert spec["trafficDistribution"] == "PreferClose"


def test_load_balancer_fields_annotations_labels_external_ips():
    out = render(svc(type="LoadBalancer", loadBalancerClass="metallb", allocateLoadBalancerNodePorts=False,
                     loadBalancerSourceRanges=["10.0.0.0/8"], externalIPs=["192.0.2.10"],
                     annotations={"metallb.io/address-pool": "public"}, labels={"tier": "edge"}))
    service = out.one("Service")
    spec = service["spec"]
    assert spec["loadBalancerClass"] == "metallb"
    assert spec["allocateLoadBalancerNodePorts"] is False
    assert spec["loadBalancerSourceRanges"] == ["10.0.0.0/8"]
    assert spec["externalIPs"] == ["192.0.2.10"]
    assert service["metadata"]["annotations"] == {"metallb.io/address-pool": "public"}
    assert service["metadata"]["labels"]["tier"] == "edge"


def test_additional_named_services_beside_the_main_one():
    values = svc(type="LoadBalancer")
    values["additionalServices"] = {"internal": {"type": "ClusterIP",
                                                 "ports": [{"name": "admin", "port": 9000, "targetPort": "http"}]}}
    out = render(values)
    public = out.one("Service", "rel-portico")
    internal = out.one("Service", "rel-portico-internal")
    assert public["spec"]["type"] == "LoadBalancer"
    assert internal["spec"]["type"] == "ClusterIP"
    assert internal["spec"]["ports"][0]["port"] == 9000
    assert internal["spec"]["selector"] == public["spec"]["selector"]


@pytest.mark.parametrize("helm", ["helm", "helm3"])
def test_an_additional_service_inherits_nothing_type_specific(helm):
    """A public LoadBalancer main Service with every type-specific field set: the internal metrics Service beside
    it stays a plain ClusterIP with the same selector, the main labels and (without ports of its own) the main
    ports by name, but no nodePort, traffic policy, load balancer field, session affinity or annotation."""
    main = {"type": "LoadBalancer", "ports": [dict(HTTP, nodePort=30080)], "externalTrafficPolicy": "Local",
            "loadBalancerClass": "metallb", "loadBalancerSourceRanges": ["10.0.0.0/8"],
            "allocateLoadBalancerNodePorts": False, "sessionAffinity": "ClientIP",
            "sessionAffinityTimeoutSeconds": 600, "annotations": {"metallb.io/address-pool": "public"},
            "labels": {"tier": "edge"}, "externalIPs": ["192.0.2.10"]}
    out = render({"service": main, "additionalServices": {"metrics": {"labels": {"scrape": "yes"}}}}, helm=helm)
    public, metrics = out.one("Service", "rel-portico"), out.one("Service", "rel-portico-metrics")
    spec = metrics["spec"]
    assert spec["type"] == "ClusterIP" and spec["selector"] == public["spec"]["selector"]
    assert spec["ports"] == [{"port": 80, "name": "http", "targetPort": "http", "protocol": "TCP"}]
    for field in ("externalTrafficPolicy", "loadBalancerClass", "loadBalancerSourceRanges", "sessionAffinity",
                  "sessionAffinityConfig", "allocateLoadBalancerNodePorts", "externalIPs"):
        assert field not in spec, field
    assert "annotations" not in metrics["metadata"] or not metrics["metadata"]["annotations"]
    assert metrics["metadata"]["labels"]["tier"] == "edge" and metrics["metadata"]["labels"]["scrape"] == "yes"
    # What it sets itself it keeps, type-specific fields included.
    out = render({"service": main, "additionalServices": {"nodes": {"type": "NodePort",
                                                                    "externalTrafficPolicy": "Local"}}}, helm=helm)
    assert out.one("Service", "rel-portico-nodes")["spec"]["externalTrafficPolicy"] == "Local"


def test_service_only_mode_renders_no_workload():
    out = render({"workload": {"kind": "None", "selector": {"app": "legacy"}},
                  "service": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
    assert "Deployment" not in out.kinds() and "ServiceAccount" not in out.kinds()
    assert "PodDisruptionBudget" not in out.kinds()
    assert out.one("Service")["spec"]["selector"] == {"app": "legacy"}


def test_statefulset_option_uses_the_service_as_governing_service():
    out = render({"workload": {"kind": "StatefulSet"}, "service": {"clusterIP": "None", "ports": [HTTP]}})
    sts = out.one("StatefulSet")
    assert sts["spec"]["serviceName"] == "rel-portico"
    assert sts["spec"]["updateStrategy"] == {"type": "RollingUpdate"}
    assert "Deployment" not in out.kinds()


def test_target_port_by_name_reaches_the_named_container_port():
    out = render({"ports": [{"name": "http-server", "containerPort": 8080}],
                  "probes": {"readiness": {"spec": {"httpGet": {"path": "/", "port": "http-server"}}}},
                  "service": {"ports": [{"port": 8080, "targetPort": "http-server"}]}})
    assert out.one("Service")["spec"]["ports"][0]["targetPort"] == "http-server"
    assert out.container()["ports"][0]["name"] == "http-server"
