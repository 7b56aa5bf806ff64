"""Offline JSON schemas for kubeconform.

Kubernetes schemas come from the `kubernetes-validate` wheel, whose
`vX.Y.0-local-strict/<kind>-<group>-<version>.json` files `$ref` into a shared
`/api/_definitions.json` by absolute URL, which kubeconform would try to fetch.
We make each top-level kind standalone: the definitions it reaches are copied
into its own `$defs` and the refs become local (`#/$defs/...`).

CRD schemas (Gateway API, ServiceMonitor, OpenShift Route) are converted from
CRD manifests by `portico.schemas.crd` into `crds/<group>/<kind>_<version>.json`.

Layout under `schema_root()`:
    v1.30.0-standalone-strict/deployment-apps-v1.json
    crds-<pins digest>/gateway.networking.k8s.io/httproute_v1.json
"""

from __future__ import annotations

import json
import shutil
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Iterator

from portico import locks
from portico.errors import InputError, ToolError
from portico.paths import cache_dir
from portico.schemas import crd as crdschema
from portico.schemas.crd import crd_dir_name
from portico.toolchain.pins import load_versions

DEFS_PREFIX = "/api/_definitions.json#/$defs/"
LOCAL_PREFIX = "#/$defs/"
_READY_MARKER = ".complete"


def schema_root() -> Path:
    try:
        wheel_version = metadata.version("kubernetes-validate")
    except metadata.PackageNotFoundError as exc:
        raise ToolError("kubernetes-validate is not installed: reinstall portico (pip install portico)") from exc
    return cache_dir() / "schemas" / f"kubernetes-validate-{wheel_version}"


def kubernetes_versions(versions: dict[str, str] | None = None) -> list[str]:
    """Minor versions in the pinned range, e.g. ['1.30', ..., '1.37']."""
    pins = versions or load_versions()
    lo = int(pins["SCHEMA_K8S_MIN"].split(".")[1])
    hi = int(pins["SCHEMA_K8S_MAX"].split(".")[1])
    return [f"1.{minor}" for minor in range(lo, hi + 1)]


def kubeconform_locations(root: Path | None = None) -> list[str]:
    """The -schema-location templates for the standalone k8s and CRD schemas."""
    base = root or schema_root()
    return [
        f"{base}/{{{{.NormalizedKubernetesVersion}}}}-standalone{{{{.StrictSuffix}}}}/"
        "{{.ResourceKind}}{{.KindSuffix}}.json",
        crdschema.location(base / crd_dir_name()),
    ]


def _wheel_schema_dir(minor: str) -> Path:
    src = resources.files("kubernetes_validate") / "kubernetes-json-schema" / f"v{minor}.0-local-strict"
    path = Path(str(src))
    if not path.is_dir():
        raise ToolError(f"kubernetes-validate has no schemas for Kubernetes {minor} (looked in {path})")
    return path


def refs(node: Any) -> Iterator[str]:
    """Every `$ref` string in a schema."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def _localise(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _localise(v) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith(DEFS_PREFIX):
            out["$ref"] = LOCAL_PREFIX + ref[len(DEFS_PREFIX):]
        return out
    if isinstance(node, list):
        return [_localise(v) for v in node]
    return node


def _def_name(ref: str) -> str | None:
    for prefix in (DEFS_PREFIX, LOCAL_PREFIX):
        if ref.startswith(prefix):
            return ref[len(prefix):]
    return None


def make_standalone(kind_schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """Copy the transitive closure of referenced definitions into the schema."""
    needed: dict[str, Any] = {}
    pending = [n for n in map(_def_name, refs(kind_schema)) if n]
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        if name not in definitions:
            raise ToolError(f"schema references unknown definition {name!r}")
        needed[name] = definitions[name]
        pending.extend(n for n in map(_def_name, refs(definitions[name])) if n and n not in needed)
    out = _localise(kind_schema)
    out.pop("$id", None)
    if needed:
        out["$defs"] = {name: _localise(body) for name, body in sorted(needed.items())}
    return out


def _is_top_level_kind(schema: dict[str, Any]) -> bool:
    return bool(schema.get("x-kubernetes-group-version-kind")) and "kind" in schema.get("properties", {})


def build_kubernetes_version(minor: str, dest_root: Path) -> int:
    """Write standalone strict schemas for one minor version; return the file count."""
    src = _wheel_schema_dir(minor)
    definitions = json.loads((src / "_definitions.json").read_text())["$defs"]
    dest = dest_root / f"v{minor}.0-standalone-strict"
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    count = 0
    for path in sorted(src.glob("*.json")):
        if path.name in ("_definitions.json", "all.json"):
            continue
        schema = json.loads(path.read_text())
        if not _is_top_level_kind(schema):
            continue
        (tmp / path.name).write_text(json.dumps(make_standalone(schema, definitions), separators=(",", ":")))
        count += 1
    shutil.rmtree(dest, ignore_errors=True)
    tmp.replace(dest)
    return count


def ensure_schemas(*, force: bool = False, log=print) -> Path:
    """Build every missing piece of the schema tree; cheap when warm."""
    root = schema_root()
    root.mkdir(parents=True, exist_ok=True)
    for minor in kubernetes_versions():
        marker = root / f"v{minor}.0-standalone-strict" / _READY_MARKER
        if marker.exists() and not force:
            continue
        with locks.building(marker.parent):
            if marker.exists() and not force:  # another process built it while this one waited
                continue
            count = build_kubernetes_version(minor, root)
            marker.write_text(str(count))
        log(f"schemas      v{minor}     {count} standalone strict kind schemas")
    with locks.building(root / crd_dir_name()):
        crdschema.ensure_crd_schemas(root / crd_dir_name(), force=force, log=log)
    return root


def available(version: str) -> None:
    """InputError unless offline schemas exist for this Kubernetes version, listing the ones that do."""
    known = kubernetes_versions()
    if version not in known:
        raise InputError(f"no offline schemas for Kubernetes {version}; available: {', '.join(known)} "
                         f"(the range is pinned as SCHEMA_K8S_MIN/MAX)", source="--kube-version")


def validate(kubernetes_version: str, paths, *, skip_kinds=(), extra_locations=()):
    """kubeconform over `paths` against one Kubernetes version, with the offline schemas built first.

    `extra_locations` come first (a chart's own CRDs, a user's catalog), then the pinned ones.
    """
    from portico.clients.kubeconform import Kubeconform

    available(kubernetes_version)
    ensure_schemas(log=lambda _msg: None)
    locations = [*extra_locations, *kubeconform_locations()]
    return Kubeconform.pinned(locations).validate(kubernetes_version, paths, skip_kinds=skip_kinds)


def _gvk_string(gvk: dict[str, Any]) -> str:
    group, version, kind = gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", "")
    return f"{group}/{version}/{kind}" if group else f"{version}/{kind}"


@lru_cache(maxsize=16)
def builtin_api_versions(minor: str) -> frozenset[str]:
    """Every built-in `group/version/Kind` Kubernetes `minor` serves, as a real API server lists them for helm.

    `helm template` knows only group/versions, so a chart that checks a kind
    (`.Capabilities.APIVersions.Has "policy/v1/PodDisruptionBudget"`) renders
    its fallback; the matrix passes the kinds the chart asks about.
    """
    available(minor)
    index = schema_root() / f"gvks-v{minor}.json"
    if index.exists():
        return frozenset(json.loads(index.read_text()))
    found = set()
    for path in _wheel_schema_dir(minor).glob("*.json"):
        if path.name in ("_definitions.json", "all.json"):
            continue
        schema = json.loads(path.read_text())
        if _is_top_level_kind(schema):
            found.update(_gvk_string(g) for g in schema["x-kubernetes-group-version-kind"])
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_text(json.dumps(sorted(found)))
    return frozenset(found)
