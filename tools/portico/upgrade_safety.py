"""Upgrade safety: what `helm upgrade` from a previous chart version would trip on.

Compares the render of the previous chart with the current one for the same
values: immutable fields that changed (the API server rejects the upgrade),
Service type transitions that need care, and resources that disappear.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portico import chartref
from portico import values as values_mod
from portico.chartref import Fetch
from portico.errors import InputError
from portico.policy import Violation

Doc = dict[str, Any]


@dataclass(frozen=True)
class PreviousChart:
    path: Path  # a chart directory the renderer can load
    label: str


def resolve(spec: str, chart: Path, *, source: str, fetch: Fetch = Fetch()) -> PreviousChart:
    """`git:<ref>` (the same chart path at that ref), a chart directory or .tgz, or a published chart
    (oci://...@VERSION, repo/chart@VERSION), all through `chartref`."""
    if spec.startswith("git:"):
        previous = chartref.at_git_ref(chart, spec[len("git:"):], source=source, key_path="upgrade.from")
        # Named by its version, not the ref: a baseline entry holds whether a tag or a commit found it.
        return PreviousChart(previous, _name_version(previous))
    if chartref.is_remote(spec):
        return PreviousChart(chartref.resolve(spec, fetch, source=f"{source}: upgrade.from"), spec)
    path = Path(spec)
    if not path.is_absolute():
        path = (Path(source).resolve().parent / path).resolve()
    return PreviousChart(chartref.local(path, source=source, key_path="upgrade.from", shown=spec), path.name)


def _name_version(chart: Path) -> str:
    """"portico 0.1.0": what a baseline entry about an upgrade names, whatever ref the chart came from."""
    try:
        meta = values_mod.read_mapping(chart / "Chart.yaml", "a Chart.yaml")
        return f"{meta['name']} {meta['version']}"
    except (InputError, KeyError):
        return chart.name


def _key(doc: Doc) -> tuple[str, str, str]:
    meta = doc.get("metadata", {})
    return doc.get("kind", ""), meta.get("namespace", ""), meta.get("name", "")


def _svc_kind(doc: Doc) -> str:
    spec = doc.get("spec", {})
    if spec.get("clusterIP") == "None":
        return "headless"
    return spec.get("type", "ClusterIP")


# Transitions the API server accepts but that break clients or need a manual step.
CAREFUL_TRANSITIONS = {
    ("ClusterIP", "headless"): "clusterIP cannot change to None in place; the Service must be deleted and recreated",
    ("headless", "ClusterIP"): "a headless Service cannot get a clusterIP in place; delete and recreate it",
    ("LoadBalancer", "ClusterIP"): "the external address is released; clients using it break",
    ("LoadBalancer", "NodePort"): "the external address is released; clients using it break",
    ("NodePort", "ClusterIP"): "the node ports are released; clients using them break",
    ("ExternalName", "ClusterIP"): "DNS stops being a CNAME; cached lookups point elsewhere until they expire",
}


def compare(old: list[Doc], new: list[Doc]) -> list[Violation]:
    before = {_key(d): d for d in old if isinstance(d, dict) and "kind" in d}
    after = {_key(d): d for d in new if isinstance(d, dict) and "kind" in d}
    out: list[Violation] = []
    for key, old_doc in before.items():
        kind, _, name = key
        new_doc = after.get(key)
        if new_doc is None:
            if kind != "Pod":  # helm test hooks come and go freely
                out.append(Violation("upgrade/removed-resource", kind, name,
                                     "exists in the previous version and is gone in this one"))
            continue
        o, n = old_doc.get("spec", {}) or {}, new_doc.get("spec", {}) or {}
        if kind in ("Deployment", "StatefulSet") and o.get("selector") != n.get("selector"):
            out.append(Violation("upgrade/immutable-selector", kind, name,
                                 f"spec.selector changes from {o.get('selector')} to {n.get('selector')}"))
        if kind == "StatefulSet":
            for field in ("volumeClaimTemplates", "serviceName"):
                if o.get(field) != n.get(field):
                    out.append(Violation("upgrade/immutable-statefulset", kind, name, f"spec.{field} changes"))
        if kind == "Job" and o.get("template") != n.get("template"):
            out.append(Violation("upgrade/immutable-job", kind, name, "spec.template of a Job changes"))
        if kind == "Service":
            if o.get("clusterIP") and n.get("clusterIP") and o.get("clusterIP") != n.get("clusterIP"):
                out.append(Violation("upgrade/service-cluster-ip", kind, name,
                                     f"spec.clusterIP changes from {o['clusterIP']} to {n['clusterIP']}"))
            transition = (_svc_kind(old_doc), _svc_kind(new_doc))
            if transition in CAREFUL_TRANSITIONS:
                out.append(Violation("upgrade/service-type", kind, name,
                                     f"{transition[0]} -> {transition[1]}: {CAREFUL_TRANSITIONS[transition]}"))
    return out
