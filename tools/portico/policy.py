"""Policy rules over one render: zero-downtime, restricted security, exposure consistency, API deprecations.

Each rule has an id, a severity, a message (what is wrong), a doc line (why it
matters) and a hint (how to fix it). Rules cover every pod-owning kind and
compute rollout arithmetic the way the controllers do. No manifest, however
malformed, makes a rule raise: accessors tolerate wrong types, and a rule that
still fails reports a `policy/internal-error` finding instead of a traceback.

Suppressions: an object annotated `portico.dev/ignore: "<rule-id>[, <rule-id>...]"`
(kube-score's style) is exempt from those rules; a matrix file may disable a
rule for the whole run, with a reason.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

Doc = dict[str, Any]
POD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")
LONG_RUNNING = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")
SCALABLE = ("Deployment", "StatefulSet", "ReplicaSet")
IGNORE_ANNOTATION = "portico.dev/ignore"
ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Violation:
    rule: str
    kind: str
    name: str
    detail: str
    kubernetes_version: str = ""


@dataclass(frozen=True)
class Rule:
    id: str
    message: str
    hint: str
    check: Callable[["Render"], Iterable[tuple[Doc, str]]]
    doc: str = ""
    severity: str = ERROR


# --- tolerant accessors: a manifest may hold anything ------------------------------------------------------------

def _map(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return default


def _name(doc: Doc) -> str:
    return str(_map(doc.get("metadata")).get("name", ""))


def _template(doc: Doc) -> dict:
    """The pod template of any pod-owning kind (a CronJob's is one level deeper)."""
    spec = _map(doc.get("spec"))
    if doc.get("kind") == "CronJob":
        spec = _map(_map(_map(spec.get("jobTemplate")).get("spec")))
    return _map(spec.get("template"))


def _pod(doc: Doc) -> dict:
    return _map(_template(doc).get("spec"))


def _pod_labels(doc: Doc) -> dict:
    return _map(_map(_template(doc).get("metadata")).get("labels"))


def _containers(doc: Doc, init: bool = True) -> list[dict]:
    pod = _pod(doc)
    found = _list(pod.get("containers")) + (_list(pod.get("initContainers")) if init else [])
    return [c for c in found if isinstance(c, dict)]


# Labels controllers put on pods that no pod template carries (a Service per StatefulSet replica selects them).
CONTROLLER_LABELS = ("statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index", "pod-template-hash",
                     "controller-revision-hash", "pod-template-generation")


def _selects(selector: Any, labels: dict) -> bool:
    selector = {k: v for k, v in _map(selector).items() if k not in CONTROLLER_LABELS}
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _replicas(doc: Doc) -> int:
    return _int(_map(doc.get("spec")).get("replicas"), 1)


def scaled_value(value: Any, total: int, round_up: bool) -> int:
    """An int-or-percent rollout field against a replica count, rounded as the controllers round it."""
    if isinstance(value, str) and value.endswith("%"):
        try:
            percent = float(value[:-1])
        except ValueError:
            return 0
        exact = percent * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return _int(value, 0)


class Render:
    """The parsed objects of one render, indexed for the rules."""

    def __init__(self, docs: list[Any]):
        docs = [d for d in docs if isinstance(d, dict)]
        # `kind: List` documents count as their items, as helm applies them.
        docs = [i for d in docs for i in ((d.get("items") if isinstance(d.get("items"), list) else [])
                                          if d.get("kind") == "List" else [d])]
        self.docs = [d for d in docs if isinstance(d, dict) and isinstance(d.get("kind"), str)]

    def of(self, *kinds: str) -> list[Doc]:
        return [d for d in self.docs if d["kind"] in kinds]

    def service(self, name: Any) -> Doc | None:
        return next((s for s in self.of("Service") if _name(s) == name), None)

    def selected(self, workload: Doc) -> bool:
        """A Service in this render sends traffic to these pods: it selects them on a port that is not only for
        Prometheus to scrape (a node agent's metrics Service carries no user traffic)."""
        labels = _pod_labels(workload)
        return any(_selects(spec.get("selector"), labels) and
                   any(not _scrape_only(_map(port)) for port in _list(spec.get("ports")))
                   for spec in (_map(s.get("spec")) for s in self.of("Service")))

    def pdb_covers(self, workload: Doc) -> bool:
        labels = _pod_labels(workload)
        return any(_selects(_map(_map(p.get("spec")).get("selector")).get("matchLabels"), labels)
                   for p in self.of("PodDisruptionBudget"))

    def hpa_for(self, workload: Doc) -> Doc | None:
        for hpa in self.of("HorizontalPodAutoscaler"):
            ref = _map(_map(hpa.get("spec")).get("scaleTargetRef"))
            if ref.get("kind") == workload["kind"] and ref.get("name") == _name(workload):
                return hpa
        return None


# --- zero-downtime ------------------------------------------------------------------------------------------------

# A Service port for Prometheus to scrape (metrics, http-metrics, tcp-prometheus-servicemonitor): scrapes are
# retried on the next interval and do not wait for readiness, so such a port sends no user traffic.
_SCRAPE_PORT = re.compile(r"metrics|prometheus|monitoring")


def _scrape_only(port: dict) -> bool:
    names = [port.get("name"), port.get("targetPort")]
    return any(isinstance(n, str) and _SCRAPE_PORT.search(n) for n in names)


def _served_containers(render: Render, workload: Doc) -> list[dict]:
    """The containers a Service selecting these pods sends traffic to (by targetPort name or number)."""
    containers = _containers(workload, init=False)
    labels = _pod_labels(workload)
    targets: set[Any] = set()
    for svc in render.of("Service"):
        spec = _map(svc.get("spec"))
        if _selects(spec.get("selector"), labels):
            for port in _list(spec.get("ports")):
                port = _map(port)
                target = port.get("targetPort", port.get("port"))
                if isinstance(target, (str, int)) and not _scrape_only(port):
                    targets.add(target)
    if not targets:
        return []
    def declares(port: Any) -> bool:
        port = _map(port)
        return any(isinstance(v, (str, int)) and v in targets for v in (port.get("name"), port.get("containerPort")))

    served = [c for c in containers if any(declares(p) for p in _list(c.get("ports")))]
    # A targetPort no container declares still reaches the pod: hold the first container to it.
    return served or containers[:1]


def _readiness(render: Render):
    for w in render.of(*LONG_RUNNING):
        # Containers no Service sends traffic to (sidecars, workers) do not decide who gets requests.
        for c in _served_containers(render, w):
            if not c.get("readinessProbe"):
                yield w, f"container {c.get('name')} has no readinessProbe"


def _max_unavailable(render: Render):
    for w in render.of("Deployment"):
        strategy = _map(_map(w.get("spec")).get("strategy"))
        if strategy.get("type") == "Recreate":
            yield w, "strategy Recreate stops every pod before starting new ones"
            continue
        rolling = _map(strategy.get("rollingUpdate"))
        hpa = render.hpa_for(w)
        replicas = _int(_map(hpa.get("spec")).get("minReplicas"), 1) if hpa else _replicas(w)
        raw = rolling.get("maxUnavailable", "25%")
        unavailable = scaled_value(raw, replicas, round_up=False)
        surge = scaled_value(rolling.get("maxSurge", "25%"), replicas, round_up=True)
        if unavailable == 0 and surge == 0:
            unavailable = 1  # the controller's rule: a rollout must be able to make progress
        if unavailable >= replicas:
            yield w, (f"maxUnavailable {raw} of {replicas} replica(s) lets the rollout take every pod away "
                      f"(maxSurge {rolling.get('maxSurge', '25%')})")
        elif unavailable > 0 and not render.pdb_covers(w):
            yield w, f"maxUnavailable {raw} ({unavailable} of {replicas} pods) and no PodDisruptionBudget covers them"
    for w in render.of("DaemonSet"):
        strategy = _map(_map(w.get("spec")).get("updateStrategy"))
        if not render.selected(w):
            continue  # a node agent nobody sends traffic to
        if _node_bound(w):
            continue  # a surge pod cannot start on a node where the old pod holds the host's port
        if strategy.get("type") == "OnDelete":
            continue
        surge = _map(strategy.get("rollingUpdate")).get("maxSurge", 0)
        if str(surge) in ("0", "0%"):
            yield w, "maxSurge 0: each node's pod stops before its replacement is ready"


def _prestop_seconds(container: dict) -> int | None:
    pre = _map(_map(container.get("lifecycle")).get("preStop"))
    if "sleep" in pre:
        return _int(_map(pre["sleep"]).get("seconds"), 0)
    command = " ".join(map(str, _list(_map(pre.get("exec")).get("command"))))
    match = re.search(r"\bsleep\s+(\d+)", command)
    return int(match.group(1)) if match else None


def _prestop_vs_grace(render: Render):
    for w in render.of(*POD_KINDS):
        grace = _int(_pod(w).get("terminationGracePeriodSeconds"), 30)
        for c in _containers(w, init=False):
            seconds = _prestop_seconds(c)
            if seconds is not None and seconds >= grace:
                yield w, f"container {c.get('name')}: preStop sleeps {seconds}s, grace period is {grace}s"


def _replicas_pdb(render: Render):
    for w in render.of(*SCALABLE):
        replicas = _replicas(w)
        hpa = render.hpa_for(w)
        if (replicas > 1 or hpa) and not render.pdb_covers(w):
            what = "an HPA" if hpa else f"{replicas} replicas"
            yield w, f"{what} but no PodDisruptionBudget covers the pods"


def _hpa_vs_replicas(render: Render):
    for w in render.of(*SCALABLE):
        spec = _map(w.get("spec"))
        if render.hpa_for(w) and spec.get("replicas") is not None:
            yield w, f"sets replicas: {spec['replicas']} while an HPA scales it; each upgrade resets the HPA's count"


# --- restricted Pod Security Standard -------------------------------------------------------------------------------

def _security(render: Render):
    for w in render.of(*POD_KINDS):
        pod_sc = _map(_pod(w).get("securityContext"))
        for c in _containers(w):
            sc = _map(c.get("securityContext"))
            name = c.get("name")
            if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
                yield w, f"container {name}: runAsNonRoot is not true"
            seccomp = _map(sc.get("seccompProfile") or pod_sc.get("seccompProfile")).get("type")
            if seccomp not in ("RuntimeDefault", "Localhost"):
                yield w, f"container {name}: seccompProfile is {seccomp or 'unset'}, want RuntimeDefault"
            if sc.get("allowPrivilegeEscalation") is not False:
                yield w, f"container {name}: allowPrivilegeEscalation is not false"
            if "ALL" not in _list(_map(sc.get("capabilities")).get("drop")):
                yield w, f"container {name}: capabilities do not drop ALL"
            if sc.get("privileged") is True:
                yield w, f"container {name}: privileged"


def _read_only_root(render: Render):
    for w in render.of(*POD_KINDS):
        for c in _containers(w):
            if _map(c.get("securityContext")).get("readOnlyRootFilesystem") is not True:
                yield w, f"container {c.get('name')}: readOnlyRootFilesystem is not true"


# --- exposure consistency -------------------------------------------------------------------------------------------

def _service_port_exists(service: Doc, port: Any) -> bool:
    for p in _list(_map(service.get("spec")).get("ports")):
        p = _map(p)
        if (isinstance(port, str) and p.get("name") == port) or (not isinstance(port, str) and p.get("port") == port):
            return True
    return False


def _ingress_port(port: Any) -> Any:
    port = _map(port)
    return port.get("name") if "name" in port else port.get("number")


def _ingress_backends(ing: Doc) -> Iterator[tuple[Any, Any]]:
    spec = _map(ing.get("spec"))
    default = _map(_map(spec.get("defaultBackend")).get("service"))
    if default:
        yield default.get("name"), _ingress_port(default.get("port"))
    for rule in _list(spec.get("rules")):
        for path in _list(_map(_map(rule).get("http")).get("paths")):
            svc = _map(_map(_map(path).get("backend")).get("service"))
            if svc:
                yield svc.get("name"), _ingress_port(svc.get("port"))


def _route_backends(route: Doc) -> Iterator[tuple[Any, Any]]:
    namespace = _map(route.get("metadata")).get("namespace")
    for rule in _list(_map(route.get("spec")).get("rules")):
        for ref in _list(_map(rule).get("backendRefs")):
            ref = _map(ref)
            if ref.get("kind", "Service") == "Service" and ref.get("namespace", namespace) == namespace:
                yield ref.get("name"), ref.get("port")


def _backend_ports(render: Render):
    sources = [(d, _ingress_backends(d)) for d in render.of("Ingress")]
    sources += [(d, _route_backends(d)) for d in render.of("HTTPRoute", "GRPCRoute")]
    for doc, backends in sources:
        for service_name, port in backends:
            service = render.service(service_name)
            if service is None:
                yield doc, f"backend Service {service_name} is not in this render"
            elif not _service_port_exists(service, port):
                yield doc, f"backend {service_name}:{port} names no port of Service {service_name}"


def _node_bound(workload: Doc) -> bool:
    """Pods that hold a port of their node (hostNetwork, or a hostPort): two cannot run on one node."""
    return _pod(workload).get("hostNetwork") is True or any(
        _map(p).get("hostPort") for c in _containers(workload) for p in _list(c.get("ports")))


INSIDE, OUTSIDE, RUNTIME = "inside", "outside", "runtime"
# Labels Kubernetes' own controllers put on the pods they make: a per-pod Service selects them by these.
CONTROLLER_LABELS = {
    "StatefulSet": frozenset({"statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index",
                              "controller-revision-hash"}),
    "DaemonSet": frozenset({"controller-revision-hash", "pod-template-generation"}),
    "Deployment": frozenset({"pod-template-hash"}),
}


def _unmatched_selectors(render: Render) -> Iterator[tuple[Doc, dict, str]]:
    """(Service, selector, where it aims) for each selector that matches no pod template here.

    Not reported: pods an operator makes from a custom resource of this render (a selector value names the
    resource, as the Prometheus operator's `alertmanager: NAME`), and labels Kubernetes' controllers add.
    OUTSIDE: no selector key is a label of any pod template here (`k8s-app: kube-dns`, pods of another
    release). RUNTIME: the selector matches a pod template but for keys no template sets (`vault-active`,
    `operator: leader`): labels the app or an operator adds at runtime; the selector given is those keys."""
    workloads = render.of(*POD_KINDS)
    if not workloads:
        return  # service-only: the pods live elsewhere
    custom = {_name(d) for d in render.docs if _custom(d)}
    keys = {k for w in workloads for k in _pod_labels(w)}
    for svc in render.of("Service"):
        selector = _map(_map(svc.get("spec")).get("selector"))
        if not selector or any(_selects(selector, _pod_labels(w)) for w in workloads):
            continue
        if custom & {str(v) for v in selector.values()}:
            continue
        templated = {k: v for k, v in selector.items() if k in keys}
        matched = [w for w in workloads if templated and _selects(templated, _pod_labels(w))]
        if templated != selector and matched:
            untemplated = {k: v for k, v in selector.items() if k not in keys}
            if any(set(untemplated) <= CONTROLLER_LABELS.get(w.get("kind"), frozenset()) for w in matched):
                continue  # the workload's controller sets these on the pods it makes
            if any(difflib.get_close_matches(k, keys, n=1, cutoff=0.8) for k in untemplated):
                yield svc, selector, INSIDE  # `compnent` beside `component`: a typo, not a runtime label
                continue
            yield svc, untemplated, RUNTIME
            continue
        yield svc, selector, INSIDE if keys & set(selector) else OUTSIDE


BUILTIN_GROUPS = ("", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "rbac.authorization.k8s.io",
                  "storage.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io",
                  "certificates.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io",
                  "flowcontrol.apiserver.k8s.io", "node.k8s.io", "scheduling.k8s.io", "resource.k8s.io",
                  "internal.apiserver.k8s.io", "storagemigration.k8s.io")


def _custom(doc: Doc) -> bool:
    group = str(doc.get("apiVersion", "")).rpartition("/")[0]
    return group not in BUILTIN_GROUPS


def _selector_matches(render: Render):
    for svc, selector, aim in _unmatched_selectors(render):
        if aim == INSIDE:
            yield svc, f"selector {selector} matches no pod template in this render"


def _selector_outside(render: Render):
    for svc, selector, aim in _unmatched_selectors(render):
        if aim == OUTSIDE:
            yield svc, (f"selector {selector} uses no label of this render's pod templates: it selects pods made "
                        f"elsewhere (system pods, another release)")
        elif aim == RUNTIME:
            yield svc, (f"selector matches this chart's pods only once they carry {selector}, which no pod template "
                        f"sets: a label the app or an operator adds at runtime (leader election, active/standby), "
                        f"or a typo")


def _target_port_names(render: Render):
    """A named targetPort resolves per pod: a Service over several workloads (dremio's coordinators) reaches the
    port on the pods that have it, so only a name none of them has is a fault. A headless Service forwards
    nothing (clients dial the pods' addresses themselves): a missing name costs it only an SRV record."""
    workloads = render.of(*POD_KINDS)
    for svc in render.of("Service"):
        spec = _map(svc.get("spec"))
        if spec.get("clusterIP") == "None":
            continue
        selected = [w for w in workloads if _selects(spec.get("selector"), _pod_labels(w))]
        names = {_map(p).get("name") for w in selected for c in _containers(w, init=False)
                 for p in _list(c.get("ports"))}
        for port in _list(spec.get("ports")):
            target = _map(port).get("targetPort")
            if selected and isinstance(target, str) and target not in names:
                which = ", ".join(f"{w['kind']} {_name(w)}" for w in selected)
                yield svc, f"targetPort {target!r} is not a container port of {which}"


RULES: tuple[Rule, ...] = (
    Rule("zero-downtime/readiness-probe", "a container a Service sends traffic to has no readiness probe",
         "add a readinessProbe, or traffic reaches pods before they can serve it", _readiness,
         doc="without one, a new pod gets traffic the moment it starts"),
    Rule("zero-downtime/max-unavailable", "rollouts may take ready pods away with nothing to protect them",
         "set strategy.rollingUpdate.maxUnavailable: 0 with a surge (DaemonSets: maxSurge 1), or add a "
         "PodDisruptionBudget", _max_unavailable,
         doc="computed as the controller does: percentages against replicas, maxUnavailable rounded down, "
             "maxSurge up"),
    Rule("zero-downtime/prestop-under-grace", "the preStop sleep does not end before the grace period",
         "keep lifecycle.preStop.seconds below terminationGracePeriodSeconds", _prestop_vs_grace,
         doc="the kubelet kills the container when the grace period ends, mid-drain"),
    Rule("zero-downtime/replicas-need-pdb", "several replicas (or an HPA) without a PodDisruptionBudget",
         "add a PodDisruptionBudget so node drains keep some pods serving", _replicas_pdb,
         doc="a node drain may evict every replica at once"),
    Rule("zero-downtime/hpa-owns-replicas", "a workload sets replicas while an HPA scales it",
         "leave spec.replicas unset when autoscaling is on", _hpa_vs_replicas,
         doc="every helm upgrade resets the replica count the HPA chose"),
    Rule("security/restricted-pss", "a container misses a field of the restricted Pod Security Standard",
         "set runAsNonRoot, seccompProfile RuntimeDefault, allowPrivilegeEscalation false and drop ALL", _security,
         doc="a namespace enforcing restricted Pod Security refuses the pod"),
    Rule("security/read-only-root", "a container's root filesystem is writable",
         "set readOnlyRootFilesystem: true and mount an emptyDir where the app writes", _read_only_root,
         doc="a writable root lets an intruder change the container's binaries"),
    Rule("exposure/backend-port", "an Ingress or route backend names no Service port of this render",
         "point the backend at an existing Service and one of its port names or numbers", _backend_ports,
         doc="the controller answers 503 for every request"),
    Rule("exposure/selector-matches-pods", "a Service selector matches no pod template",
         "make the Service selector a subset of the pod template labels", _selector_matches,
         doc="the Service has no endpoints"),
    Rule("exposure/selector-outside-release", "a Service selects pods this chart does not template",
         "nothing to do when those pods come from elsewhere on purpose (the cluster's system pods, another release) "
         "or the app labels its own pods at runtime (a leader); otherwise use the labels of this chart's pod "
         "template", _selector_outside,
         doc="the Service has endpoints only where such pods run", severity=WARNING),
    Rule("exposure/target-port-name", "a Service targetPort name is not a container port name",
         "name the container port as the targetPort does, or use a number", _target_port_names,
         doc="the endpoint has no port; connections are refused"),
)

# (group, version, kind) -> (deprecated in, removed in, replacement), as Kubernetes' deprecation guide lists them.
DEPRECATED_APIS: dict[tuple[str, str], tuple[str, str | None, str]] = {
    ("extensions/v1beta1", "Ingress"): ("1.14", "1.22", "networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", "Ingress"): ("1.19", "1.22", "networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", "IngressClass"): ("1.19", "1.22", "networking.k8s.io/v1"),
    ("policy/v1beta1", "PodDisruptionBudget"): ("1.21", "1.25", "policy/v1"),
    ("policy/v1beta1", "PodSecurityPolicy"): ("1.21", "1.25", "Pod Security admission"),
    ("batch/v1beta1", "CronJob"): ("1.21", "1.25", "batch/v1"),
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler"): ("1.22", "1.25", "autoscaling/v2"),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler"): ("1.23", "1.26", "autoscaling/v2"),
    ("discovery.k8s.io/v1beta1", "EndpointSlice"): ("1.21", "1.25", "discovery.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"): ("1.17", "1.22", "rbac.authorization.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"): ("1.17", "1.22", "rbac.authorization.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1beta1", "Role"): ("1.17", "1.22", "rbac.authorization.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1beta1", "RoleBinding"): ("1.17", "1.22", "rbac.authorization.k8s.io/v1"),
    ("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration"): ("1.16", "1.22",
                                                                              "admissionregistration.k8s.io/v1"),
    ("admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration"): ("1.16", "1.22",
                                                                                "admissionregistration.k8s.io/v1"),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"): ("1.16", "1.22", "apiextensions.k8s.io/v1"),
    ("apiregistration.k8s.io/v1beta1", "APIService"): ("1.19", "1.22", "apiregistration.k8s.io/v1"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"): ("1.19", "1.22", "certificates.k8s.io/v1"),
    ("coordination.k8s.io/v1beta1", "Lease"): ("1.19", "1.22", "coordination.k8s.io/v1"),
    ("scheduling.k8s.io/v1beta1", "PriorityClass"): ("1.14", "1.22", "scheduling.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSIDriver"): ("1.19", "1.22", "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "StorageClass"): ("1.19", "1.22", "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity"): ("1.24", "1.27", "storage.k8s.io/v1"),
    ("node.k8s.io/v1beta1", "RuntimeClass"): ("1.20", "1.25", "node.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"): ("1.23", "1.26", "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema"): ("1.26", "1.29", "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema"): ("1.29", "1.32", "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration"): ("1.29", "1.32",
                                                                            "flowcontrol.apiserver.k8s.io/v1"),
    ("autoscaling/v1", "HorizontalPodAutoscaler"): ("1.37", None, "autoscaling/v2"),
}
DEPRECATION_RULES = {
    "api/deprecated": Rule("api/deprecated", "an API version the target Kubernetes version deprecates",
                           "move to the replacement API version before it is removed", lambda r: (),
                           doc="it is still served, and will be removed", severity=WARNING),
    "api/removed": Rule("api/removed", "an API version the target Kubernetes version no longer serves",
                        "move to the replacement API version, or gate it on Capabilities.APIVersions", lambda r: (),
                        doc="the API server refuses the object", severity=ERROR),
}
INTERNAL_RULE = Rule("policy/internal-error", "a policy rule failed on this object",
                     "report it to portico with the manifest", lambda r: (), severity=ERROR)
UNKNOWN_SUPPRESSION = Rule("policy/unknown-suppression", f"an {IGNORE_ANNOTATION} annotation names no rule",
                           "use a rule id from `portico rules`", lambda r: (), severity=WARNING)


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def deprecations(docs: list[Any], versions: Iterable[str]) -> list[Violation]:
    """Objects whose apiVersion a target Kubernetes version deprecates or no longer serves (as Pluto reports)."""
    out = []
    for doc in Render(docs).docs:
        entry = DEPRECATED_APIS.get((str(doc.get("apiVersion")), doc["kind"]))
        if entry is None:
            continue
        deprecated, removed, replacement = entry
        for version in versions:
            if removed and _minor(version) >= _minor(removed):
                out.append(Violation("api/removed", doc["kind"], _name(doc),
                                     f"{doc['apiVersion']} {doc['kind']} was removed in {removed}; use {replacement}",
                                     version))
            elif _minor(version) >= _minor(deprecated):
                until = f", removed in {removed}" if removed else ""
                out.append(Violation("api/deprecated", doc["kind"], _name(doc),
                                     f"{doc['apiVersion']} {doc['kind']} is deprecated since {deprecated}{until}; "
                                     f"use {replacement}", version))
    return out


def rule_ids() -> list[str]:
    return [r.id for r in RULES] + list(DEPRECATION_RULES)


def suppressed(doc: Doc) -> set[str]:
    """Rules the object's annotation names, or its pod template's (where charts let users annotate pods)."""
    out = set()
    for meta in (_map(doc.get("metadata")), _map(_template(doc).get("metadata"))):
        raw = _map(meta.get("annotations")).get(IGNORE_ANNOTATION)
        out |= {part.strip() for part in str(raw).split(",") if part.strip()} if raw else set()
    return out


def check(docs: list[Any], disabled: Iterable[str] = ()) -> list[Violation]:
    render = Render(docs)
    skip = set(disabled)
    known = set(rule_ids())
    out: list[Violation] = []
    for doc in render.docs:
        for rule_id in sorted(suppressed(doc) - known):
            out.append(Violation(UNKNOWN_SUPPRESSION.id, doc["kind"], _name(doc),
                                 f"{IGNORE_ANNOTATION} names {rule_id!r}, which is not a rule"))
    for rule in RULES:
        if rule.id in skip:
            continue
        try:
            for doc, detail in rule.check(render):
                if rule.id not in suppressed(doc):
                    out.append(Violation(rule.id, doc.get("kind", ""), _name(doc), detail))
        except Exception as exc:  # noqa: BLE001 - a malformed manifest must never stop the run
            out.append(Violation(INTERNAL_RULE.id, "", "", f"{rule.id}: {type(exc).__name__}: {exc}"))
    return out


PROFILES = ("default", "restricted")
HARDENING = ("security/",)  # rules about hardening, not about what breaks an install, an upgrade or availability


def severity(rule_id: str, profile: str = "default") -> str:
    """A rule's severity under a profile: hardening is a warning unless the run asks for `restricted`."""
    rule = describe(rule_id)
    if rule.id.startswith(HARDENING) and profile != "restricted":
        return WARNING
    return rule.severity


def describe(rule_id: str) -> Rule:
    for rule in (*RULES, *DEPRECATION_RULES.values(), INTERNAL_RULE, UNKNOWN_SUPPRESSION):
        if rule.id == rule_id:
            return rule
    raise KeyError(rule_id)
