"""Cluster access for the cluster tests: pytest-helm-charts' fixtures on the local kind cluster.

pytest-helm-charts reads the kubeconfig from a command-line option; here it is
the cluster `portico cluster up` creates (or finds), so `make test` needs no flags.
"""

from __future__ import annotations

import pytest

from portico import wait
from portico.cluster import kind, lifecycle, multinode


@pytest.fixture(scope="module")
def kube_config() -> str:
    lifecycle.up()
    return str(kind.kubeconfig_path())


_multi: list = []


@pytest.fixture
def multi_cluster():
    """The multi-node cluster (one control plane, two workers), made by the first test that asks for it and
    deleted after the last one in a row that does (pytest_runtest_teardown), so the tests after them have the
    machine to themselves."""
    if not _multi:
        _multi.append(clear_leftovers(multinode.up()))
    return _multi[0]


LEFTOVER_PREFIX = "up-"  # the zero-downtime tests' namespaces (tests/cluster/test_upgrade.py: run_scenario)


def clear_leftovers(cluster):
    """What an interrupted run left on a cluster kept between runs: its scenarios' namespaces (each holds the
    nodePort every scenario pins) and cordoned nodes (a drain stopped before its uncordon). Returns `cluster`."""
    from lightkube.resources.core_v1 import Namespace, Node

    def leftovers() -> list:
        return [ns for ns in cluster.api.list(Namespace) if ns.metadata.name.startswith(LEFTOVER_PREFIX)]

    for ns in leftovers():
        if not (ns.status and ns.status.phase == "Terminating"):
            print(f"leftover     namespace {ns.metadata.name}: deleting")
            cluster.kubectl.delete_namespace(ns.metadata.name)
    for node in cluster.api.list(Node):
        if node.spec and node.spec.unschedulable:
            print(f"leftover     node {node.metadata.name} cordoned: uncordoning")
            cluster.kubectl.run("uncordon", node.metadata.name)
    wait.until(lambda: not leftovers(), timeout=240, interval=2,
               what="namespaces an earlier run left are still being deleted")
    return cluster


def pytest_runtest_teardown(item, nextitem):
    if _multi and (nextitem is None or "multi_cluster" not in nextitem.fixturenames):
        _multi.clear()
        multinode.down()


_quiet: list[bool] = []
SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease", "local-path-storage", "metallb-system",
                     "traefik")


def terminating(cluster) -> list[str]:
    """Namespaces being deleted and pods stopping outside the cluster's own namespaces."""
    from lightkube.resources.core_v1 import Namespace, Pod

    found = [f"namespace {ns.metadata.name}" for ns in cluster.api.list(Namespace)
             if ns.status and ns.status.phase == "Terminating"]
    found += [f"pod {p.metadata.namespace}/{p.metadata.name}" for p in cluster.api.list(Pod, namespace="*")
              if p.metadata.deletionTimestamp and p.metadata.namespace not in SYSTEM_NAMESPACES]
    return found


@pytest.fixture(autouse=True)
def quiet_before_zero_downtime(request):
    """The first zero-downtime test waits until what the tests before it left stopping has stopped (make test
    runs them right after the other cluster tests, whose namespaces go without waiting): pods finishing their
    preStop sleeps and namespaces being emptied take the node's CPU from the rollout under load. Once a run.

    Only for the tests on the one-node cluster: the multi-node cluster is made fresh for its tests (make test
    runs them first), and the one-node cluster is then not theirs to touch; it may be a node Docker has just
    restarted, whose API server refuses or answers 403 for its first minute (CI, 2026-12-07)."""
    marker = request.node.get_closest_marker
    if not marker("zero_downtime") or marker("multinode") or _quiet:
        return
    _quiet.append(True)
    lifecycle.up()  # what the test's own fixtures do first; it waits until a restarted node answers
    cluster = clear_leftovers(kind.cluster())
    last: list[str] = []

    def quiet() -> bool:
        last[:] = terminating(cluster)
        return not last

    wait.until(quiet, timeout=240, interval=2, what="the cluster is still stopping what earlier tests left",
               detail=lambda: ", ".join(last[:10]))
