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


@pytest.mark.parametrize("helm", ["helm", "helm3"])
def test_a_job_runs_the_same_pod_to_completion(helm):
    out = render({"workload": {"kind": "Job"}, "job": {"completions": 3, "parallelism": 2}}, helm=helm)
    job = out.one("Job")
    # Each release revision its own Job: a Job's pod template cannot change in place.
    assert job["metadata"]["name"] == "rel-portico-r1"
    assert {k: job["spec"][k] for k in ("backoffLimit", "completions", "parallelism", "ttlSecondsAfterFinished")} \
        == {"backoffLimit": 3, "completions": 3, "parallelism": 2, "ttlSecondsAfterFinished": 86400}
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "OnFailure" and "selector" not in job["spec"]
    deployment = render({}, helm=helm).one("Deployment")["spec"]["template"]["spec"]
    assert pod["containers"] == deployment["containers"] and pod["securityContext"] == deployment["securityContext"]
    # No Services (and so no helm test pod), no PDB, no HPA unless asked.
    assert out.kinds() == ["Job", "ServiceAccount"]
    assert set(render({"workload": {"kind": "Job"}, "job": {"service": True}}, helm=helm).kinds()) >= {"Service"}


@pytest.mark.parametrize("helm", ["helm", "helm3"])
def test_a_cronjob_schedules_that_job(helm):
    out = render({"workload": {"kind": "CronJob"},
                  "cronJob": {"schedule": "*/15 * * * *", "timeZone": "Europe/Berlin", "startingDeadlineSeconds": 60}},
                 helm=helm)
    cron = out.one("CronJob")["spec"]
    assert (cron["schedule"], cron["timeZone"], cron["concurrencyPolicy"], cron["startingDeadlineSeconds"]) == (
        "*/15 * * * *", "Europe/Berlin", "Forbid", 60)
    job = render({"workload": {"kind": "Job"}}, helm=helm).one("Job")["spec"]
    assert cron["jobTemplate"]["spec"] == job


@pytest.mark.parametrize("helm", ["helm", "helm3"])
@pytest.mark.parametrize("values,message", [
    ({"workload": {"kind": "CronJob"}}, 'cronJob.schedule: required for workload.kind CronJob: a cron expression'),
    ({"workload": {"kind": "Job"}, "autoscaling": {"enabled": True}},
     "autoscaling.enabled: a Job runs pods to completion and cannot be autoscaled"),
    ({"workload": {"kind": "Job"}, "podDisruptionBudget": {"enabled": True}},
     "podDisruptionBudget.enabled: a Job's pods run to completion"),
    ({"workload": {"kind": "CronJob"}, "cronJob": {"schedule": "@daily"}, "expose": {"via": ["ingress"], "hosts": [
        {"host": "a.example.com", "paths": [{"path": "/"}]}]}},
     "expose.via: a CronJob serves no traffic unless asked; set job.service: true"),
    ({"workload": {"kind": "Job"}, "job": {"restartPolicy": "Always"}},
     "at '/job/restartPolicy': value must be one of 'OnFailure', 'Never'"),
])
def test_what_a_job_cannot_do_is_refused_in_plain_words(values, message, helm):
    assert message in render_error(values, helm=helm)
