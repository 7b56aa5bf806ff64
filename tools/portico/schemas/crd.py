"""Convert CustomResourceDefinitions into strict kubeconform JSON schemas.

Like kubeconform's openapi2jsonschema.py: each served version's
openAPIV3Schema becomes `<group>/<kind>_<version>.json`, with
`additionalProperties: false` on every object that lists its properties (and
does not preserve unknown fields), `nullable` folded into the type, and
int-or-string made explicit.

The CRDs come, offline, from Go modules pinned in versions.env and
fetched through the Go module proxy (`go mod download`): Gateway API,
prometheus-operator (ServiceMonitor, PodMonitor, PrometheusRule, ...), the
VerticalPodAutoscaler and openshift/api (Route).
"""

from __future__ import annotations

import copy
import hashlib
import importlib.metadata
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import jsonschema

from portico.errors import InputError, ToolError
from portico.files import write_atomic
from portico.paths import cache_dir
from portico.toolchain.gomod import module_dir
from portico.toolchain.pins import load_versions
from portico.values import loads_all


@dataclass(frozen=True)
class CrdSource:
    module: str
    version_key: str
    files: tuple[str, ...]  # paths inside the module; globs allowed
    # Pseudo-versions the checksum DB may not serve: skip it and compare the
    # module hash against this pin from versions.env instead.
    sum_key: str | None = None


CRD_SOURCES = (
    CrdSource("sigs.k8s.io/gateway-api", "GATEWAY_API_VERSION",
              ("config/crd/experimental/gateway.networking.k8s.io_*.yaml",)),
    CrdSource("github.com/prometheus-operator/prometheus-operator", "PROMETHEUS_OPERATOR_VERSION",
              ("example/prometheus-operator-crd/monitoring.coreos.com_*.yaml",)),
    CrdSource("k8s.io/autoscaler/vertical-pod-autoscaler", "VPA_VERSION", ("deploy/vpa-v1-crd-gen.yaml",)),
    CrdSource("github.com/cert-manager/cert-manager", "CERT_MANAGER_VERSION", ("deploy/crds/*.cert-manager.io_*.yaml",
                                                                           "deploy/crds/cert-manager.io_*.yaml")),
    CrdSource("github.com/kedacore/keda/v2", "KEDA_VERSION", ("config/crd/bases/*.yaml",)),
    CrdSource("github.com/argoproj/argo-rollouts", "ARGO_ROLLOUTS_VERSION", ("manifests/crds/*-crd.yaml",)),
    CrdSource("github.com/external-secrets/external-secrets", "EXTERNAL_SECRETS_VERSION", ("deploy/crds/bundle.yaml",)),
    CrdSource("istio.io/api", "ISTIO_API_VERSION", ("kubernetes/customresourcedefinitions.gen.yaml",)),
    CrdSource("github.com/traefik/traefik/v3", "TRAEFIK_VERSION",
              ("docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml",)),
    CrdSource("github.com/openshift/api", "OPENSHIFT_API_VERSION",
              ("route/v1/zz_generated.crd-manifests/routes.crd.yaml",), sum_key="OPENSHIFT_API_SUM"),
)


def _strict(node: Any) -> Any:
    """Return a copy with OpenAPI v3 quirks turned into strict JSON Schema."""
    if isinstance(node, list):
        return [_strict(v) for v in node]
    if not isinstance(node, dict):
        return node
    # `anyOf: null` appears in real CRDs (openshift/api Route); a null keyword is no schema.
    out = {k: _strict(v) for k, v in node.items() if v is not None}
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    for bound, limit in (("exclusiveMaximum", "maximum"), ("exclusiveMinimum", "minimum")):
        # OpenAPI v3.0 (and so every CRD) has draft-4's boolean form; draft 6 on takes the limit itself.
        if isinstance(out.get(bound), bool):
            if out.pop(bound) and limit in out:
                out[bound] = out.pop(limit)
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    preserve = out.get("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    if isinstance(out.get("properties"), dict):
        # The API server prunes a null it cannot take (non-nullable, no default) before validating, so an
        # optional field set to null is accepted; a required one is then missing, and refused.
        required = set(out.get("required") or [])
        out["properties"] = {k: v if k in required else _allow_null(v) for k, v in out["properties"].items()}
    return out


def _allow_null(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    if isinstance(kind, list) and "null" not in kind:
        return {**schema, "type": [*kind, "null"]}
    if isinstance(schema.get("anyOf"), list) and {"type": "null"} not in schema["anyOf"]:
        return {**schema, "anyOf": [*schema["anyOf"], {"type": "null"}]}
    return schema


def crd_to_schemas(crd: dict[str, Any]) -> Iterable[tuple[str, str, dict[str, Any]]]:
    """Yield (group, file name, schema) for each version a CRD declares."""
    spec = crd["spec"]
    group = spec["group"]
    kind = spec["names"]["kind"].lower()
    for version in spec["versions"]:
        raw = (version.get("schema") or {}).get("openAPIV3Schema")
        if raw is None:
            continue
        schema = _strict(copy.deepcopy(raw))
        props = schema.setdefault("properties", {})
        props["apiVersion"] = {"type": "string", "enum": [f"{group}/{version['name']}"]}
        props["kind"] = {"type": "string", "enum": [spec["names"]["kind"]]}
        props.setdefault("metadata", {"type": "object"})
        schema["additionalProperties"] = False
        schema["$schema"] = "http://json-schema.org/draft-07/schema#"
        yield group, f"{kind}_{version['name']}.json", schema


# Bump when the conversion changes, so cached schema trees are rebuilt.
CONVERTER_VERSION = 5


_META = jsonschema.Draft7Validator(jsonschema.Draft7Validator.META_SCHEMA)
_JSONSCHEMA = importlib.metadata.version("jsonschema")


def _loose(group: str, version: str, kind: str) -> dict[str, Any]:
    """What is left to check of a custom resource whose CRD schema could not be converted: its apiVersion and
    kind. Better than no schema (kubeconform would call the kind unknown: a false alarm on the chart)."""
    return {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
            "properties": {"apiVersion": {"type": "string", "enum": [f"{group}/{version}"]},
                           "kind": {"type": "string", "enum": [kind]}, "metadata": {"type": "object"}}}


def convert_crds(docs: Iterable[Any], dest_root: Path, source: str,
                 unconverted: list[str] | None = None) -> list[Path]:
    """Strict schemas for every CustomResourceDefinition among docs, under dest_root/<group>/<kind>_<v>.json.
    A schema that is no valid JSON Schema after the conversion (an OpenAPI form this converter does not know) is
    replaced by one that checks apiVersion and kind only, and said in `unconverted`."""
    written = []
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
            continue
        for group, name, text, note in _conversions(doc, source):
            if note and unconverted is not None:
                unconverted.append(note)
            out = dest_root / group / name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text)
            written.append(out)
    return written


def _cache_key(doc: dict[str, Any]) -> str:
    """Every input of a conversion: the CRD as parsed, the converter, and the meta-schema's library."""
    raw = json.dumps([CONVERTER_VERSION, _JSONSCHEMA, doc], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def _conversions(doc: dict[str, Any], source: str) -> list[tuple[str, str, str, str | None]]:
    """(group, file name, schema as JSON, why it is loose) per version of one CRD. A large CRD takes seconds to
    convert and check (kuberay's, kube-prometheus's), every run: the result is kept in the cache under its
    content's hash, written whole (two processes converting the same CRD each write the same file)."""
    key = _cache_key(doc)
    cached = cache_dir() / "crd-conversions" / key[:2] / f"{key}.json"
    try:
        return [tuple(item) for item in json.loads(cached.read_text())]  # type: ignore[misc]
    except (OSError, ValueError, TypeError):
        pass  # not converted before (or a damaged entry): convert
    try:
        converted = list(crd_to_schemas(doc))
    except (KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"CustomResourceDefinition {(doc.get('metadata') or {}).get('name')} is malformed "
                         f"({type(exc).__name__}: {exc})", source=source) from exc
    out = []
    for group, name, schema in converted:
        # The meta-schema without format checks: patterns are Go (RE2) regexes, which Python's `re`
        # may not accept (inline flags mid-pattern), and kubeconform is Go.
        problem = next(_META.iter_errors(schema), None)
        note = None
        if problem is not None:
            note = (f"{group}/{name.removesuffix('.json')}: only apiVersion and kind are checked: its CRD schema is "
                    f"no valid JSON Schema once converted, at {'/'.join(map(str, problem.absolute_path))}: "
                    f"{problem.message[:200]}")
            schema = _loose(group, schema["properties"]["apiVersion"]["enum"][0].split("/")[-1],
                            schema["properties"]["kind"]["enum"][0])
        out.append((group, name, json.dumps(schema, separators=(",", ":")), note))
    try:
        write_atomic(cached, json.dumps(out))
    except OSError:
        pass  # a cache that cannot be written (read-only, full) costs the next run time, never this run
    return out


def convert_crd_file(path: Path, dest_root: Path) -> list[Path]:
    return convert_crds(loads_all(path.read_text(), source=str(path)), dest_root, str(path))


def location(root: Path) -> str:
    """The kubeconform -schema-location template for a tree written by convert_crds."""
    return f"{root}/{{{{.Group}}}}/{{{{.ResourceKind}}}}_{{{{.ResourceAPIVersion}}}}.json"


def crd_dir_name(versions: dict[str, str] | None = None) -> str:
    """A directory per set of CRD pins, so a version change never leaves stale schemas behind."""
    pins = versions or load_versions()
    key = json.dumps([CONVERTER_VERSION, *[(s.module, pins[s.version_key]) for s in CRD_SOURCES]])
    return f"crds-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def ensure_crd_schemas(dest_root: Path, *, force: bool = False, log: Callable[[str], None] = print) -> None:
    versions = load_versions()
    for source in CRD_SOURCES:
        version = versions[source.version_key]
        marker = dest_root / ".sources" / f"{source.module.replace('/', '_')}@{version}.v{CONVERTER_VERSION}"
        if marker.exists() and not force:
            continue
        expected_sum = versions[source.sum_key] if source.sum_key else None
        root = module_dir(source.module, version, expected_sum=expected_sum)
        count = 0
        for pattern in source.files:
            for path in sorted(root.glob(pattern)):
                count += len(convert_crd_file(path, dest_root))
        if count == 0:
            raise ToolError(f"no CRDs found in {source.module}@{version} at {', '.join(source.files)}")
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(str(count))
        log(f"schemas      crds      {count} from {source.module}@{version}")
