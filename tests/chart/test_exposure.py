"""Ingress, Gateway API routes and OpenShift Route, from one shared exposure description."""

from __future__ import annotations

import pytest

from tests.chart.render import render

HOSTS = [{"host": "shop.example.com", "paths": [
    {"path": "/", "pathType": "Prefix"},
    {"path": "/api", "pathType": "Exact", "service": {"port": "api"}},
    {"path": "/health", "pathType": "Prefix", "service": {"name": "foo", "port": 80}},
]}]
PORTS = [{"name": "http", "port": 80, "targetPort": "http"}, {"name": "api", "port": 8081, "targetPort": "http"}]


def exposed(via: list[str], **extra) -> dict:
    values = {"expose": {"via": via, "hosts": HOSTS, "tls": {"enabled": True, "clusterIssuer": "le"}},
              "service": {"ports": PORTS}}
    values.update(extra)
    return values


def test_ingress_paths_route_to_this_release_and_to_other_services():
    ing = render(exposed(["ingress"], ingress={"className": "traefik", "annotations": {"a": "b"}})).one("Ingress")
    assert ing["spec"]["ingressClassName"] == "traefik"
    assert ing["metadata"]["annotations"] == {"a": "b", "cert-manager.io/cluster-issuer": "le"}
    paths = ing["spec"]["rules"][0]["http"]["paths"]
    assert [(p["path"], p["pathType"]) for p in paths] == [("/", "Prefix"), ("/api", "Exact"), ("/health", "Prefix")]
    assert paths[0]["backend"] == {"service": {"name": "rel-portico", "port": {"name": "http"}}}
    assert paths[1]["backend"] == {"service": {"name": "rel-portico", "port": {"name": "api"}}}
    assert paths[2]["backend"] == {"service": {"name": "foo", "port": {"number": 80}}}
    assert ing["spec"]["tls"] == [{"secretName": "rel-portico-tls", "hosts": ["shop.example.com"]}]


def test_seed_routing_app1_and_app2_through_one_ingress():
    values = {"expose": {"via": ["ingress"], "hosts": [{"host": "domain.com", "paths": [
        {"path": "/app1", "service": {"name": "app1", "port": 80}},
        {"path": "/app2", "service": {"name": "app2", "port": 80}}]}]}}
    paths = render(values).one("Ingress")["spec"]["rules"][0]["http"]["paths"]
    assert [(p["path"], p["backend"]["service"]["name"]) for p in paths] == [("/app1", "app1"), ("/app2", "app2")]


def test_ingress_default_backend_and_several_ingresses():
    values = exposed(["ingress"])
    values["ingress"] = {"defaultBackend": {"service": {"port": "http"}}, "extra": {
        "admin": {"className": "internal", "hosts": [{"host": "admin.example.com", "paths": [{"path": "/"}]}],
                  "tls": {"enabled": True, "secretName": "admin-tls", "issuer": "ca"}}}}
    out = render(values)
    main = out.one("Ingress", "rel-portico")
    assert main["spec"]["defaultBackend"] == {"service": {"name": "rel-portico", "port": {"name": "http"}}}
    admin = out.one("Ingress", "rel-portico-admin")
    assert admin["spec"]["ingressClassName"] == "internal"
    assert admin["spec"]["tls"] == [{"secretName": "admin-tls", "hosts": ["admin.example.com"]}]
    assert admin["metadata"]["annotations"] == {"cert-manager.io/issuer": "ca"}


def test_httproute_from_the_same_description():
    route = render(exposed(["httpRoute"], httpRoute={
        "parentRefs": [{"name": "public", "namespace": "gw", "sectionName": "https", "port": 443}],
        "timeouts": {"request": "10s"}})).one("HTTPRoute")
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["spec"]["parentRefs"] == [{"name": "public", "namespace": "gw", "sectionName": "https", "port": 443}]
    assert route["spec"]["hostnames"] == ["shop.example.com"]
    rules = route["spec"]["rules"]
    assert [r["matches"][0]["path"] for r in rules] == [
        {"type": "PathPrefix", "value": "/"}, {"type": "Exact", "value": "/api"}, {"type": "PathPrefix", "value": "/health"}]
    assert [r["backendRefs"] for r in rules] == [
        [{"name": "rel-portico", "port": 80}], [{"name": "rel-portico", "port": 8081}], [{"name": "foo", "port": 80}]]
    assert all(r["timeouts"] == {"request": "10s"} for r in rules)


def test_httproute_rules_matches_filters_canary_weights():
    rules = [{
        "matches": [{"path": {"type": "PathPrefix", "value": "/v2"}, "method": "GET",
                     "headers": [{"name": "x-canary", "value": "1"}],
                     "queryParams": [{"name": "beta", "value": "on"}]}],
        "filters": [
            {"type": "RequestHeaderModifier", "requestHeaderModifier": {"add": [{"name": "x-from", "value": "gw"}]}},
            {"type": "ResponseHeaderModifier", "responseHeaderModifier": {"remove": ["server"]}},
            {"type": "URLRewrite", "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}},
            {"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "shadow", "port": 80}}}],
        "backendRefs": [{"weight": 90}, {"name": "canary", "port": 80, "weight": 10}],
        "timeouts": {"request": "5s", "backendRequest": "2s"},
    }, {"matches": [{"path": {"type": "PathPrefix", "value": "/old"}}],
        "filters": [{"type": "RequestRedirect", "requestRedirect": {"path": {"type": "ReplaceFullPath",
                                                                               "replaceFullPath": "/new"},
                                                                      "statusCode": 301}}]}]
    route = render(exposed(["httpRoute"], httpRoute={"rules": rules})).one("HTTPRoute")
    extra = route["spec"]["rules"][:2]  # user rules first (see the precedence test below)
    assert extra[0]["backendRefs"] == [{"name": "rel-portico", "port": 80, "weight": 90},
                                       {"name": "canary", "port": 80, "weight": 10}]
    assert [f["type"] for f in extra[0]["filters"]] == [
        "RequestHeaderModifier", "ResponseHeaderModifier", "URLRewrite", "RequestMirror"]
    assert extra[0]["matches"][0]["method"] == "GET"
    assert extra[1]["filters"][0]["type"] == "RequestRedirect"


@pytest.mark.parametrize("helm", ["helm", "helm3"])
def test_user_rules_take_precedence_over_generated_ones(helm):
    """A weighted canary split on "/" must not be shadowed by the catch-all generated from expose.hosts:
    Gateway API breaks ties between equal matches by rule order, so user rules come first and a generated rule
    with the same match is left out."""
    split = {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
             "backendRefs": [{"name": "stable", "port": 80, "weight": 90}, {"name": "canary", "port": 80, "weight": 10}]}
    values = {"expose": {"via": ["httpRoute"], "hosts": [{"host": "shop.example.com", "paths": [{"path": "/"},
                                                                                              {"path": "/api"}]}]},
              "httpRoute": {"parentRefs": [{"name": "gw"}], "rules": [split]}}
    rules = render(values, helm=helm).one("HTTPRoute")["spec"]["rules"]
    assert rules[0]["backendRefs"] == split["backendRefs"]
    assert [r["matches"][0]["path"]["value"] for r in rules] == ["/", "/api"]
    # A user rule without matches is Gateway API's "/" prefix: it takes the catch-all's place too.
    implicit = {**values, "httpRoute": {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": split["backendRefs"]}]}}
    rules = render(implicit, helm=helm).one("HTTPRoute")["spec"]["rules"]
    assert len(rules) == 2 and "matches" not in rules[0] and rules[1]["matches"][0]["path"]["value"] == "/api"


def test_reference_grant_for_backends_in_other_namespaces():
    values = exposed(["httpRoute"], httpRoute={"rules": [
        {"backendRefs": [{"name": "billing", "namespace": "payments", "port": 8080}]}]})
    grant = render(values).one("ReferenceGrant")
    assert grant["metadata"]["namespace"] == "payments"
    assert grant["spec"]["from"] == [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "apps"}]
    assert grant["spec"]["to"] == [{"group": "", "kind": "Service", "name": "billing"}]
    assert not render(exposed(["httpRoute"])).all("ReferenceGrant")


def test_grpc_tls_tcp_routes_where_asked():
    out = render({"grpcRoute": {"enabled": True, "hostnames": ["grpc.example.com"],
                                "rules": [{"matches": [{"method": {"service": "shop.Cart"}}]}]},
                  "tlsRoute": {"enabled": True, "hostnames": ["tls.example.com"]},
                  "tcpRoute": {"enabled": True, "parentRefs": [{"name": "gw", "sectionName": "tcp"}]}})
    grpc = out.one("GRPCRoute")
    assert grpc["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert grpc["spec"]["rules"][0]["backendRefs"] == [{"name": "rel-portico", "port": 80}]
    assert out.one("TLSRoute")["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert out.one("TLSRoute")["spec"]["hostnames"] == ["tls.example.com"]
    assert out.one("TCPRoute")["spec"]["parentRefs"] == [{"name": "gw", "sectionName": "tcp"}]


ROUTES = {"expose": {"via": ["httpRoute"], "hosts": [{"host": "a.example.com", "paths": [{"path": "/"}]}]},
          "grpcRoute": {"enabled": True}, "tlsRoute": {"enabled": True}, "tcpRoute": {"enabled": True},
          "udpRoute": {"enabled": True, "rules": [{"backendRefs": [{"name": "dns", "namespace": "infra", "port": 53}]}]},
          "referenceGrants": {"enabled": True}}


def api_versions(out) -> dict[str, str]:
    return {d["kind"]: d["apiVersion"].rpartition("/")[2] for d in out.docs
            if d["apiVersion"].startswith("gateway.networking.k8s.io/")}


@pytest.mark.parametrize("helm", ["helm", "helm3"])
def test_gateway_api_versions_follow_what_the_cluster_serves(helm):
    """Without a cluster (helm template): the GA v1 of every kind. A cluster serving only older versions
    (helm passes discovery as Capabilities; --api-versions here) gets those; an explicit apiVersion wins."""
    assert set(api_versions(render(ROUTES, helm=helm)).values()) == {"v1"}
    older = ["v1beta1/HTTPRoute", "v1alpha2/GRPCRoute", "v1alpha3/TLSRoute", "v1alpha2/TLSRoute",
             "v1alpha2/TCPRoute", "v1alpha2/UDPRoute", "v1beta1/ReferenceGrant"]
    out = render(ROUTES, extra=[f"--api-versions=gateway.networking.k8s.io/{v}" for v in older], helm=helm)
    assert api_versions(out) == {"HTTPRoute": "v1beta1", "GRPCRoute": "v1alpha2", "TLSRoute": "v1alpha3",
                                 "TCPRoute": "v1alpha2", "UDPRoute": "v1alpha2", "ReferenceGrant": "v1beta1"}
    both = render(ROUTES, extra=["--api-versions=gateway.networking.k8s.io/v1/TCPRoute",
                                 "--api-versions=gateway.networking.k8s.io/v1alpha2/TCPRoute"], helm=helm)
    assert api_versions(both)["TCPRoute"] == "v1", "the newest served version wins"
    pinned = render({**ROUTES, "tcpRoute": {"enabled": True, "apiVersion": "gateway.networking.k8s.io/v1alpha2"}},
                    helm=helm)
    assert api_versions(pinned)["TCPRoute"] == "v1alpha2"


def test_udp_route_points_at_its_backend_and_is_granted():
    out = render(ROUTES)
    assert out.one("UDPRoute")["spec"]["rules"] == [{"backendRefs": [{"name": "dns", "namespace": "infra", "port": 53}]}]
    grant = out.one("ReferenceGrant")
    assert {"group": "gateway.networking.k8s.io", "kind": "UDPRoute", "namespace": "apps"} in grant["spec"]["from"]


def test_openshift_route_per_host_and_path():
    routes = render(exposed(["route"])).all("Route")
    assert [r["metadata"]["name"] for r in routes] == ["rel-portico", "rel-portico-0-1", "rel-portico-0-2"]
    first, api, health = (r["spec"] for r in routes)
    assert first["host"] == "shop.example.com" and "path" not in first
    assert first["to"] == {"kind": "Service", "name": "rel-portico", "weight": 100}
    assert first["port"] == {"targetPort": "http"}
    assert api["path"] == "/api" and api["port"] == {"targetPort": "api"}
    assert health["to"]["name"] == "foo"
    assert first["tls"] == {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect"}


def test_one_value_flips_ingress_to_gateway_api():
    before = render(exposed(["ingress"]))
    after = render(exposed(["httpRoute"]))
    both = render(exposed(["ingress", "httpRoute", "route"]))
    assert "Ingress" in before.kinds() and "HTTPRoute" not in before.kinds()
    assert "HTTPRoute" in after.kinds() and "Ingress" not in after.kinds()
    assert {"Ingress", "HTTPRoute", "Route"} <= set(both.kinds())
    # Same hosts and backends whichever front door renders them.
    ing_backends = [p["backend"]["service"]["name"] for p in before.one("Ingress")["spec"]["rules"][0]["http"]["paths"]]
    route_backends = [r["backendRefs"][0]["name"] for r in after.one("HTTPRoute")["spec"]["rules"]]
    assert ing_backends == route_backends


def test_service_monitor_and_network_policy():
    out = render({"serviceMonitor": {"enabled": True, "labels": {"release": "prom"}},
                  "networkPolicy": {"enabled": True, "ingressControllerNamespace": "traefik",
                                    "from": [{"podSelector": {"matchLabels": {"role": "client"}}}]}})
    sm = out.one("ServiceMonitor")
    assert sm["spec"]["endpoints"][0]["port"] == "metrics"
    assert sm["metadata"]["labels"]["release"] == "prom"
    np = out.one("NetworkPolicy")
    peers = np["spec"]["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "traefik"}}} in peers
    assert {"podSelector": {"matchLabels": {"role": "client"}}} in peers


def test_extra_manifests_through_tpl():
    out = render({"extraManifests": [
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-extra\ndata:\n  a: b\n",
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "{{ .Release.Name }}-s"}}]})
    assert out.one("ConfigMap")["metadata"]["name"] == "rel-extra"
    assert out.one("Secret")["metadata"]["name"] == "rel-s"


def test_workload_settings_pass_through():
    out = render({
        "image": {"repository": "registry.example.com/shop", "digest": "sha256:" + "a" * 64},
        "command": ["/app"], "args": ["--port=8080"],
        "env": {"MODE": "prod", "POD": {"valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}},
        "envFrom": [{"secretRef": {"name": "creds"}}],
        "imagePullSecrets": ["regcred", {"name": "other"}],
        "nodeSelector": {"disk": "ssd"}, "tolerations": [{"key": "k", "operator": "Exists"}],
        "affinity": {"podAntiAffinity": {}}, "priorityClassName": "high",
        "podLabels": {"team": "shop"}, "podAnnotations": {"a": "b"},
        "serviceAccount": {"create": False, "name": "existing"},
        "volumes": [{"name": "data", "emptyDir": {}}], "volumeMounts": [{"name": "data", "mountPath": "/data"}],
        "extraContainers": [{"name": "sidecar", "image": "sidecar:1"}],
        "initContainers": [{"name": "init", "image": "init:1"}],
    })
    pod = out.one("Deployment")["spec"]["template"]
    spec = pod["spec"]
    main = spec["containers"][0]
    assert main["image"] == "registry.example.com/shop@sha256:" + "a" * 64
    assert main["command"] == ["/app"] and main["args"] == ["--port=8080"]
    assert main["env"] == [{"name": "MODE", "value": "prod"},
                           {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]
    assert main["envFrom"] == [{"secretRef": {"name": "creds"}}]
    assert spec["imagePullSecrets"] == [{"name": "regcred"}, {"name": "other"}]
    assert spec["serviceAccountName"] == "existing" and "ServiceAccount" not in out.kinds()
    assert [c["name"] for c in spec["containers"]] == ["portico", "sidecar"]
    assert spec["initContainers"][0]["name"] == "init"
    assert {"name": "data", "mountPath": "/data"} in main["volumeMounts"]
    assert pod["metadata"]["labels"]["team"] == "shop"
    assert spec["priorityClassName"] == "high" and spec["nodeSelector"] == {"disk": "ssd"}


def test_env_list_form():
    env = [{"name": "A", "value": "1"}]
    assert render({"env": env}).container()["env"] == env


def test_env_null_unsets_a_variable():
    """helm keeps a null it has no default for; the chart treats it as unset (0.1.0 rendered "<nil>")."""
    assert render({"env": {"A": "1", "B": None}}).container()["env"] == [{"name": "A", "value": "1"}]
    assert "env" not in render({"env": {"B": None}}).container()
