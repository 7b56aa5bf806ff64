"""Policy rules over one render: zero-downtime, restricted security, exposure consistency.

Each rule has an id, a message (what is wrong), a hint (how to fix it) and a
check that yields violations. A matrix file may disable a rule, with a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

Doc = dict[str, Any]
WORKLOAD_KINDS = ("Deployment", "StatefulSet")


@dataclass(frozen=True)
class Violation:
    rule: str
    kind: str
    name: str
    detail: str


@dataclass(frozen=True)
class Rule:
    id: str
    message: str
    hint: str
    check: Callable[["Render"], Iterable[tuple[Doc, str]]]


class Render:
    """The parsed objects of one render, indexed for the rules."""

    def __init__(self, docs: list[Doc]):
        self.docs = [d for d in docs if isinstance(d, dict) and "kind" in d]

    def of(self, *kinds: str) -> list[Doc]:
        return [d for d in self.docs if d["kind"] in kinds]

    def service(self, name: str) -> Doc | None:
        return next((s for s in self.of("Service") if s["metadata"].get("name") == name), None)


def _name(doc: Doc) -> str:
    return doc.get("metadata", {}).get("name", "")


def _pod(doc: Doc) -> Doc:
    return doc.get("spec", {}).get("template", {}).get("spec", {}) or {}


def _pod_labels(doc: Doc) -> dict[str, str]:
    return doc.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {}) or {}


def _containers(doc: Doc) -> list[Doc]:
    pod = _pod(doc)
    return list(pod.get("containers") or []) + list(pod.get("initContainers") or [])


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _pdb_covers(render: Render, workload: Doc) -> bool:
    labels = _pod_labels(workload)
    return any(_selects(p.get("spec", {}).get("selector", {}).get("matchLabels", {}), labels)
               for p in render.of("PodDisruptionBudget"))


def _hpa_for(render: Render, workload: Doc) -> Doc | None:
    for hpa in render.of("HorizontalPodAutoscaler"):
        ref = hpa.get("spec", {}).get("scaleTargetRef", {})
        if ref.get("kind") == workload["kind"] and ref.get("name") == _name(workload):
            return hpa
    return None


# --- zero-downtime ------------------------------------------------------------

def _readiness(render: Render):
    for w in render.of(*WORKLOAD_KINDS):
        for c in _pod(w).get("containers") or []:
            if not c.get("readinessProbe"):
                yield w, f"container {c.get('name')} has no readinessProbe"


def _max_unavailable(render: Render):
    for w in render.of("Deployment"):
        strategy = w.get("spec", {}).get("strategy", {}) or {}
        kind = strategy.get("type", "RollingUpdate")
        max_unavailable = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", "25%")
        if kind == "Recreate":
            yield w, "strategy Recreate stops every pod before starting new ones"
        elif str(max_unavailable) not in ("0", "0%") and not _pdb_covers(render, w):
            yield w, f"maxUnavailable is {max_unavailable} and no PodDisruptionBudget covers the pods"


def _prestop_seconds(container: Doc) -> int | None:
    pre = (container.get("lifecycle") or {}).get("preStop") or {}
    if "sleep" in pre:
        return int(pre["sleep"].get("seconds", 0))
    command = " ".join(map(str, (pre.get("exec") or {}).get("command") or []))
    match = re.search(r"\bsleep\s+(\d+)", command)
    return int(match.group(1)) if match else None


def _prestop_vs_grace(render: Render):
    for w in render.of(*WORKLOAD_KINDS):
        grace = _pod(w).get("terminationGracePeriodSeconds", 30)
        for c in _pod(w).get("containers") or []:
            seconds = _prestop_seconds(c)
            if seconds is not None and seconds >= grace:
                yield w, f"container {c.get('name')}: preStop sleeps {seconds}s, grace period is {grace}s"


def _replicas_pdb(render: Render):
    for w in render.of(*WORKLOAD_KINDS):
        replicas = w.get("spec", {}).get("replicas", 1)
        hpa = _hpa_for(render, w)
        if (replicas > 1 or hpa) and not _pdb_covers(render, w):
            what = "an HPA" if hpa else f"{replicas} replicas"
            yield w, f"{what} but no PodDisruptionBudget covers the pods"


def _hpa_vs_replicas(render: Render):
    for w in render.of(*WORKLOAD_KINDS):
        if _hpa_for(render, w) and "replicas" in w.get("spec", {}):
            yield w, f"sets replicas: {w['spec']['replicas']} while an HPA scales it; each upgrade resets the HPA's count"


# --- restricted Pod Security Standard ------------------------------------------

def _security(render: Render):
    for w in render.of(*WORKLOAD_KINDS):
        pod = _pod(w)
        pod_sc = pod.get("securityContext") or {}
        for c in _containers(w):
            sc = c.get("securityContext") or {}
            name = c.get("name")
            if not (sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True):
                yield w, f"container {name}: runAsNonRoot is not true"
            seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
            if seccomp not in ("RuntimeDefault", "Localhost"):
                yield w, f"container {name}: seccompProfile is {seccomp or 'unset'}, want RuntimeDefault"
            if sc.get("allowPrivilegeEscalation") is not False:
                yield w, f"container {name}: allowPrivilegeEscalation is not false"
            if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
                yield w, f"container {name}: capabilities do not drop ALL"
            if sc.get("privileged"):
                yield w, f"container {name}: privileged"


def _read_only_root(render: Render):
    for w in render.of(*WORKLOAD_KINDS):
        for c in _containers(w):
            if (c.get("securityContext") or {}).get("readOnlyRootFilesystem") is not True:
                yield w, f"container {c.get('name')}: readOnlyRootFilesystem is not true"


# --- exposure consistency ------------------------------------------------------

def _service_port_exists(service: Doc, port: Any) -> bool:
    for p in service.get("spec", {}).get("ports") or []:
        if (isinstance(port, str) and p.get("name") == port) or (not isinstance(port, str) and p.get("port") == port):
            return True
    return False


def _ingress_backends(ing: Doc) -> Iterator[tuple[str, Any]]:
    spec = ing.get("spec", {})
    default = (spec.get("defaultBackend") or {}).get("service")
    if default:
        yield default.get("name"), _ingress_port(default.get("port") or {})
    for rule in spec.get("rules") or []:
        for path in (rule.get("http") or {}).get("paths") or []:
            svc = (path.get("backend") or {}).get("service")
            if svc:
                yield svc.get("name"), _ingress_port(svc.get("port") or {})


def _ingress_port(port: Doc) -> Any:
    return port.get("name") if "name" in port else port.get("number")


def _route_backends(route: Doc) -> Iterator[tuple[str, Any]]:
    namespace = route.get("metadata", {}).get("namespace")
    for rule in route.get("spec", {}).get("rules") or []:
        for ref in rule.get("backendRefs") or []:
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


def _selector_matches(render: Render):
    workloads = render.of(*WORKLOAD_KINDS)
    if not workloads:
        return  # service-only: the pods live elsewhere
    for svc in render.of("Service"):
        selector = svc.get("spec", {}).get("selector")
        if selector and not any(_selects(selector, _pod_labels(w)) for w in workloads):
            yield svc, f"selector {selector} matches no pod template in this render"


def _target_port_names(render: Render):
    workloads = render.of(*WORKLOAD_KINDS)
    for svc in render.of("Service"):
        selector = svc.get("spec", {}).get("selector") or {}
        selected = [w for w in workloads if _selects(selector, _pod_labels(w))]
        for w in selected:
            names = {p.get("name") for c in _pod(w).get("containers") or [] for p in c.get("ports") or []}
            for port in svc.get("spec", {}).get("ports") or []:
                target = port.get("targetPort")
                if isinstance(target, str) and target not in names:
                    yield svc, f"targetPort {target!r} is not a container port of {w['kind']} {_name(w)}"


RULES: tuple[Rule, ...] = (
    Rule("zero-downtime/readiness-probe", "a container has no readiness probe",
         "add a readinessProbe, or traffic reaches pods before they can serve it", _readiness),
    Rule("zero-downtime/max-unavailable", "rollouts may take ready pods away with nothing to protect them",
         "set strategy.rollingUpdate.maxUnavailable: 0 with a surge, or add a PodDisruptionBudget", _max_unavailable),
    Rule("zero-downtime/prestop-under-grace", "the preStop sleep does not end before the grace period",
         "keep lifecycle.preStop.seconds below terminationGracePeriodSeconds", _prestop_vs_grace),
    Rule("zero-downtime/replicas-need-pdb", "several replicas (or an HPA) without a PodDisruptionBudget",
         "add a PodDisruptionBudget so node drains keep some pods serving", _replicas_pdb),
    Rule("zero-downtime/hpa-owns-replicas", "a workload sets replicas while an HPA scales it",
         "leave spec.replicas unset when autoscaling is on", _hpa_vs_replicas),
    Rule("security/restricted-pss", "a container misses a field of the restricted Pod Security Standard",
         "set runAsNonRoot, seccompProfile RuntimeDefault, allowPrivilegeEscalation false and drop ALL", _security),
    Rule("security/read-only-root", "a container's root filesystem is writable",
         "set readOnlyRootFilesystem: true and mount an emptyDir where the app writes", _read_only_root),
    Rule("exposure/backend-port", "an Ingress or route backend names no Service port of this render",
         "point the backend at an existing Service and one of its port names or numbers", _backend_ports),
    Rule("exposure/selector-matches-pods", "a Service selector matches no pod template",
         "make the Service selector a subset of the pod template labels", _selector_matches),
    Rule("exposure/target-port-name", "a Service targetPort name is not a container port name",
         "name the container port as the targetPort does, or use a number", _target_port_names),
)


def check(docs: list[Doc], disabled: Iterable[str] = ()) -> list[Violation]:
    render = Render(docs)
    skip = set(disabled)
    return [
        Violation(rule.id, doc.get("kind", ""), _name(doc), detail)
        for rule in RULES if rule.id not in skip
        for doc, detail in rule.check(render)
    ]


def describe(rule_id: str) -> Rule:
    return next(r for r in RULES if r.id == rule_id)
