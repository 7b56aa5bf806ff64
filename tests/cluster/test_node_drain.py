"""The multi-node kind cluster (one control plane, two workers, pod routes between nodes): a node drained
mid-rollout drops nothing with the chart's defaults, a PodDisruptionBudget that lets every pod go is caught,
and so is each single-fault control of test_upgrade, with the pods spread over the workers and the load
crossing nodes (cluster marker). The cluster is made on first use and deleted after the last test that needs it (conftest)."""

from __future__ import annotations

import pytest

from portico.cluster import multinode
from portico.zerodowntime import disruptions, verdict
from tests.cluster import test_upgrade as up
from tests.cluster.multi import MIN_REQUESTS, control_load, load, step
from tests.cluster.test_upgrade import BASE, SLOW_START, assert_zero_downtime, merge, run_scenario, version

pytestmark = [pytest.mark.cluster, pytest.mark.zero_downtime]

TESTAPP = f"{BASE['image']['repository']}:{BASE['image']['tag']}"
# The control's app needs longer to start (15 s) than the preStop delay covers (10 s).
SLOWER_START = merge(SLOW_START, {"env": {"STARTUP_DELAY": "15s"}})


@pytest.fixture
def cluster(multi_cluster):
    return multi_cluster


@pytest.fixture(scope="module")
def out_dir():
    from tests.conftest import REPO

    return REPO / "out" / "upgrade-check"


def uncordon_all(cluster) -> None:
    for node in multinode.node_names():
        cluster.kubectl.run("uncordon", node, check=False)


def test_pods_reach_each_other_across_nodes(cluster):
    """The pod network spans the nodes: DNS (CoreDNS runs on one node) answers pods on every worker."""
    for index, node in enumerate(multinode.node_names()[1:], start=1):
        done = cluster.kubectl.run("run", f"reach-{index}", "--rm", "-i", "--restart=Never", "--quiet",
                                   f"--image={TESTAPP}", "--image-pull-policy=Never",
                                   f'--overrides={{"spec":{{"nodeName":"{node}"}}}}', "--",
                                   "get", "http://kube-dns.kube-system:9153/metrics", check=False, timeout=120)
        assert done.ok, f"a pod on {node} could not reach CoreDNS: {done.stderr}"


def test_a_node_drained_mid_rollout_drops_nothing(cluster, out_dir):
    drain = disruptions.DrainNode()
    try:
        report = run_scenario(cluster, "drain-node", step("a", SLOW_START, version("drain-a")),
                              step("b", SLOW_START, version("drain-b")), "drain-b", out_dir,
                              load_targets=load(), min_requests=MIN_REQUESTS, disruptions=[drain])
    finally:
        uncordon_all(cluster)
    assert report.disruptions_done, verdict.render_text(report)
    assert_zero_downtime(report, MIN_REQUESTS)


# name -> (the PodDisruptionBudget, caught: the run must fail)
DRAIN_ALL = {"drain-all-safe": ({"maxUnavailable": 1}, False), "pdb-allows-every-pod": ({"maxUnavailable": "100%"}, True)}


def run_drain_all(cluster, name: str, out_dir):
    """Both pods on one node (the other cordoned at install, opened as the upgrade starts), that node drained
    as the upgrade starts, the app needing 15 s to serve. `make soak` repeats it."""
    budget, _ = DRAIN_ALL[name]
    pdb = {"podDisruptionBudget": {"enabled": True, **budget}}
    workers = multinode.node_names()[1:]
    cluster.kubectl.run("cordon", workers[1])
    try:
        return run_scenario(cluster, name, step("a", SLOWER_START, pdb, version(f"{name}-a")),
                            step("b", SLOWER_START, pdb, version(f"{name}-b")), f"{name}-b", out_dir,
                            load_targets=load(), min_requests=MIN_REQUESTS,
                            disruptions=[_uncordon(cluster, workers[1]), disruptions.DrainNode(when="start")])
    finally:
        uncordon_all(cluster)


@pytest.mark.parametrize("name", DRAIN_ALL)
def test_a_drain_of_the_node_running_every_pod(cluster, out_dir, name):
    """The default budget evicts one pod at a time and drops nothing; a budget that lets every pod go is caught."""
    report = run_drain_all(cluster, name, out_dir)
    assert report.disruptions_done, verdict.render_text(report)
    if DRAIN_ALL[name][1]:
        assert report.failed > 0, f"a budget that lets every pod go was not caught\n{verdict.render_text(report)}"
    else:
        assert_zero_downtime(report, MIN_REQUESTS)


def _uncordon(cluster, node: str) -> disruptions.Disruption:
    """The cordoned worker opens again as the upgrade starts, so the drained pods have somewhere to go."""

    class Uncordon(disruptions.Disruption):
        def act(self, cluster_, namespace, labels, old, watcher):
            cluster.kubectl.run("uncordon", node)
            return f"uncordoned {node}"

    return Uncordon(name="uncordon", when="start")


def test_safe_defaults_on_several_nodes_drop_nothing(cluster, out_dir):
    """The controls' baseline: the same app and values without the fault pass."""
    report = up.run_control(cluster, "multi-safe-defaults", (SLOW_START,), out_dir, make_step=step,
                            load_targets=control_load(), min_requests=MIN_REQUESTS)
    assert_zero_downtime(report, MIN_REQUESTS)


@pytest.mark.parametrize("fault", up.SINGLE_FAULTS)
def test_single_fault_is_caught_on_several_nodes(cluster, out_dir, fault):
    report = up.run_control(cluster, f"multi-{fault}", (SLOW_START, up.SINGLE_FAULTS[fault]), out_dir,
                            make_step=step, load_targets=control_load(), min_requests=MIN_REQUESTS)
    assert report.failed > 0, f"{fault}: the check missed a single fault\n{verdict.render_text(report)}"
    assert not report.passed
