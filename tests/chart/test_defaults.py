"""Zero-downtime, availability and security defaults, without asking."""

from __future__ import annotations

from tests.chart.render import render


def test_default_render_is_deployment_service_pdb_serviceaccount():
    out = render()
    assert [k for k in out.kinds() if k != "Pod"] == [
        "Deployment", "PodDisruptionBudget", "Service", "ServiceAccount"]


def test_rolling_update_never_drops_below_desired():
    spec = render().one("Deployment")["spec"]
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}
    assert spec["minReadySeconds"] == 5
    assert spec["revisionHistoryLimit"] == 5
    assert spec["progressDeadlineSeconds"] == 600
    assert spec["replicas"] == 2


def test_readiness_probe_on_named_port_by_default():
    container = render().container()
    assert container["readinessProbe"]["httpGet"] == {"path": "/", "port": "http"}
    assert "livenessProbe" not in container and "startupProbe" not in container
    assert {"name": "http", "containerPort": 8080, "protocol": "TCP"} in container["ports"]


def test_optional_startup_and_liveness_probes():
    container = render({"probes": {"startup": {"enabled": True}, "liveness": {"enabled": True}}}).container()
    assert container["startupProbe"]["httpGet"]["port"] == "http"
    assert container["livenessProbe"]["httpGet"]["port"] == "http"


def test_prestop_native_sleep_and_grace_period():
    out = render()
    pod = out.one("Deployment")["spec"]["template"]["spec"]
    assert pod["containers"][0]["lifecycle"] == {"preStop": {"sleep": {"seconds": 10}}}
    assert pod["terminationGracePeriodSeconds"] == 30


def test_prestop_exec_fallback_for_older_clusters():
    container = render({"lifecycle": {"preStop": {"mode": "exec", "execCommand": ["/bin/sleep", "5"]}}}).container()
    assert container["lifecycle"]["preStop"] == {"exec": {"command": ["/bin/sleep", "5"]}}


def test_prestop_none_renders_no_lifecycle():
    assert "lifecycle" not in render({"lifecycle": {"preStop": {"mode": "none"}}}).container()


def test_restricted_pod_security_standard_by_default():
    out = render()
    pod = out.one("Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"] == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    sc = pod["containers"][0]["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["runAsNonRoot"] is True
    assert {"name": "tmp", "mountPath": "/tmp"} in pod["containers"][0]["volumeMounts"]
    assert {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}} in pod["volumes"]


def test_service_account_token_not_mounted_unless_asked():
    out = render()
    assert out.one("Deployment")["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
    assert out.one("ServiceAccount")["automountServiceAccountToken"] is False
    asked = render({"serviceAccount": {"automountServiceAccountToken": True}})
    assert asked.one("Deployment")["spec"]["template"]["spec"]["automountServiceAccountToken"] is True


def test_every_security_default_can_be_overridden():
    out = render({"securityContext": None,
                  "podSecurityContext": {"runAsUser": 1000, "runAsNonRoot": True, "seccompProfile": None},
                  "tmpVolume": {"enabled": False}})
    pod = out.one("Deployment")["spec"]["template"]["spec"]
    assert "securityContext" not in pod["containers"][0]
    assert pod["securityContext"] == {"runAsUser": 1000, "runAsNonRoot": True}
    assert "volumes" not in pod


def test_pdb_automatic_with_replicas_above_one():
    assert render({"replicaCount": 3}).one("PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    assert render({"replicaCount": 1}).all("PodDisruptionBudget") == []


def test_pdb_automatic_with_autoscaling_even_at_one_replica():
    out = render({"replicaCount": 1, "autoscaling": {"enabled": True}})
    assert len(out.all("PodDisruptionBudget")) == 1


def test_pdb_forced_on_and_off():
    assert render({"replicaCount": 1, "podDisruptionBudget": {"enabled": True}}).all("PodDisruptionBudget")
    assert not render({"replicaCount": 5, "podDisruptionBudget": {"enabled": False}}).all("PodDisruptionBudget")
    pdb = render({"podDisruptionBudget": {"minAvailable": "50%"}}).one("PodDisruptionBudget")["spec"]
    assert pdb["minAvailable"] == "50%" and "maxUnavailable" not in pdb


def test_hpa_leaves_replicas_unset():
    out = render({"autoscaling": {"enabled": True, "minReplicas": 3, "maxReplicas": 9,
                                  "targetMemoryUtilizationPercentage": 80}})
    assert "replicas" not in out.one("Deployment")["spec"]
    hpa = out.one("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "rel-portico"}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 9)
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu", "memory"]


def test_config_and_secret_changes_roll_the_pods():
    def annotations(data: str) -> dict:
        out = render({"configMap": {"enabled": True, "data": {"k": data}},
                      "secret": {"enabled": True, "stringData": {"p": "s"}}})
        return out.one("Deployment")["spec"]["template"]["metadata"]["annotations"]

    first, second = annotations("one"), annotations("two")
    assert set(first) == {"checksum/config", "checksum/secret"}
    assert first["checksum/config"] != second["checksum/config"]
    assert first["checksum/secret"] == second["checksum/secret"]


def test_topology_spread_presets():
    pod = render({"topologySpread": {"preset": "zone-and-host"}}).one("Deployment")["spec"]["template"]["spec"]
    constraints = pod["topologySpreadConstraints"]
    assert [c["topologyKey"] for c in constraints] == ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
    assert constraints[0]["labelSelector"] == {
        "matchLabels": {"app.kubernetes.io/name": "portico", "app.kubernetes.io/instance": "rel"}}
    host_only = render({"topologySpread": {"preset": "host", "whenUnsatisfiable": "DoNotSchedule"}})
    (c,) = host_only.one("Deployment")["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert c["whenUnsatisfiable"] == "DoNotSchedule"


def test_selector_labels_exclude_anything_that_changes_on_upgrade():
    out = render()
    selector = out.one("Deployment")["spec"]["selector"]["matchLabels"]
    assert selector == {"app.kubernetes.io/name": "portico", "app.kubernetes.io/instance": "rel"}
    assert out.one("Service")["spec"]["selector"] == selector
    assert out.one("PodDisruptionBudget")["spec"]["selector"]["matchLabels"] == selector
