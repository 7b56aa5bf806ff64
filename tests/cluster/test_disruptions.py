"""Disruptions during the upgrade, on the chart's safe defaults: a pod deleted mid-rollout, the replica count
changed mid-rollout (as an HPA does), a failing new version rolled back, and a helm 3 release upgraded by
helm 4 (which switches to server-side apply). On the multi-node cluster, like the drains and the controls
(pods on two workers, the load on the NodePort, crossing nodes): zero failed requests (cluster marker)."""

from __future__ import annotations

import pytest

from portico.cluster import multinode
from portico.kube import Cluster
from portico.zerodowntime import check, disruptions, verdict
from tests.cluster.multi import MIN_REQUESTS, load, step
from tests.cluster.test_upgrade import SLOW_START, assert_zero_downtime, run_scenario, version

pytestmark = [pytest.mark.cluster, pytest.mark.zero_downtime]


@pytest.fixture
def cluster(multi_cluster):
    return multi_cluster


def scenario(cluster, name, before, after, expected, out_dir, **options):
    return run_scenario(cluster, name, before, after, expected, out_dir, load_targets=load(),
                        min_requests=MIN_REQUESTS, **options)


@pytest.fixture(scope="module")
def out_dir():
    from tests.conftest import REPO

    return REPO / "out" / "upgrade-check"


def assert_disrupted(report: verdict.UpgradeReport) -> None:
    assert report.disruptions_done, verdict.render_text(report)


def test_a_pod_deleted_mid_rollout_drops_nothing(cluster, out_dir):
    report = scenario(cluster, "delete-pod", step("a", SLOW_START, version("del-a")),
                          step("b", SLOW_START, version("del-b")), "del-b", out_dir,
                          disruptions=[disruptions.DeletePod()])
    assert_disrupted(report)
    assert_zero_downtime(report, MIN_REQUESTS)


def test_the_replica_count_changed_mid_rollout_drops_nothing_and_stays(cluster, out_dir):
    """autoscaling on: the chart renders no replicas, the HPA's scale-up mid-rollout (written to the scale
    subresource as the HPA controller does; the cluster has no metrics server) survives the upgrade."""
    hpa = {"autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 6}}
    report = scenario(cluster, "hpa-scale", step("a", SLOW_START, hpa, version("hpa-a")),
                          step("b", SLOW_START, hpa, version("hpa-b")), "hpa-b", out_dir,
                          disruptions=[disruptions.Scale(replicas=4)])
    assert_disrupted(report)
    assert_zero_downtime(report, MIN_REQUESTS)
    assert report.pods[-1].ready == 4, f"the upgrade took the scale-up back: {report.pods[-1]}"


def test_a_failing_new_version_is_rolled_back_without_dropping_a_request(cluster, out_dir):
    """B never becomes ready (it waits 10 minutes before serving): helm upgrade --rollback-on-failure fails
    after its timeout and rolls back; every request is answered, by A, throughout."""
    never_ready = {"env": {"STARTUP_DELAY": "600s"}}
    report = scenario(cluster, "rollback", step("a", SLOW_START, version("rb-a")),
                          step("b (never ready)", SLOW_START, never_ready, version("rb-b")), "rb-a", out_dir,
                          upgrade_args=check.rollback_args("helm"), upgrade_may_fail=True, upgrade_timeout="40s")
    assert "rolled back" in report.upgrade_error, f"helm upgrade should have failed and rolled back: {report}"
    assert_zero_downtime(report, MIN_REQUESTS)
    assert "rb-b" not in {v for _, _, v in report.version_timeline}, "B answered though it never got ready"


def test_a_helm3_release_upgraded_by_helm4_drops_nothing(cluster, out_dir):
    """helm 3 installs (client-side apply), helm 4 upgrades with server-side apply: the field-ownership
    change must not restart or drop anything beyond the rollout itself."""
    helm3 = Cluster(multinode.kubeconfig_path(), helm_binary="helm3")
    report = scenario(cluster, "helm3-to-helm4", step("helm 3 install", version("h3")),
                          step("helm 4 upgrade", version("h4")), "h4", out_dir, installer=helm3)
    assert_zero_downtime(report, MIN_REQUESTS)
