"""The local kind cluster: its config, its node container, its kubeconfig.

The cluster's ports are reachable only on 127.0.0.1: HTTP and HTTPS of the
in-cluster Traefik (Ingress and Gateway API) and a slice of the NodePort range
are mapped there. Creating it with its add-ons is `portico.cluster.lifecycle`.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from portico.clients.docker import Docker
from portico.clients.kind import Kind
from portico.errors import ToolError
from portico.kube import Cluster
from portico.net import LISTEN, PROC_NET_TCP, tcp_sockets
from portico.paths import cache_dir, logs_dir

CLUSTER = os.environ.get("PORTICO_CLUSTER", "portico")
HTTP_PORT = int(os.environ.get("PORTICO_HTTP_PORT", "18080"))
HTTPS_PORT = int(os.environ.get("PORTICO_HTTPS_PORT", "18443"))
# A slice of the NodePort range mapped 1:1 to 127.0.0.1 (kind maps single ports only).
NODE_PORTS = range(30000, 30010)


@dataclass(frozen=True)
class Endpoints:
    http: str
    https: str
    node_ports: range


ENDPOINTS = Endpoints(f"http://127.0.0.1:{HTTP_PORT}", f"https://127.0.0.1:{HTTPS_PORT}", NODE_PORTS)


def lacks_sys_resource() -> bool:
    """True where CAP_SYS_RESOURCE is outside the capability bounding set (some sandboxes, user namespaces)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("CapBnd:"):
            return not (int(line.split()[1], 16) >> 24) & 1
    return False


# Without CAP_SYS_RESOURCE nothing in the node may lower oom_score_adj, and runc
# fails every pod sandbox (kubelet asks -998). containerd's switch for rootless
# nodes clamps the value instead, as kind's entrypoint does inside user namespaces.
RESTRICT_OOM_SCORE_ADJ = """[plugins."io.containerd.grpc.v1.cri"]
  restrict_oom_score_adj = true
"""


def kind_config(image: str, kubernetes_version: str) -> dict:
    mappings = [{"containerPort": 80, "hostPort": HTTP_PORT, "listenAddress": "127.0.0.1"},
                {"containerPort": 443, "hostPort": HTTPS_PORT, "listenAddress": "127.0.0.1"}]
    mappings += [{"containerPort": p, "hostPort": p, "listenAddress": "127.0.0.1"} for p in NODE_PORTS]
    kubelet_patch = {"kind": "KubeletConfiguration", "apiVersion": "kubelet.config.k8s.io/v1beta1",
                     # kubelet 1.35+ refuses cgroup v1 hosts unless told otherwise.
                     "failCgroupV1": False}
    config = {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "name": CLUSTER,
        "networking": {"disableDefaultCNI": True, "podSubnet": "10.244.0.0/16", "kubeProxyMode": "iptables"},
        "nodes": [{"role": "control-plane", "image": image, "extraPortMappings": mappings,
                   "labels": {"ingress-ready": "true"},
                   "kubeadmConfigPatches": [yaml.safe_dump(kubelet_patch)]}],
    }
    if lacks_sys_resource():
        config["containerdConfigPatches"] = [RESTRICT_OOM_SCORE_ADJ]
    return config


def kubeconfig_path() -> Path:
    return cache_dir() / f"kubeconfig-{CLUSTER}"


def cluster() -> Cluster:
    """helm, kubectl and the API of the local cluster."""
    return Cluster(kubeconfig_path())


def kubectl(*args: str, input: str | None = None, check: bool = True):
    return cluster().kubectl.run(*args, input=input, check=check)


def exists() -> bool:
    return CLUSTER in Kind.pinned().clusters()


def node_running() -> bool:
    """kind nodes do not come back after a Docker restart; a stopped node means recreate."""
    done = Docker().run("inspect", "-f", "{{.State.Running}}", f"{CLUSTER}-control-plane", check=False)
    return done.ok and bytes(done.stdout).strip() == b"true"


def node_image() -> str | None:
    """The image the cluster's node runs (None when there is no node)."""
    done = Docker().run("inspect", "-f", "{{.Config.Image}}", f"{CLUSTER}-control-plane", check=False)
    if not done.ok:
        return None
    return bytes(done.stdout).decode().strip() or None


def dead_ports(path: Path = PROC_NET_TCP) -> list[int]:
    """Published ports whose Docker port proxy is gone. The proxy stops for good when an accept fails (out of
    descriptors under a connection storm), and only a new node container brings it back. Docker without its
    userland proxy publishes by NAT rules, with no listener at all: then nothing can be dead."""
    mapped = (HTTP_PORT, HTTPS_PORT, *NODE_PORTS)
    listening = {port for _, port, state in tcp_sockets(path) if state == LISTEN} & set(mapped)
    return [p for p in mapped if p not in listening] if listening else []


def create(image: str, kubernetes_version: str) -> None:
    config = kind_config(image, kubernetes_version)
    with tempfile.TemporaryDirectory(prefix="portico-kind-") as tmp:
        path = Path(tmp) / "kind.yaml"
        path.write_text(yaml.safe_dump(config))
        Kind.pinned().create(CLUSTER, path, kubeconfig_path(), logs=logs_dir() / f"kind-{CLUSTER}")


def delete() -> None:
    Kind.pinned().delete(CLUSTER)


def export_kubeconfig() -> None:
    Kind.pinned().export_kubeconfig(CLUSTER, kubeconfig_path())


def load_image(tag: str) -> None:
    if not Docker().image_exists(tag):
        raise ToolError(f"image {tag} is not in the local Docker daemon")
    Kind.pinned().load_image(CLUSTER, tag)
