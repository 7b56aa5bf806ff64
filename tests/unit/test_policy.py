"""Policy rules: right on the cases that decide them, and never a traceback on any manifest (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portico import policy

LABELS = {"app": "web"}


def deployment(replicas=1, strategy=None, containers=None, kind="Deployment", **spec):
    pod = {"containers": containers or [{"name": "web", "ports": [{"name": "http", "containerPort": 8080}],
                                         "readinessProbe": {"httpGet": {"port": "http"}}}]}
    body = {"replicas": replicas, "selector": {"matchLabels": LABELS},
            "template": {"metadata": {"labels": LABELS}, "spec": pod}, **spec}
    if strategy is not None:
        body["strategy" if kind == "Deployment" else "updateStrategy"] = strategy
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "web"}, "spec": body}


SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
           "spec": {"selector": LABELS, "ports": [{"port": 80, "targetPort": "http"}]}}


def rules(docs, rule):
    return [v for v in policy.check(docs) if v.rule == rule]


@pytest.mark.parametrize("replicas, unavailable, surge, flagged", [
    (1, "25%", "25%", False),   # floor(0.25) = 0 unavailable: the rollout surges first
    (4, "25%", "25%", True),    # one pod may go, no PDB
    (1, 1, 0, True),            # the only pod goes first
    (3, 0, 1, False),
    (2, "100%", 0, True),
    (10, "9%", "1%", False),    # floor(0.9) = 0
])
def test_max_unavailable_rounds_as_the_controller_does(replicas, unavailable, surge, flagged):
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": unavailable, "maxSurge": surge}}
    assert bool(rules([deployment(replicas, strategy), SERVICE], "zero-downtime/max-unavailable")) is flagged


def test_replicas_null_is_one_replica():
    assert rules([deployment(replicas=None)], "zero-downtime/replicas-need-pdb") == []


def test_every_pod_owning_kind_is_checked():
    bare = [{"name": "c", "image": "x"}]
    cron = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
            "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {"containers": bare}}}}}}
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
           "spec": {"template": {"spec": {"containers": bare}}}}
    ds = deployment(kind="DaemonSet", containers=bare)
    kinds = {v.kind for v in rules([cron, job, ds], "security/restricted-pss")}
    assert kinds == {"CronJob", "Job", "DaemonSet"}


def test_daemonset_behind_a_service_needs_a_surge():
    ds = deployment(kind="DaemonSet")
    assert rules([ds, SERVICE], "zero-downtime/max-unavailable")
    surged = deployment(kind="DaemonSet", strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1,
                                                                                                  "maxUnavailable": 0}})
    assert not rules([surged, SERVICE], "zero-downtime/max-unavailable")
    assert not rules([ds], "zero-downtime/max-unavailable")  # a node agent nobody sends traffic to
    # promtail's: a Service only Prometheus scrapes (http-metrics) sends no user traffic either.
    metrics = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "metrics"},
               "spec": {"selector": LABELS, "ports": [{"name": "http-metrics", "port": 3101,
                                                        "targetPort": "http-metrics"}]}}
    assert not rules([ds, metrics], "zero-downtime/max-unavailable")
    assert rules([ds, metrics, SERVICE], "zero-downtime/max-unavailable")


def test_selector_rule_sees_daemonset_pods():
    assert rules([deployment(kind="DaemonSet"), SERVICE], "exposure/selector-matches-pods") == []


def test_sidecars_without_ports_need_no_readiness_probe():
    containers = [{"name": "web", "ports": [{"name": "http", "containerPort": 8080}], "readinessProbe": {"x": 1}},
                  {"name": "reloader"}]
    assert rules([deployment(containers=containers), SERVICE], "zero-downtime/readiness-probe") == []
    containers[0].pop("readinessProbe")
    assert [v.detail for v in rules([deployment(containers=containers), SERVICE], "zero-downtime/readiness-probe")] \
        == ["container web has no readinessProbe"]


def test_a_port_only_prometheus_scrapes_needs_no_readiness_probe():
    """cert-manager's controller: its one Service port is for Prometheus (tcp-prometheus-servicemonitor ->
    http-metrics); scrapes do not wait for readiness, so no user traffic depends on a probe."""
    containers = [{"name": "controller", "ports": [{"name": "http-metrics", "containerPort": 9402}]}]
    metrics = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
               "spec": {"selector": LABELS, "ports": [{"name": "tcp-prometheus-servicemonitor", "port": 9402,
                                                        "targetPort": "http-metrics"}]}}
    assert rules([deployment(containers=containers), metrics], "zero-downtime/readiness-probe") == []
    # The control: the same container behind a port that serves requests still needs one.
    containers[0]["ports"].append({"name": "http", "containerPort": 8080})
    assert [v.detail for v in rules([deployment(containers=containers), metrics, SERVICE],
                                    "zero-downtime/readiness-probe")] == ["container controller has no readinessProbe"]


def test_ignore_annotation_suppresses_named_rules_and_reports_unknown_ones():
    doc = deployment(containers=[{"name": "c"}])
    doc["metadata"]["annotations"] = {policy.IGNORE_ANNOTATION: "security/restricted-pss, security/nope"}
    found = {v.rule for v in policy.check([doc])}
    assert "security/restricted-pss" not in found and "security/read-only-root" in found
    assert policy.UNKNOWN_SUPPRESSION.id in found


def test_deprecations_per_target_version():
    pdb = {"apiVersion": "policy/v1beta1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"}}
    hpa = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"}}
    found = {(v.rule, v.kind, v.kubernetes_version) for v in policy.deprecations([pdb, hpa], ["1.24", "1.30", "1.37"])}
    assert ("api/deprecated", "PodDisruptionBudget", "1.24") in found
    assert ("api/removed", "PodDisruptionBudget", "1.30") in found
    assert ("api/deprecated", "HorizontalPodAutoscaler", "1.37") in found
    assert not any(k == "HorizontalPodAutoscaler" and v == "1.30" for _, k, v in found)


def test_every_rule_is_described():
    for rule_id in policy.rule_ids():
        rule = policy.describe(rule_id)
        assert rule.message and rule.hint and rule.severity in ("error", "warning") and rule.doc, rule_id


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30)
KINDS = st.sampled_from([*policy.POD_KINDS, "Service", "Ingress", "HTTPRoute", "GRPCRoute", "PodDisruptionBudget",
                         "HorizontalPodAutoscaler", "ConfigMap"])
SPEC_KEYS = ["replicas", "strategy", "updateStrategy", "template", "selector", "ports", "rules", "jobTemplate",
             "scaleTargetRef", "defaultBackend"]
manifest = st.builds(
    lambda kind, meta, spec, extra: {"kind": kind, "apiVersion": "v1", "metadata": meta, "spec": spec, **extra},
    KINDS, json_like, st.one_of(json_like, st.dictionaries(st.sampled_from(SPEC_KEYS), json_like, max_size=5)),
    st.dictionaries(st.text(max_size=5), json_like, max_size=2))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(manifest, json_like), max_size=6))
def test_no_manifest_makes_a_rule_raise(docs):
    violations = policy.check(docs)
    assert not [v for v in violations if v.rule == policy.INTERNAL_RULE.id], violations
    policy.deprecations(docs, ["1.30", "1.37"])


@pytest.mark.parametrize("pod, flagged", [({}, True), ({"hostNetwork": True}, False),
                                          ({"containers": [{"name": "agent", "ports": [{"containerPort": 9100,
                                                                                       "hostPort": 9100}]}]}, False)])
def test_a_node_bound_daemonset_is_not_asked_to_surge(pod, flagged):
    """A node agent on the host's network (or a hostPort) cannot surge: the new pod cannot bind the node's port
    while the old pod holds it. The same DaemonSet without them is still flagged (the negative control)."""
    ds = deployment(kind="DaemonSet", strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0}})
    ds["spec"]["template"]["spec"].update(pod)
    assert bool(rules([ds, SERVICE], "zero-downtime/max-unavailable")) is flagged


def service(selector):
    return {**SERVICE, "metadata": {"name": "s"}, "spec": {**SERVICE["spec"], "selector": selector}}


def test_a_selector_aimed_outside_the_release_is_a_warning_not_an_error():
    docs = [deployment(), service({"k8s-app": "kube-dns"})]
    assert rules(docs, "exposure/selector-matches-pods") == []
    outside = rules(docs, "exposure/selector-outside-release")
    assert len(outside) == 1 and policy.describe(outside[0].rule).severity == "warning"
    # negative control: a label of this chart's pods with a wrong value is a mistake, an error
    typo = [deployment(), service({"app": "webb"})]
    assert len(rules(typo, "exposure/selector-matches-pods")) == 1
    assert rules(typo, "exposure/selector-outside-release") == []


def test_pods_an_operator_makes_from_a_rendered_custom_resource_are_not_reported():
    alertmanager = {"apiVersion": "monitoring.coreos.com/v1", "kind": "Alertmanager", "metadata": {"name": "main"}}
    selector = {"app.kubernetes.io/name": "alertmanager", "alertmanager": "main"}
    docs = [deployment(), alertmanager, service(selector)]
    assert rules(docs, "exposure/selector-matches-pods") == rules(docs, "exposure/selector-outside-release") == []
    # without the custom resource, nothing makes those pods
    assert rules([deployment(), service(selector)], "exposure/selector-outside-release")


def test_a_label_the_app_adds_at_runtime_is_a_warning_and_one_the_controller_adds_nothing():
    """vault's active Service (`vault-active: "true"`, set by vault on the leader) and minio-operator's
    (`operator: leader`): the rest of the selector matches the chart's pods. A StatefulSet's per-pod Service
    (`statefulset.kubernetes.io/pod-name`) selects what the controller labels: no finding."""
    active = [deployment(), service({**LABELS, "vault-active": "true"})]
    assert rules(active, "exposure/selector-matches-pods") == []
    [runtime] = rules(active, "exposure/selector-outside-release")
    assert "only once they carry {'vault-active': 'true'}" in runtime.detail
    per_pod = [deployment(kind="StatefulSet"), service({**LABELS, "statefulset.kubernetes.io/pod-name": "web-0"})]
    assert rules(per_pod, "exposure/selector-matches-pods") == rules(per_pod, "exposure/selector-outside-release") == []
    # the controls: a templated key with a wrong value beside the runtime one is still an error, so is a key
    # spelled like a templated one, and a StatefulSet's label on a Deployment's pods
    wrong = [deployment(), service({"app": "webb", "vault-active": "true"})]
    assert len(rules(wrong, "exposure/selector-matches-pods")) == 1
    labelled = deployment()
    labelled["spec"]["template"]["metadata"]["labels"] = {**LABELS, "component": "web"}
    typo = [labelled, service({**LABELS, "compnent": "web"})]
    assert len(rules(typo, "exposure/selector-matches-pods")) == 1
    elsewhere = [deployment(), service({**LABELS, "statefulset.kubernetes.io/pod-name": "web-7"})]
    assert rules(elsewhere, "exposure/selector-outside-release")


def test_a_named_target_port_needs_one_selected_workload_with_it_and_headless_services_forward_nothing():
    """dremio's Service spans its coordinators and names `client`, which only the pods that serve it define:
    a named targetPort resolves per pod."""
    with_port = deployment()
    without = deployment(containers=[{"name": "web", "ports": [{"name": "admin", "containerPort": 9090}],
                                      "readinessProbe": {"httpGet": {"port": "admin"}}}])
    without["metadata"] = {"name": "admin"}
    assert rules([with_port, without, SERVICE], "exposure/target-port-name") == []
    [only] = rules([without, SERVICE], "exposure/target-port-name")  # the control: no selected pod has it
    assert "'http' is not a container port of Deployment admin" in only.detail
    headless = {**SERVICE, "spec": {**SERVICE["spec"], "clusterIP": "None"}}
    assert rules([without, headless], "exposure/target-port-name") == []


def test_the_ignore_annotation_works_on_the_pod_template_too():
    bare = deployment(containers=[{"name": "c", "image": "x"}])
    assert rules([bare], "security/restricted-pss")
    bare["spec"]["template"]["metadata"]["annotations"] = {policy.IGNORE_ANNOTATION: "security/restricted-pss"}
    assert rules([bare], "security/restricted-pss") == []


def test_portico_rules_lists_every_rule_with_severity_and_fix():
    """The hints point at `portico rules`: it exists and names every rule a finding can carry."""
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "portico.cli", "rules", "--json"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    listed = {row["id"]: row for row in json.loads(done.stdout)}
    assert set(policy.rule_ids()) | {policy.INTERNAL_RULE.id, policy.UNKNOWN_SUPPRESSION.id} <= set(listed)
    assert {"kubeconform", "render", "upgrade/service-type", "admission/pod-security"} <= set(listed)
    assert all(row["severity"].split()[0] in ("error", "warning") and row["fix"] for row in listed.values())
    assert listed["security/restricted-pss"]["severity"].startswith("warning (error with policy.profile")


def test_hardening_is_a_warning_unless_the_profile_is_restricted():
    assert policy.severity("security/restricted-pss") == policy.severity("security/read-only-root") == "warning"
    assert policy.severity("security/restricted-pss", "restricted") == "error"
    # what breaks availability stays an error in every profile
    assert policy.severity("zero-downtime/max-unavailable") == "error"
