"""`portico cluster up|down|status`: the local kind cluster with its add-ons, ready for smoke tests.

The node image is kind's official one when `--image` (or $PORTICO_NODE_IMAGE)
names it (machines with a registry), else the locally built offline image
(portico.cluster.nodeimage).
"""

from __future__ import annotations

import os
import time
from typing import Callable

from portico.clients.docker import Docker
from portico.cluster import addons, kind, nodeimage
from portico.toolchain.pins import load_versions


def up(image: str | None = None, log: Callable[[str], None] = print) -> kind.Endpoints:
    Docker().require_daemon()
    started = time.monotonic()
    # The image it must run: named, or the offline image of the current pins and build recipes (its tag says
    # which, so this builds nothing).
    wanted = image or os.environ.get("PORTICO_NODE_IMAGE") or nodeimage.node_image_tag(load_versions())
    if kind.exists() and not kind.node_running():
        log(f"cluster      {kind.CLUSTER} exists but its node is stopped (Docker restarted?): recreating")
        kind.delete()
    elif kind.exists() and (dead := kind.dead_ports()):
        log(f"cluster      {kind.CLUSTER}: nothing listens on 127.0.0.1:{', '.join(map(str, dead))} any more "
            "(Docker's port proxy stopped): recreating")
        kind.delete()
    elif kind.exists() and (running := kind.node_image()) != wanted:
        log(f"cluster      {kind.CLUSTER} runs {running}, not {wanted} (pins or the node's build changed): "
            "recreating")
        kind.delete()
    if kind.exists():
        kind.export_kubeconfig()
        log(f"cluster      {kind.CLUSTER} already up")
    else:
        chosen = wanted if image or os.environ.get("PORTICO_NODE_IMAGE") else nodeimage.build(log)
        kind.create(chosen, load_versions()["KUBERNETES_VERSION"])
        log(f"cluster      {kind.CLUSTER} created ({time.monotonic() - started:.0f}s)")
    kind.cluster().wait_nodes_ready()
    addons.install(log)
    log(f"cluster      ready in {time.monotonic() - started:.0f}s; KUBECONFIG={kind.kubeconfig_path()}")
    return kind.ENDPOINTS


def down(log: Callable[[str], None] = print) -> None:
    if kind.exists():
        kind.delete()
        log(f"cluster      {kind.CLUSTER} deleted")
    else:
        log(f"cluster      {kind.CLUSTER} does not exist")


def status() -> dict:
    if not kind.exists():
        return {"cluster": kind.CLUSTER, "exists": False}
    kind.export_kubeconfig()
    nodes = kind.cluster().kubectl.get("nodes")["items"]
    return {
        "cluster": kind.CLUSTER, "exists": True, "kubeconfig": str(kind.kubeconfig_path()),
        "nodes": {n["metadata"]["name"]: next((c["status"] for c in n["status"]["conditions"] if c["type"] == "Ready"),
                                              "Unknown") for n in nodes},
        "http": kind.ENDPOINTS.http, "https": kind.ENDPOINTS.https,
        "node_ports": f"127.0.0.1:{kind.NODE_PORTS.start}-{kind.NODE_PORTS.stop - 1}",
    }
