"""`portico init CHART`: a first matrix file, from what the chart says about its values.

Candidate axes come from values.schema.json (booleans, short enums) or, without one, from
values.yaml (switches such as `*.enabled` and `*.create`), plus well-known keys
(replica counts, Service types). Each candidate is rendered once against the defaults, and
the ones that change the objects most are kept (objects and kinds added or removed count
most, then objects changed); the file lists those left out and why. chart-testing's
`ci/*-values.yaml` become the levels of an `environment` axis. Large spaces get a seeded
pairwise (t-wise) strategy. The file says, in comments, what a person should add next.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import yaml

from portico import chart as chart_mod
from portico import manifests
from portico.errors import InputError
from portico.files import write_atomic
from portico.schemas import kubernetes_versions
from portico import values as values_mod

MAX_AXES = 10
MAX_CANDIDATES = 40  # rendered once each to measure their effect
EXHAUSTIVE_LIMIT = 512
WELL_KNOWN = {
    "replicaCount": [1, 3],
    "replicas": [1, 3],
    "service.type": ["ClusterIP", "NodePort", "LoadBalancer"],
}


@dataclass(frozen=True)
class Candidate:
    path: str
    values: list[Any]
    source: str  # "schema" | "values" | "well-known"

    @property
    def priority(self) -> tuple:
        switch = self.path.endswith((".enabled", ".create")) or self.path in WELL_KNOWN
        return (0 if switch else 1, self.path.count("."), self.path)


def _walk_schema(schema: Any, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, dict]]:
    if not isinstance(schema, dict) or depth > 4:
        return
    for key, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, dict) or not re.fullmatch(r"[A-Za-z0-9_-]+", key):
            continue
        path = f"{prefix}.{key}" if prefix else key
        yield path, sub
        yield from _walk_schema(sub, path, depth + 1)


def _walk_values(values: Any, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, Any]]:
    if not isinstance(values, dict) or depth > 4:
        return
    for key, value in values.items():
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z0-9_-]+", key):
            continue
        path = f"{prefix}.{key}" if prefix else key
        yield path, value
        yield from _walk_values(value, path, depth + 1)


def _get(values: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(values, dict) or part not in values:
            return None
        values = values[part]
    return values


# Debugging switches: bitnami's diagnosticMode (in every one of its charts) turns the probes off and replaces the
# app's command with a sleep. Renders made with it are not meant to run, so every finding on them is noise.
DEBUG_SWITCH = re.compile(r"(^|\.)diagnosticMode(\.enabled)?$")


def ct_cases(chart_dir: Path) -> dict[str, Path]:
    """chart-testing's convention, one place for init, `portico ci`'s matrix and its installs: each
    ci/NAME-values.yaml is a case named NAME."""
    return {c.name.removesuffix("-values.yaml"): c for c in sorted((chart_dir / "ci").glob("*-values.yaml"))}


def candidates(info: chart_mod.ChartInfo) -> tuple[list[Candidate], list[str]]:
    """The switches worth an axis, and a line per debugging switch left out."""
    found: dict[str, Candidate] = {}
    for path, sub in _walk_schema(info.schema):
        kind = sub.get("type")
        default = _get(info.values, path)
        if kind == "boolean" or isinstance(default, bool) and kind in (None, ["boolean", "null"]):
            first = default if isinstance(default, bool) else False
            found[path] = Candidate(path, [first, not first], "schema")
        elif isinstance(sub.get("enum"), list) and 2 <= len(sub["enum"]) <= 5 and all(
                isinstance(v, (str, int, bool)) for v in sub["enum"]):
            found[path] = Candidate(path, list(sub["enum"]), "schema")
    if not found:
        for path, value in _walk_values(info.values):
            if isinstance(value, bool) and path.endswith((".enabled", ".create")):
                found[path] = Candidate(path, [value, not value], "values")
    for path, levels in WELL_KNOWN.items():
        if path not in found and _get(info.values, path) is not None:
            found[path] = Candidate(path, levels, "well-known")
    debug = sorted(p for p in found if DEBUG_SWITCH.search(p))
    kept = [c for c in found.values() if c.path not in debug]
    return (sorted(kept, key=lambda c: c.priority)[:MAX_CANDIDATES],
            [f"{p}: a debugging switch (probes off, the app's command replaced): its renders are not meant to run"
             for p in debug])


@dataclass(frozen=True)
class Effect:
    """What flipping one candidate away from the defaults does to the rendered objects."""

    score: int  # 0: renders the same
    refused: str = ""  # every non-default level fails to render alone: the chart's first error line


def _objects(manifest: str, cache: manifests.DocCache) -> dict[tuple[str, str], dict]:
    docs = manifests.flatten([d for d in cache.load_all(manifest) if isinstance(d, dict)])
    return {(str(d.get("kind")), str((d.get("metadata") or {}).get("name"))): d for d in docs}


def _service_type(doc: dict) -> Any:
    return (doc.get("spec") or {}).get("type", "ClusterIP") if doc.get("kind") == "Service" else None


def _score(base: dict[tuple[str, str], dict], other: dict[tuple[str, str], dict]) -> int:
    """Kinds added or removed and a Service's type (how the app is exposed) weigh most, then objects added or
    removed, then any other object whose content changed."""
    moved = set(base) ^ set(other)
    kinds = {k for k, _ in base} ^ {k for k, _ in other}
    both = set(base) & set(other)
    exposed = sum(1 for key in both if _service_type(base[key]) != _service_type(other[key]))
    changed = sum(1 for key in both if base[key] != other[key])
    return 20 * len(kinds) + 20 * exposed + 10 * len(moved) + changed


def effects(chart_dir: Path, found: list[Candidate], defaults: dict) -> dict[str, Effect] | None:
    """Each candidate's effect, from one render per non-default level; None when the defaults do not render
    (then nothing can be compared, and the candidates keep their order by name)."""
    from portico.matrix.layers import nested
    from portico.renderer import RenderJob, default_renderer

    jobs = [RenderJob("defaults", [])]
    for i, c in enumerate(found):
        default = _get(defaults, c.path)
        jobs += [RenderJob(f"{i}/{j}", [nested(c.path, v)]) for j, v in enumerate(c.values) if v != default]
    results = {r.id: r for r in default_renderer(chart_dir, warn=lambda _: None).render_many(jobs)}
    if results["defaults"].error:
        return None
    # One cache for every render: they share most documents (a CRD-heavy chart's CRDs, parsed once, not per render:
    # kuberay's init went from 46 s to a few).
    cache = manifests.DocCache()
    base = _objects(results["defaults"].manifest, cache)
    out = {}
    for i, c in enumerate(found):
        mine = [r for key, r in results.items() if key.startswith(f"{i}/")]
        rendered = [r for r in mine if not r.error]
        if mine and not rendered:
            out[c.path] = Effect(0, refused=(mine[0].error or "").strip().splitlines()[-1][:160])
        else:
            out[c.path] = Effect(max((_score(base, _objects(r.manifest, cache)) for r in rendered), default=0))
    return out


def choose(chart_dir: Path, info: chart_mod.ChartInfo) -> tuple[list[Candidate], list[str]]:
    """The axes to write, most effect first, and a line per candidate left out saying why."""
    found, debug = candidates(info)
    measured = effects(chart_dir, found, info.values) if found else None
    if measured is None:
        return found[:MAX_AXES], debug + ([] if not found else
                                          ["the defaults do not render alone, so no candidate's effect could be "
                                           "measured"])
    left = debug + [f"{c.path}: the chart refuses it alone ({measured[c.path].refused})" for c in found
                    if measured[c.path].refused]
    left += [f"{c.path}: changes no rendered object" for c in found
             if not measured[c.path].refused and measured[c.path].score == 0]
    useful = sorted((c for c in found if measured[c.path].score > 0), key=lambda c: (-measured[c.path].score,
                                                                                      c.priority))
    left += [f"{c.path}: less effect than the {MAX_AXES} kept" for c in useful[MAX_AXES:]]
    if any(not e.refused and e.score == 0 for e in measured.values()):
        left.append("(effects are measured at the defaults with Kubernetes' built-in APIs: a switch gated on a "
                    "CRD's API shows once the matrix lists it under apiVersions)")
    return useful[:MAX_AXES], left


def _axis_name(path: str, taken: set[str]) -> str:
    parts = re.split(r"[.\-_]", path)
    parts = [p for p in parts if p and p != "enabled"] or ["axis"]
    name = parts[0][0].lower() + parts[0][1:] + "".join(p[:1].upper() + p[1:] for p in parts[1:])
    name = re.sub(r"[^A-Za-z0-9_]", "", name) or "axis"
    if not re.match(r"[A-Za-z_]", name):
        name = f"a_{name}"
    base, n = name, 2
    while name in taken or name in ("environment", "kubeVersion"):
        name, n = f"{base}{n}", n + 1
    taken.add(name)
    return name


def matrix_text(chart_dir: Path, output: Path, chart_ref: str | None = None) -> str:
    info = chart_mod.load(chart_dir)
    found, left_out = choose(chart_dir, info)
    cases = ct_cases(chart_dir)
    if not found and not cases:
        raise InputError("found no switches that change what the chart renders (no booleans or short enums in "
                         "values.schema.json or values.yaml with an effect on the objects): write axes by hand, see "
                         "docs/matrix.md", source=str(chart_dir))
    taken: set[str] = set()
    axes = {_axis_name(c.path, taken): {"path": c.path, "values": c.values} for c in found}
    space = 1
    for c in found:
        space *= len(c.values)
    versions = kubernetes_versions()
    where = chart_ref or os.path.relpath(chart_dir.resolve(), output.resolve().parent)
    doc: dict[str, Any] = {"chart": where,
                           "release": {"name": re.sub(r"[^a-z0-9-]", "-", info.name.lower())[:40].strip("-") or "rel"},
                           "axes": axes or {"defaults": {"snippets": {"chart": {}}}}}
    if cases:  # chart-testing's convention: each ci/*-values.yaml a case, beside the chart's defaults
        if chart_ref:
            # A pulled chart lives in a temporary directory: the matrix carries the cases' values itself.
            doc["axes"][_axis_name("ctValues", taken)] = {"snippets": {
                "defaults": {}, **{name: values_mod.load_file(c) for name, c in cases.items()}}}
        else:
            rel = os.path.relpath((chart_dir / "ci").resolve(), output.resolve().parent)
            doc["environments"] = {"defaults": [], **{name: [f"{rel}/{c.name}"] for name, c in cases.items()}}
        space *= len(cases) + 1
    if space > EXHAUSTIVE_LIMIT:
        doc["strategy"] = {"type": "t-wise", "t": 2, "seed": 1}
    doc["validate"] = {"kubernetesVersions": [versions[0], versions[-1]]}
    sources = sorted({c.source for c in found})
    head = [
        f"# A first portico matrix for the {info.name} chart, written by `portico init`.",
        f"# Axes come from {' and '.join(sources) or 'nothing'}, the switches that change the rendered objects "
        f"most: {len(found)} axes" + (f" and ct's {len(cases)} ci/*-values.yaml cases" if cases else "")
        + f", {space} combinations"
        + (" (many: t-wise, t=2, renders every pair of levels in far fewer)." if "strategy" in doc else "."),
        *(["# Left out:"] + [f"#   - {line}" for line in left_out] if left_out else []),
        "# Next steps (docs/use-on-your-chart.md):",
        "#   - run it: portico matrix " + output.name,
        "#   - values every combination needs (an image, a required key): add a file under `values:`",
        "#   - combinations the chart refuses on purpose: `expectations: [{when: ..., error: ...}]`",
        "#   - combinations that make no sense: `constraints: [\"a and not b\"]`",
        "#   - promises to check on every render: `expectations: [{when: ..., assert: ...}]`",
        "#   - known findings you accept: `portico matrix ... --write-baseline baseline.yaml`, then give reasons",
    ]
    return "\n".join(head) + "\n" + yaml.safe_dump(doc, sort_keys=False, width=120)


def write(chart_dir: Path, output: Path | None, force: bool = False, chart_ref: str | None = None) -> Path:
    """chart_ref: what the matrix's `chart:` says when the chart was pulled (oci://...@VERSION, repo/chart)."""
    target = output or chart_dir / "ci" / "portico-matrix.yaml"
    if target.exists() and not force:
        raise InputError("exists already: choose another path with -o, or --force to replace it", source=str(target))
    text = matrix_text(chart_dir, target, chart_ref)
    write_atomic(target, text)
    return target

