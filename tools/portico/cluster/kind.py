"""`portico cluster up|down|status|load-image`: a local kind cluster ready for smoke tests.

The cluster has one node, reachable only on 127.0.0.1: HTTP and HTTPS of the
in-cluster Traefik (Ingress and Gateway API) and a slice of the NodePort range
are mapped there. The node image is kind's official one when `--image` names
it (machines with a registry), else the locally built offline image
(portico.cluster.nodeimage).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

from portico.binaries import tool_path, tools_env
from portico.cluster import docker as d
from portico.errors import ToolError

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
    from portico.toolchain import cache_dir

    return cache_dir() / f"kubeconfig-{CLUSTER}"


def _kind(*args: str, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([tool_path("kind"), *args], capture_output=capture, text=True, env=tools_env())
    if check and proc.returncode != 0:
        raise ToolError(f"kind {args[0]} failed: {(proc.stderr or '').strip()[-1500:]}")
    return proc


def exists() -> bool:
    return CLUSTER in _kind("get", "clusters").stdout.split()


def node_running() -> bool:
    """kind nodes do not come back after a Docker restart; a stopped node means recreate."""
    proc = d.docker("inspect", "-f", "{{.State.Running}}", f"{CLUSTER}-control-plane", check=False)
    return proc.returncode == 0 and proc.stdout.strip() == b"true"


def kubectl(*args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([tool_path("kubectl"), "--kubeconfig", str(kubeconfig_path()), *args], input=input,
                          capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise ToolError(f"kubectl {' '.join(args[:3])} failed: {proc.stderr.strip()[-1000:]}")
    return proc


def up(image: str | None = None, log: Callable[[str], None] = print) -> Endpoints:
    d.require_daemon()
    started = time.monotonic()
    if exists() and not node_running():
        log(f"cluster      {CLUSTER} exists but its node is stopped (Docker restarted?): recreating")
        _kind("delete", "cluster", "--name", CLUSTER)
    if exists():
        _kind("export", "kubeconfig", "--name", CLUSTER, "--kubeconfig", str(kubeconfig_path()))
        log(f"cluster      {CLUSTER} already up")
    else:
        if image is None:
            from portico.cluster import nodeimage

            image = nodeimage.build(log)
        from portico.toolchain import load_versions

        config = kind_config(image, load_versions()["KUBERNETES_VERSION"])
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
            yaml.safe_dump(config, fh)
        try:
            proc = _kind("create", "cluster", "--config", fh.name, "--kubeconfig", str(kubeconfig_path()),
                         "--wait", "0s", check=False, capture=True)
        finally:
            Path(fh.name).unlink()
        if proc.returncode != 0:
            from portico.toolchain import cache_dir

            logdir = cache_dir() / "logs" / f"kind-{CLUSTER}"
            _kind("export", "logs", str(logdir), "--name", CLUSTER, check=False)
            raise ToolError(f"kind create cluster failed: {proc.stderr.strip()[-1200:]} (node logs: {logdir})")
        log(f"cluster      {CLUSTER} created ({time.monotonic() - started:.0f}s)")
    wait_ready()
    from portico.cluster import addons

    addons.install(log)
    log(f"cluster      ready in {time.monotonic() - started:.0f}s; KUBECONFIG={kubeconfig_path()}")
    return ENDPOINTS


def wait_ready(timeout: int = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc = kubectl("get", "nodes", "-o", "json", check=False)
        if proc.returncode == 0:
            nodes = json.loads(proc.stdout)["items"]
            if nodes and all(any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"])
                             for n in nodes):
                return
        time.sleep(2)
    raise ToolError(f"node not Ready after {timeout}s: {kubectl('describe', 'nodes', check=False).stdout[-1500:]}")


def down(log: Callable[[str], None] = print) -> None:
    if exists():
        _kind("delete", "cluster", "--name", CLUSTER)
        log(f"cluster      {CLUSTER} deleted")
    else:
        log(f"cluster      {CLUSTER} does not exist")


def status() -> dict:
    if not exists():
        return {"cluster": CLUSTER, "exists": False}
    _kind("export", "kubeconfig", "--name", CLUSTER, "--kubeconfig", str(kubeconfig_path()))
    nodes = json.loads(kubectl("get", "nodes", "-o", "json").stdout)["items"]
    return {
        "cluster": CLUSTER, "exists": True, "kubeconfig": str(kubeconfig_path()),
        "nodes": {n["metadata"]["name"]: next((c["status"] for c in n["status"]["conditions"] if c["type"] == "Ready"),
                                              "Unknown") for n in nodes},
        "http": ENDPOINTS.http, "https": ENDPOINTS.https,
        "node_ports": f"127.0.0.1:{NODE_PORTS.start}-{NODE_PORTS.stop - 1}",
    }


def load_image(tag: str) -> None:
    if not d.image_exists(tag):
        raise ToolError(f"image {tag} is not in the local Docker daemon")
    _kind("load", "docker-image", tag, "--name", CLUSTER)
