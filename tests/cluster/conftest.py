"""Cluster access for the cluster tests: pytest-helm-charts' fixtures on the local kind cluster.

pytest-helm-charts reads the kubeconfig from a command-line option; here it is
the cluster `portico cluster up` creates (or finds), so `make test` needs no flags.
"""

from __future__ import annotations

import pytest

from portico.cluster import kind, lifecycle


@pytest.fixture(scope="module")
def kube_config() -> str:
    lifecycle.up()
    return str(kind.kubeconfig_path())
