"""What the tests on the multi-node cluster share: its values (only the NodePort: the cluster has no ingress
controller or gateway), its load (the cluster itself is the fixture `multi_cluster`, conftest.py)."""

from __future__ import annotations

from portico.cluster import multinode
from portico.zerodowntime import check
from portico.zerodowntime.load import Target
from tests.cluster.test_upgrade import BASE, DEFAULTS, SLOW_TARGET_RATE, merge

NODE_PORT = 30002
MIN_REQUESTS = 20000  # the NodePort at 500 req/s: 40 s or more of load
VALUES = merge(BASE, {"expose": {"via": []}})


def load() -> list[Target]:
    return [Target("nodeport", f"http://127.0.0.1:{multinode.host_port(NODE_PORT)}/")]


def control_load() -> list[Target]:
    """The NodePort, and 3 s requests on it (a pod must finish them before it exits): what catches every
    control (the one-node soak: the Ingress and HTTPRoute targets never caught one the NodePort missed)."""
    return load() + [Target("slow", f"http://127.0.0.1:{multinode.host_port(NODE_PORT)}/?delay=3s",
                            rate=SLOW_TARGET_RATE)]


def step(label: str, *layers: dict) -> check.Step:
    from tests.conftest import CHART

    return check.Step(CHART, (VALUES, DEFAULTS, *layers), label)
