"""A multi-node kind cluster (one control plane, two workers) for what one node cannot show: node drains.

Pod networking across nodes is kind's own approach without its kindnetd image
(not on the Go module proxy): every node runs the ptp CNI plugin on a /24 of its
own (a per-node config mounted over the node image's single-node one), and
every node routes the other nodes' /24s to their addresses on the Docker
network, which is what kindnetd programs. The control plane keeps its taint, so
workloads run on the workers and a drain moves them for real. NodePorts
30000-30004 of the control plane are on 127.0.0.1:31000-31004; the main
cluster's ports are untouched, both can run at once.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Callable

import yaml

from portico.clients.docker import Docker
from portico.clients.kind import Kind
from portico.cluster import addons, kind, nodeimage
from portico.kube import Cluster
from portico.paths import cache_dir, logs_dir
from portico.toolchain.pins import load_versions

NAME = f"{kind.CLUSTER}-multi"
WORKERS = 2
HOST_PORT_BASE = 31000
NODE_PORTS = range(30000, 30005)
SUBNET = "10.244.{index}.0/24"


def node_names(workers: int = WORKERS) -> list[str]:
    return [f"{NAME}-control-plane"] + [f"{NAME}-worker{'' if i == 1 else i}" for i in range(1, workers + 1)]


def host_port(node_port: int) -> int:
    return HOST_PORT_BASE + node_port - NODE_PORTS.start


def kubeconfig_path() -> Path:
    return cache_dir() / f"kubeconfig-{NAME}"


def cluster() -> Cluster:
    return Cluster(kubeconfig_path())


def cni_config(index: int) -> dict:
    config = json.loads(json.dumps(nodeimage.CNI_CONFIG))
    config["plugins"][0]["ipam"]["ranges"] = [[{"subnet": SUBNET.format(index=index)}]]
    return config


def config(image: str, workers: int = WORKERS) -> dict:
    base = kind.kind_config(image, load_versions()["KUBERNETES_VERSION"])
    template = base["nodes"][0]
    cni_dir = cache_dir() / "multinode"
    cni_dir.mkdir(parents=True, exist_ok=True)
    nodes = []
    for index in range(workers + 1):
        path = cni_dir / f"cni-{index}.conflist"
        path.write_text(json.dumps(cni_config(index), indent=2))
        node = {"role": "control-plane" if index == 0 else "worker", "image": image,
                "extraMounts": [{"hostPath": str(path), "containerPath": "/etc/cni/net.d/10-portico-ptp.conflist",
                                 "readOnly": True}]}
        if index == 0:
            node["extraPortMappings"] = [{"containerPort": p, "hostPort": host_port(p), "listenAddress": "127.0.0.1"}
                                         for p in NODE_PORTS]
        nodes.append(node)
    # The kubelet patch (cgroup v1 hosts) at cluster level: it applies to the workers' joins too.
    return {**base, "name": NAME, "nodes": nodes, "kubeadmConfigPatches": template["kubeadmConfigPatches"]}


def _node_ip(node: str) -> str:
    done = Docker().run("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", node)
    return bytes(done.stdout).decode().strip()


def route_pod_subnets(workers: int = WORKERS) -> None:
    """Each node reaches the other nodes' pod /24 through that node's address (what kindnetd programs)."""
    nodes = node_names(workers)
    addresses = [_node_ip(n) for n in nodes]
    for i, node in enumerate(nodes):
        for j, address in enumerate(addresses):
            if i != j:
                Docker().run("exec", node, "ip", "route", "replace", SUBNET.format(index=j), "via", address)


def exists() -> bool:
    return NAME in Kind.pinned().clusters()


def up(log: Callable[[str], None] = print, workers: int = WORKERS) -> Cluster:
    Docker().require_daemon()
    started = time.monotonic()
    if not exists():
        image = nodeimage.build(log)
        with tempfile.TemporaryDirectory(prefix="portico-kind-") as tmp:
            path = Path(tmp) / "kind.yaml"
            path.write_text(yaml.safe_dump(config(image, workers)))
            Kind.pinned().create(NAME, path, kubeconfig_path(), logs=logs_dir() / f"kind-{NAME}")
        log(f"cluster      {NAME} created, {workers} workers ({time.monotonic() - started:.0f}s)")
    else:
        Kind.pinned().export_kubeconfig(NAME, kubeconfig_path())
    route_pod_subnets(workers)
    found = cluster()
    found.wait_nodes_ready()
    for image in addons.testapp_images(log):
        Kind.pinned().load_image(NAME, image)
    log(f"cluster      {NAME} ready in {time.monotonic() - started:.0f}s; KUBECONFIG={kubeconfig_path()}")
    return found


def down() -> None:
    if exists():
        Kind.pinned().delete(NAME)
