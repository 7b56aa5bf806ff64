"""Cluster access for the cluster tests: pytest-helm-charts' fixtures on the local kind cluster.

pytest-helm-charts reads the kubeconfig from a command-line option; here it is
the cluster `portico cluster up` creates (or finds), so `make test` needs no flags.
"""

from __future__ import annotations

import pytest

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
        _multi.append(multinode.up())
    return _multi[0]


def pytest_runtest_teardown(item, nextitem):
    if _multi and (nextitem is None or "multi_cluster" not in nextitem.fixturenames):
        _multi.clear()
        multinode.down()
