"""Workload kinds: a DaemonSet next to Deployment and StatefulSet, on helm 4 and helm 3."""

from __future__ import annotations

import pytest

from tests.chart.render import render, render_error


@pytest.mark.parametrize("helm", ["helm", "helm3"])
def test_a_daemonset_runs_a_pod_per_node_with_the_same_pod(helm):
    out = render({"workload": {"kind": "DaemonSet"}, "replicaCount": 3}, helm=helm)
    ds = out.one("DaemonSet")
    assert "replicas" not in ds["spec"]
    # The zero-downtime default: each node's new pod is ready before its old one goes.
    assert ds["spec"]["updateStrategy"] == {"type": "RollingUpdate",
                                            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}
    deployment = render({"replicaCount": 3}, helm=helm).one("Deployment")
    assert ds["spec"]["template"] == deployment["spec"]["template"]
    assert ds["spec"]["selector"] == deployment["spec"]["selector"]
    # Services select it like any workload; no HPA, and no PDB unless asked (drains leave DaemonSet pods alone).
    assert out.one("Service")["spec"]["selector"] == ds["spec"]["selector"]["matchLabels"]
    assert "Deployment" not in out.kinds() and "PodDisruptionBudget" not in out.kinds()
    asked = render({"workload": {"kind": "DaemonSet"}, "podDisruptionBudget": {"enabled": True}}, helm=helm)
    assert asked.one("PodDisruptionBudget")


def test_a_daemonset_on_delete():
    ds = render({"workload": {"kind": "DaemonSet"}, "strategy": {"type": "OnDelete", "rollingUpdate": None}}).one(
        "DaemonSet")
    assert ds["spec"]["updateStrategy"] == {"type": "OnDelete"}


@pytest.mark.parametrize("helm", ["helm", "helm3"])
@pytest.mark.parametrize("values,message", [
    ({"autoscaling": {"enabled": True}},
     "autoscaling.enabled: a DaemonSet runs one pod per node and cannot be autoscaled; set it to false"),
    ({"strategy": {"type": "Recreate", "rollingUpdate": None}},
     "strategy.type: a DaemonSet updates with RollingUpdate or OnDelete, not Recreate"),
    ({"strategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}},
     "strategy.rollingUpdate.partition: only a StatefulSet has partitions"),
])
def test_what_a_daemonset_cannot_do_is_refused_in_plain_words(values, message, helm):
    assert message in render_error({"workload": {"kind": "DaemonSet"}, **values}, helm=helm)
