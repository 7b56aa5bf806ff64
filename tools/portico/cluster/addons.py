"""What `portico cluster up` installs on top of kind, every image built locally.

- the test workload image (package data testapp/), as portico.local/testapp:1.0.0 and :2.0.0;
- Traefik, as the IngressClass `traefik` and the Gateway API implementation
  (GatewayClass `traefik`, Gateway `portico` in namespace `traefik`), listening
  on the node's ports 80/443, which kind maps to 127.0.0.1;
- MetalLB in L2 mode with a pool carved from the kind Docker network, so
  LoadBalancer Services get an address this machine can reach;
- the pinned vegeta as portico.local/vegeta:VERSION, for upgrade-check's load from inside the cluster
  (`cluster://` targets: a ClusterIP Service's clients).
"""

from __future__ import annotations

import ipaddress
import os
import json
from pathlib import Path
from typing import Callable

import yaml

from portico import wait
from portico.clients.docker import Docker, FileEntry
from portico.clients.vegeta import pod_image
from portico.cluster import gobuild, kind
from portico.errors import ToolError
from portico.paths import data_path
from portico.toolchain import gomod
from portico.toolchain.locate import tool_path
from portico.toolchain.pins import load_versions
from portico.toolchain.stamps import source_digest

TESTAPP_REPO = "portico.local/testapp"
IMAGE_FORMAT = 2  # bump when how the images are assembled changes
TESTAPP_VERSIONS = ("1.0.0", "2.0.0")
GATEWAY_NAMESPACE = "traefik"
GATEWAY_NAME = "portico"

# Traefik imports a nested module (dynamic/ext) that is never published; it only
# declares empty extension points, so an equivalent stub is generated at build time.
_TRAEFIK_EXT_STUB = {
    "go.mod": "module github.com/traefik/traefik/dynamic/ext\n\ngo 1.24\n",
    "ext.go": ("package ext\n\n// HTTP is an empty extension point.\ntype HTTP struct{}\n\n"
               "// Router is an empty extension point.\ntype Router struct{}\n\n"
               "// RouterIng is an empty extension point.\ntype RouterIng struct{}\n\n"
               "// ToRouter converts a RouterIng.\nfunc (r RouterIng) ToRouter() Router { return Router{} }\n"),
}
# lego's registry of ACME DNS-01 providers, which Traefik's certificate resolvers look up by name, without the
# providers: some two hundred DNS hosting SDKs (Huawei, Tencent, Azure, OCI, ...), about half of Traefik's
# compile. The local cluster never asks an ACME server for a certificate.
_LEGO_DNS_PROVIDERS = (
    "// Portico: lego's DNS provider registry without the providers (Traefik on a local cluster does no ACME).\n\n"
    "package dns\n\nimport (\n\t\"fmt\"\n\n\t\"github.com/go-acme/lego/v4/challenge\"\n)\n\n"
    "// NewDNSChallengeProviderByName refuses every provider: none is built in.\n"
    "func NewDNSChallengeProviderByName(name string) (challenge.Provider, error) {\n"
    "\treturn nil, fmt.Errorf(\"DNS challenge provider %q: not built into this Traefik (portico's local cluster)\", "
    "name)\n}\n")
TRAEFIK = gobuild.Component(
    name="traefik", module="github.com/traefik/traefik/v3", version_key="TRAEFIK_VERSION",
    packages={"traefik": "github.com/traefik/traefik/v3/cmd/traefik"},
    ldflags=lambda v: f"-s -w -X github.com/traefik/traefik/v3/pkg/version.Version={v}",
    stubs={"github.com/traefik/traefik/dynamic/ext": _TRAEFIK_EXT_STUB},
    patches={"github.com/go-acme/lego/v4": {"providers/dns/zz_gen_dns_providers.go": _LEGO_DNS_PROVIDERS}},
)
METALLB = gobuild.Component(
    name="metallb", module="go.universe.tf/metallb", version_key="METALLB_VERSION",
    packages={"controller": "go.universe.tf/metallb/controller", "speaker": "go.universe.tf/metallb/speaker"},
)


def testapp_binary(version: str) -> Path:
    """The test app answering as `version`, built once per source into the tools cache (its images, and the load
    tests that run it on this machine; -trimpath as every build here, so they share Go's build cache)."""
    src = data_path("testapp")
    out = gobuild.offline_dir() / f"testapp-{version}-{source_digest(src)[:10]}" / "testapp"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f"testapp.{os.getpid()}.partial")  # two builds at once each write their own
        gomod.go().build(src, partial, ldflags=f"-s -w -X main.builtVersion={version}", env=gomod.build_env(),
                         log=gobuild.log_path("testapp"))
        partial.replace(out)
    return out


def testapp_images(log: Callable[[str], None]) -> list[str]:
    digest = source_digest(data_path("testapp"))[:10]
    docker = Docker()
    tags = []
    for version in TESTAPP_VERSIONS:
        tag = f"{TESTAPP_REPO}:{version}"
        tags.append(tag)
        label = f"{tag}-src-{digest}-{IMAGE_FORMAT}"
        if docker.image_exists(label):
            continue
        # A numeric non-root user, so the chart's runAsNonRoot default admits it.
        docker.import_files(tag, [FileEntry("/testapp", testapp_binary(version))], entrypoint=["/testapp"],
                            user="65532:65532")
        docker.run("tag", tag, label)
        log(f"image        {tag}")
    return tags


def traefik_image(versions: dict[str, str], log: Callable[[str], None]) -> str:
    """portico.local/traefik:VERSION, rebuilt when its build recipe changes (a second tag names the recipe)."""
    version = versions["TRAEFIK_VERSION"]
    tag = f"portico.local/traefik:{version}"
    docker = Docker()
    if not docker.image_exists(f"{tag}-{TRAEFIK.recipe(version)}"):
        out = gobuild.build(TRAEFIK, versions, log)
        docker.import_files(tag, [FileEntry("/traefik", out / "traefik"),
                                  FileEntry("/etc/ssl/certs/.keep", data=b"", mode=0o644)],
                            entrypoint=["/traefik"], user="65532:65532")
        docker.run("tag", tag, f"{tag}-{TRAEFIK.recipe(version)}")
        log(f"image        {tag}")
    return tag


def metallb_images(versions: dict[str, str], log: Callable[[str], None]) -> list[str]:
    version = versions["METALLB_VERSION"]
    tags = {f"quay.io/metallb/{b}:{version}": b for b in ("controller", "speaker")}
    docker = Docker()
    missing = [t for t in tags if not docker.image_exists(t)]
    if missing:
        out = gobuild.build(METALLB, versions, log)
        for tag in missing:
            binary = tags[tag]
            docker.import_files(tag, [FileEntry(f"/{binary}", out / binary)], entrypoint=[f"/{binary}"])
            log(f"image        {tag}")
    return list(tags)


def vegeta_image(versions: dict[str, str], log: Callable[[str], None]) -> str:
    """The pinned vegeta in an image FROM scratch: upgrade-check's load from inside the cluster."""
    tag = pod_image(versions["VEGETA_VERSION"])
    docker = Docker()
    if not docker.image_exists(tag):
        docker.import_files(tag, [FileEntry("/vegeta", Path(tool_path("vegeta")))], entrypoint=["/vegeta"],
                            user="65532:65532")
        log(f"image        {tag}")
    return tag


def _wait_rollout(namespace: str, target: str, timeout: int = 180) -> None:
    kubectl = kind.cluster().kubectl
    done = kubectl.rollout_status(namespace, target, timeout)
    if not done.ok:
        pods = kubectl.run("-n", namespace, "get", "pods", "-o", "wide", check=False).stdout
        raise ToolError(f"{target} in {namespace} did not become ready: {str(done.stderr).strip()}\n{pods}")


def traefik_manifests(image: str, recipe: str = "") -> str:
    """`recipe` (the image's build recipe) goes on the pod template: a rebuilt image rolls the pod, whose tag
    stays the same."""
    ns = GATEWAY_NAMESPACE
    rules = [
        {"apiGroups": [""], "resources": ["services", "endpoints", "secrets", "nodes", "namespaces", "configmaps"],
         "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["extensions", "networking.k8s.io"], "resources": ["ingresses", "ingressclasses"],
         "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["extensions", "networking.k8s.io"], "resources": ["ingresses/status"], "verbs": ["update"]},
        {"apiGroups": ["gateway.networking.k8s.io"], "resources": ["*"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["gateway.networking.k8s.io"], "resources": ["*/status"], "verbs": ["update", "patch"]},
    ]
    args = ["--entryPoints.web.address=:8000", "--entryPoints.websecure.address=:8443",
            "--entryPoints.websecure.http.tls=true", "--providers.kubernetesingress=true",
            "--providers.kubernetesingress.ingressclass=traefik", "--providers.kubernetesgateway=true",
            "--providers.kubernetesgateway.experimentalchannel=true", "--ping=true", "--log.level=INFO",
            # Route to the Service's ClusterIP (kube-proxy picks the pod) instead of to pod IPs Traefik keeps in
            # its own config: with pod IPs every endpoint change is a config reload, and during reloads Traefik
            # answered 1-4 requests with 502 in about 1 of 10 safe upgrades at 1,500 req/s (the maintainers'
            # advice for it: traefik/traefik#10932, #11538). docs/zero-downtime.md has the numbers.
            "--providers.kubernetesingress.nativelbbydefault=true",
            "--providers.kubernetesgateway.nativelbbydefault=true"]
    docs = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "traefik", "namespace": ns}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "portico-traefik"},
         "rules": rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "portico-traefik"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "portico-traefik"},
         "subjects": [{"kind": "ServiceAccount", "name": "traefik", "namespace": ns}]},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "traefik", "namespace": ns},
         # Recreate: the new pod needs the old one's hostPorts, so a surge pod would wait for ever.
         "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "traefik"}}, "strategy": {"type": "Recreate"},
                  "template": {"metadata": {"labels": {"app": "traefik"},
                                            "annotations": {"portico.dev/image-recipe": recipe}}, "spec": {
                      "serviceAccountName": "traefik",
                      "containers": [{
                          "name": "traefik", "image": image, "imagePullPolicy": "Never", "args": args,
                          "ports": [{"name": "web", "containerPort": 8000, "hostPort": 80},
                                    {"name": "websecure", "containerPort": 8443, "hostPort": 443}],
                          "readinessProbe": {"httpGet": {"path": "/ping", "port": 8080}, "periodSeconds": 2},
                          # Without requests the pod is BestEffort (cpu.shares 2 against the Burstable pods'
                          # hundreds): when the load saturates the node's cores, the control plane and the apps
                          # take the CPU, the backends' answers wait unread in Traefik's sockets, its clients
                          # time out and open ever more connections. 200m still let it fall behind (1 run in 4).
                          "resources": {"requests": {"cpu": "500m", "memory": "64Mi"}},
                          "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                              "runAsNonRoot": True, "runAsUser": 65532,
                                              "capabilities": {"drop": ["ALL"]}}}]}}}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
         "metadata": {"name": "traefik", "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}},
         "spec": {"controller": "traefik.io/ingress-controller"}},
        {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "traefik"},
         "spec": {"controllerName": "traefik.io/gateway-controller"}},
        {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
         "metadata": {"name": GATEWAY_NAME, "namespace": ns},
         "spec": {"gatewayClassName": "traefik", "listeners": [
             {"name": "http", "protocol": "HTTP", "port": 8000, "allowedRoutes": {"namespaces": {"from": "All"}}}]}},
    ]
    return yaml.safe_dump_all(docs, sort_keys=False)


def gateway_api_crds(versions: dict[str, str]) -> str:
    """The experimental channel's CRDs (TLSRoute, TCPRoute too), without the kustomization file."""
    root = gomod.module_dir("sigs.k8s.io/gateway-api", versions["GATEWAY_API_VERSION"]) / "config" / "crd" / "experimental"
    return "\n---\n".join(p.read_text() for p in sorted(root.glob("gateway.networking.k8s.io_*.yaml")))


def _lb_pool() -> str:
    net = json.loads(Docker().run("network", "inspect", "kind").stdout)[0]
    for cfg in net["IPAM"]["Config"]:
        subnet = ipaddress.ip_network(cfg["Subnet"])
        if subnet.version == 4:
            top = subnet.broadcast_address
            return f"{top - 55}-{top - 5}"
    raise ToolError("the kind Docker network has no IPv4 subnet for MetalLB")


def install_metallb(versions: dict[str, str], log: Callable[[str], None]) -> None:
    kubectl = kind.cluster().kubectl
    manifest = gomod.module_dir("go.universe.tf/metallb", versions["METALLB_VERSION"]) / "config" / "manifests" / \
        "metallb-native.yaml"
    text = manifest.read_text().replace("imagePullPolicy: Always", "imagePullPolicy: Never")
    kubectl.apply(text)
    _wait_rollout("metallb-system", "deployment/controller")
    _wait_rollout("metallb-system", "daemonset/speaker")
    pool = yaml.safe_dump_all([
        {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
         "metadata": {"name": "portico", "namespace": "metallb-system"}, "spec": {"addresses": [_lb_pool()]}},
        {"apiVersion": "metallb.io/v1beta1", "kind": "L2Advertisement",
         "metadata": {"name": "portico", "namespace": "metallb-system"}},
    ])
    # The webhook takes a moment after the controller is Ready.
    wait.until(lambda: kubectl.apply(pool, check=False).ok, timeout=90, interval=3,
               what="MetalLB pool not accepted")
    log(f"metallb      L2 pool {_lb_pool()}")


def build_images(log: Callable[[str], None] = print) -> list[str]:
    """Every image the add-ons run, built where missing; no cluster needed (`portico cluster build --addons`)."""
    versions = load_versions()
    return [*testapp_images(log), traefik_image(versions, log), *metallb_images(versions, log),
            vegeta_image(versions, log)]


def install(log: Callable[[str], None] = print) -> None:
    versions = load_versions()
    images = build_images(log)
    for image in images:
        kind.load_image(image)
    kubectl = kind.cluster().kubectl
    kubectl.apply(gateway_api_crds(versions), server_side=True)
    kubectl.apply(traefik_manifests(images[len(TESTAPP_VERSIONS)], TRAEFIK.recipe(versions["TRAEFIK_VERSION"])))
    _wait_rollout(GATEWAY_NAMESPACE, "deployment/traefik")
    log(f"traefik      IngressClass traefik, Gateway {GATEWAY_NAMESPACE}/{GATEWAY_NAME} on {kind.ENDPOINTS.http}")
    install_metallb(versions, log)
