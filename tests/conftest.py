"""Shared fixtures. Cluster tests carry @pytest.mark.cluster (see pyproject)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CHART = REPO / "charts" / "portico"
# Real public charts (../shared/corpus beside the checkout, as CI lays it out).
CORPUS = REPO.parent / "shared" / "corpus" / "charts"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.hookimpl(wrapper=True)  # marks before every other implementation: xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Streams under `pytest -n 3 --dist loadgroup` (`make test`): the tests that use the local cluster, one
    after the other (they share its NodePorts and its Traefik), beside the tests that need only this machine, one
    after the other, beside `ct install` (marker `own_stream`: it pins no NodePort and takes four minutes). The
    cluster tests mostly wait on the cluster with the CPU idle, so the others fit in beside them. The
    zero-downtime tests, which count every failed request under load, run apart with the machine to themselves
    (the `zero_downtime` marker); those on the multi-node cluster (the `multinode` marker, set here from the
    fixture) run first, before the one-node cluster exists (Makefile)."""
    for item in items:
        if item.get_closest_marker("own_stream"):
            group = item.nodeid.split("::")[0]
        else:
            group = "cluster" if item.get_closest_marker("cluster") else "local"
        item.add_marker(pytest.mark.xdist_group(group))
        if "multi_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.multinode)
    return (yield)


def untagged(ids: list[str]) -> list[str]:
    """Test ids a worker collected without xdist's `@group` tag. Every test here has a group (above), so under
    `--dist loadgroup` each id must carry one: with pytest 9.2 and pytest-xdist 3.8 the tag silently does not take
    (pytest-dev/pytest-xdist#1386) and the tests are dealt out one by one, cluster tests side by side."""
    return [i for i in ids if "@" not in i.rsplit("]", 1)[-1]]


def pytest_xdist_node_collection_finished(node, ids):
    """On the controller, before any test runs: a grouping that did not take stops the run (exit 2)."""
    if node.config.getvalue("dist") == "loadgroup" and (lost := untagged(ids)):
        pytest.exit(f"pytest-xdist did not group {len(lost)} of {len(ids)} tests (first: {lost[0]}): this pytest "
                    "and pytest-xdist do not work together for --dist loadgroup; install tools/requirements.lock",
                    returncode=2)
