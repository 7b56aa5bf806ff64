"""Admission: every distinct resource sent to a real API server with server-side dry-run.

What kubeconform's schemas cannot see, the API server checks: Service rules
(externalTrafficPolicy on a ClusterIP, nodePorts out of range, duplicate port
names), CEL validations of CRDs (Gateway API routes), defaulting, and Pod
Security admission of the namespace (restricted by default: its "would violate"
warnings for workloads, refusals for bare Pods such as helm test hooks).

Before the dry-run the server gets the pinned CRD catalog (Gateway API,
prometheus-operator, VPA, OpenShift Route), the chart's own CRDs, and the
namespaces the objects live in, labelled with the Pod Security level.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable


from portico import manifests, wait
from portico.admission.client import Answer, Client
from portico.errors import ToolError
from portico.results import ERROR_SEVERITY, WARNING_SEVERITY, Finding
from portico.schemas import crd as crd_schemas
from portico.toolchain.gomod import module_dir
from portico.toolchain.pins import load_versions
from portico.values import loads_all

WORKERS = 8
POD_SECURITY_LEVELS = ("privileged", "baseline", "restricted")


@dataclass(frozen=True)
class Rejection:
    rule: str
    message: str
    severity: str
    hint: str


def catalog_crds() -> list[dict]:
    """The pinned CRDs portico validates against offline, as manifests for the server."""
    versions = load_versions()
    docs: list[dict] = []
    for source in crd_schemas.CRD_SOURCES:
        expected = versions[source.sum_key] if source.sum_key else None
        root = module_dir(source.module, versions[source.version_key], expected_sum=expected)
        for pattern in source.files:
            for path in sorted(root.glob(pattern)):
                docs += [d for d in loads_all(path.read_text(), source=str(path))
                         if d.get("kind") == "CustomResourceDefinition"]
    return docs


def catalog_crds_for(docs: Iterable[dict]) -> list[dict]:
    """The catalog CRDs that serve a kind among docs: installing all of them (88) would cost the
    server seconds per run for kinds nothing sends; a kind no CRD serves is refused by the server as before."""
    wanted = {(str(d.get("apiVersion", "")).rpartition("/")[0], d.get("kind")) for d in manifests.flatten(list(docs))}
    return [crd for crd in catalog_crds()
            if ((crd.get("spec") or {}).get("group"), ((crd.get("spec") or {}).get("names") or {}).get("kind"))
            in wanted]


def _established(client: Client, name: str) -> bool:
    answer = client.request("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
    conditions = (answer.body.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def install_crds(client: Client, crds: Iterable[dict]) -> None:
    """Create the CRDs (the chart's first: they win over the catalog's), wait until served, rediscover."""
    names = []
    for doc in crds:
        answer = client.create(doc, None, dry_run=False)
        if answer.ok:
            names.append((doc.get("metadata") or {}).get("name"))
        elif answer.status != 409:  # already there: the chart's own came first
            raise ToolError(f"the API server refused CustomResourceDefinition "
                            f"{(doc.get('metadata') or {}).get('name')}: {answer.message}")
    for name in names:
        wait.until(lambda n=name: _established(client, n), timeout=60, interval=0.2,
                   what=f"CustomResourceDefinition {name} was not established")
    client.discover()


def ensure_namespace(client: Client, name: str, pod_security: str) -> None:
    labels = {f"pod-security.kubernetes.io/{mode}": pod_security for mode in ("enforce", "warn", "audit")}
    answer = client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}},
                           None, dry_run=False)
    if not answer.ok and answer.status != 409:
        raise ToolError(f"the API server refused namespace {name}: {answer.message}")


def judge(answer: Answer) -> list[Rejection]:
    out = []
    if answer.status == 404 and answer.body.get("reason") == "NotFound" and "does not serve" in answer.message:
        out.append(Rejection("admission/not-served", answer.message, WARNING_SEVERITY,
                             "install its CRD first, or pass its schema to the matrix (validate.schemaLocations)"))
    elif not answer.ok and answer.status != 409:  # 409: an object portico itself created (a namespace)
        fields = ", ".join(answer.fields)
        out.append(Rejection("admission/rejected", f"{answer.body.get('reason', answer.status)}: {answer.message}",
                             ERROR_SEVERITY, f"the API server refuses it{f' (fields: {fields})' if fields else ''}"))
    for warning in answer.warnings:
        if "PodSecurity" in warning:
            out.append(Rejection("admission/pod-security", warning, ERROR_SEVERITY,
                                 "a namespace enforcing this Pod Security level refuses the pods"))
        else:
            out.append(Rejection("admission/warning", warning, WARNING_SEVERITY, "the API server warns about it"))
    return out


def _digest(doc: dict) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:20]


def admit(client: Client, renders: dict[str, list[dict]], combos_of: dict[str, list[str]], *, namespace: str,
          kubernetes_version: str, pod_security: str = "restricted", prepare: bool = True,
          progress: Callable[[str, int], Callable[[int], None]] | None = None) -> tuple[list[Finding], int]:
    """Dry-run every distinct resource of every render; (findings, objects sent).

    `prepare` creates the namespaces and ServiceAccounts first (the local server); on a user's cluster
    nothing is created (`--admission-kubeconfig`).
    """
    unique: dict[str, dict] = {}
    renders_of: dict[str, list[str]] = {}
    for render, docs in renders.items():
        for doc in manifests.flatten(docs):
            if doc.get("kind") == "CustomResourceDefinition":
                continue  # installed for real beforehand
            key = _digest(doc)
            unique.setdefault(key, doc)
            renders_of.setdefault(key, []).append(render)
    if prepare:
        _prepare(client, unique.values(), namespace, pod_security)
    advance = (progress or (lambda _s, _n: (lambda _k: None)))("admission", len(unique))

    def send(item: tuple[str, dict]) -> tuple[str, list[Rejection]]:
        key, doc = item
        meta = doc.get("metadata") or {}
        answer = client.create(doc, str(meta.get("namespace") or namespace), dry_run=True)
        advance(1)
        return key, judge(answer)

    findings = []
    with ThreadPoolExecutor(WORKERS) as pool:
        for key, rejections in pool.map(send, unique.items()):
            doc = unique[key]
            combos = tuple(c for r in renders_of[key] for c in combos_of.get(r, []))
            for r in rejections:
                findings.append(Finding("admission", r.rule, r.message, str(doc.get("kind", "")),
                                        str((doc.get("metadata") or {}).get("name", "")), kubernetes_version, r.hint,
                                        combos, r.severity))
    return findings, len(unique)


def _prepare(client: Client, docs: Iterable[dict], namespace: str, pod_security: str) -> None:
    docs = list(docs)
    for ns in sorted({str((d.get("metadata") or {}).get("namespace") or namespace) for d in docs}):
        ensure_namespace(client, ns, pod_security)
    # Pods need their ServiceAccount to exist (there is no controller-manager to make `default`, and a
    # dry-run creates nothing): make the default ones and the chart's own for real first.
    accounts = {(str((d.get("metadata") or {}).get("namespace") or namespace), str((d.get("metadata") or {}).get("name")))
                for d in docs if d.get("kind") == "ServiceAccount"}
    accounts |= {(str((d.get("metadata") or {}).get("namespace") or namespace), "default") for d in docs}
    for ns, name in sorted(accounts):
        client.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns}},
                      ns, dry_run=False)


@dataclass(frozen=True)
class UpgradePath:
    """One previous render and the current render the same values give, and the combinations that take it."""

    old: list[dict]
    new: list[dict]
    combinations: tuple[str, ...]


def admit_upgrades(client: Client, paths: list[UpgradePath], *, label: str,
                   kubernetes_version: str) -> list[Finding]:
    """Create each previous release for real in a namespace of its own, then server-side apply the new objects
    with dry-run, as `helm upgrade` would: immutable fields and other update rules are the server's to judge."""
    findings = []

    def one(item: tuple[int, UpgradePath]) -> list[Finding]:
        index, path = item
        namespace = f"portico-upgrade-{index}"
        ensure_namespace(client, namespace, "privileged")  # the previous release as it was; Pod Security is judged above
        # No controller manager runs here to create it, and pods are refused without it.
        client.create(DEFAULT_SERVICE_ACCOUNT, namespace, dry_run=False)
        old = {(d.get("kind"), (d.get("metadata") or {}).get("name")): d for d in _released(path.old)}
        for key, doc in list(old.items()):
            res = client.resource(str(doc.get("apiVersion")), str(doc.get("kind")))
            if res is not None and res.namespaced and doc.get("kind") != "CustomResourceDefinition":
                if not client.create(_in(doc, namespace), namespace, dry_run=False).ok:
                    # The old object could not exist (the admission stage reports why): nothing to upgrade.
                    del old[key]
        out = []
        for doc in _released(path.new):
            key = (doc.get("kind"), (doc.get("metadata") or {}).get("name"))
            res = client.resource(str(doc.get("apiVersion")), str(doc.get("kind")))
            if key not in old or res is None or not res.namespaced:
                continue
            answer = client.apply(_in(doc, namespace), namespace, dry_run=True)
            if not answer.ok:
                fields = ", ".join(answer.fields)
                out.append(Finding("admission", "admission/upgrade-rejected",
                                   f"from {label}: {answer.body.get('reason', answer.status)}: {answer.message}",
                                   str(doc.get("kind", "")), str(key[1] or ""), kubernetes_version,
                                   f"helm upgrade fails here{f' (fields: {fields})' if fields else ''}: keep the "
                                   f"field, or document a migration and bump the major version",
                                   path.combinations, ERROR_SEVERITY))
        return out

    with ThreadPoolExecutor(WORKERS) as pool:
        for found in pool.map(one, enumerate(paths)):
            findings += found
    return findings


DEFAULT_SERVICE_ACCOUNT = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}}


def _released(docs: list[dict]) -> list[dict]:
    """What `helm upgrade` updates in place: the release's objects, not its hooks (helm deletes and recreates
    those, e.g. `helm test` pods)."""
    return [d for d in manifests.flatten(docs)
            if "helm.sh/hook" not in ((d.get("metadata") or {}).get("annotations") or {})]


def _in(doc: dict, namespace: str) -> dict:
    meta = {**(doc.get("metadata") or {}), "namespace": namespace}
    meta.pop("resourceVersion", None)
    return {**doc, "metadata": meta}


def run_local(renders: dict[str, list[dict]], combos_of: dict[str, list[str]], *, namespace: str,
              crds: list[dict], pod_security: str = "restricted", minors: Iterable[str | None] = (None,),
              upgrade_paths: list[UpgradePath] = (), upgrade_label: str = "",
              progress: Callable[[str, int], Callable[[int], None]] | None = None) -> tuple[list[Finding], int]:
    """The whole stage on local servers, one per Kubernetes minor, one after another (on 2 cores parallel
    servers would only compete): CRDs installed (the chart's first), every resource dry-run, upgrades applied."""
    from portico.admission.server import LocalAPIServer

    sent_docs = [d for docs in renders.values() for d in docs]
    sent_docs += [d for path in upgrade_paths for d in (*path.old, *path.new)]
    catalog = catalog_crds_for(sent_docs)
    findings: list[Finding] = []
    sent = 0
    for minor in minors:
        with LocalAPIServer(minor=minor) as server:
            client = Client(server.url, server.token)
            client.discover()
            install_crds(client, [*crds, *catalog])
            version = server_version(client)
            found, sent = admit(client, renders, combos_of, namespace=namespace, kubernetes_version=version,
                                pod_security=pod_security, progress=progress)
            findings += found
            if upgrade_paths:
                findings += admit_upgrades(client, list(upgrade_paths), label=upgrade_label,
                                           kubernetes_version=version)
    return findings, sent


def server_version(client: Client) -> str:
    info = client.request("GET", "/version").body
    return f"{info.get('major', '1')}.{str(info.get('minor', '')).rstrip('+')}"
