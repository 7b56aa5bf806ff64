"""The matrix pipeline: plan -> render -> dedupe -> write -> schemas -> policy -> upgrade.

Findings are collected per unique render and reported for every combination
that produced it. The output directory is written whole or not at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from portico import manifests, policy, schemas, upgrade_safety
from portico import values as values_mod
from portico.errors import InputError
from portico.matrix import combos as combos_mod
from portico.matrix import layers as layers_mod
from portico.matrix.spec import KUBE_VERSION, Matrix
from portico.renderer import RenderJob, RenderResult, default_renderer
from portico.results import Finding

STAGES = ("render", "expectation", "schema", "policy", "upgrade")


@dataclass
class ComboResult:
    id: str
    levels: dict[str, str]
    render: str | None = None  # hash of the unique render
    error: str | None = None
    expected_error: str | None = None

    @property
    def status(self) -> str:
        if self.expected_error is not None:
            return "rejected-as-expected" if self.error and self.expected_error in self.error else "expectation-failed"
        return "rendered" if self.render else "render-failed"

    def as_dict(self) -> dict[str, Any]:
        """The index and the JSON report describe a combination the same way."""
        return {"id": self.id, "levels": self.levels, "render": self.render, "status": self.status,
                "error": self.error}


@dataclass
class MatrixResult:
    matrix: Matrix
    plan: combos_mod.Plan
    shard: tuple[int, int] | None
    combos: list[ComboResult]
    findings: list[Finding]
    unique_renders: int
    resources: int
    validations: int
    timings: dict[str, float] = field(default_factory=dict)
    out_dir: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.findings


Progress = Callable[[str, int], Callable[[int], None]]


def _no_progress(_stage: str, _total: int) -> Callable[[int], None]:
    return lambda _n: None


def render_hash(manifest: str) -> str:
    return hashlib.sha256(manifest.encode()).hexdigest()[:16]


def build_jobs(matrix: Matrix, chosen: list[dict[str, str]]) -> tuple[list[ComboResult], list[RenderJob]]:
    results, jobs, seen = [], [], set()
    for combo in chosen:
        cid = combos_mod.combo_id(matrix, combo)
        if cid in seen:
            cid = f"{cid}_{len(seen)}"
        seen.add(cid)
        expectation = combos_mod.expectation_for(matrix, combo)
        results.append(ComboResult(cid, combo, expected_error=expectation.error if expectation else None))
        jobs.append(RenderJob(id=cid, layers=layers_mod.layers(matrix, combo), kube_version=combo.get(KUBE_VERSION),
                              release=matrix.release, namespace=matrix.namespace))
    return results, jobs


def _render_all(renderer, jobs: list[RenderJob], progress: Progress) -> dict[str, RenderResult]:
    advance = progress("render", len(jobs))
    out = {}
    for result in renderer.render_many(jobs):
        out[result.id] = result
        advance(1)
    return out


def run(matrix: Matrix, out_dir: Path, *, shard: tuple[int, int] | None = None, renderer=None,
        progress: Progress = _no_progress, upgrade_from: str | None = None) -> MatrixResult:
    timings: dict[str, float] = {}
    started = time.monotonic()
    plan = combos_mod.plan(matrix)
    chosen = combos_mod.shard(plan.combinations, *shard) if shard else plan.combinations
    if not chosen:
        raise InputError("no combination left to run (check constraints and --shard)", source=str(matrix.path))
    results, jobs = build_jobs(matrix, chosen)
    previous = None
    if upgrade_from or matrix.upgrade_from:
        previous = upgrade_safety.resolve(upgrade_from or matrix.upgrade_from, matrix.chart, source=str(matrix.path))
    timings["plan"] = time.monotonic() - started

    t0 = time.monotonic()
    rendered = _render_all(renderer or default_renderer(matrix.chart), jobs, progress)
    timings["render"] = time.monotonic() - t0

    findings: list[Finding] = []
    by_hash: dict[str, str] = {}
    combos_of: dict[str, list[str]] = defaultdict(list)
    for combo in results:
        res = rendered[combo.id]
        combo.error = res.error
        if res.error is None:
            combo.render = render_hash(res.manifest)
            by_hash.setdefault(combo.render, res.manifest)
            combos_of[combo.render].append(combo.id)
        findings.extend(_render_findings(combo))

    t0 = time.monotonic()
    parsed = {h: manifests.load_all(m) for h, m in by_hash.items()}
    partial = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    resources = _write(partial, matrix, results, jobs, parsed, plan, shard)
    timings["write"] = time.monotonic() - t0

    t0 = time.monotonic()
    validations = 0
    if by_hash:
        advance = progress("schemas", len(matrix.validate_versions))
        for version in matrix.validate_versions:
            result = schemas.validate(version, [partial / "renders"], skip_kinds=matrix.skip_kinds)
            validations += result.resources
            for f in result.invalid:
                render_id = Path(f.filename).relative_to(partial / "renders").parts[0]
                findings.append(Finding("schema", "kubeconform", f.message, f.kind, f.name, version,
                                        "fix the field kubeconform names", tuple(combos_of.get(render_id, []))))
            advance(1)
    timings["schemas"] = time.monotonic() - t0

    t0 = time.monotonic()
    advance = progress("policy", len(parsed))
    for h, docs in parsed.items():
        for v in policy.check(docs, disabled=matrix.disabled_rules):
            rule = policy.describe(v.rule)
            findings.append(Finding("policy", v.rule, f"{rule.message}: {v.detail}", v.kind, v.name,
                                    hint=rule.hint, combinations=tuple(combos_of[h])))
        advance(1)
    timings["policy"] = time.monotonic() - t0

    if previous is not None:
        t0 = time.monotonic()
        findings.extend(_upgrade_findings(previous, jobs, results, parsed, progress))
        timings["upgrade"] = time.monotonic() - t0

    shutil.rmtree(out_dir, ignore_errors=True)
    partial.replace(out_dir)
    timings["total"] = time.monotonic() - started
    return MatrixResult(matrix, plan, shard, results, findings, len(by_hash), resources, validations, timings, out_dir)


def _render_findings(combo: ComboResult) -> Iterable[Finding]:
    if combo.expected_error is None:
        if combo.error:
            yield Finding("render", "render", combo.error, hint="helm refused these values", combinations=(combo.id,))
        return
    if combo.error is None:
        yield Finding("expectation", "expected-rejection",
                      f"expected a rejection containing {combo.expected_error!r}, but it rendered",
                      combinations=(combo.id,))
    elif combo.expected_error not in combo.error:
        yield Finding("expectation", "expected-rejection",
                      f"rejected, but without {combo.expected_error!r}: {combo.error}", combinations=(combo.id,))


def _write(root: Path, matrix: Matrix, results: list[ComboResult], jobs: list[RenderJob],
           parsed: dict[str, list], plan: combos_mod.Plan, shard: tuple[int, int] | None) -> int:
    resources = 0
    for h, docs in parsed.items():
        resources += len(manifests.write_resources(docs, root / "renders" / h))
    for combo, job in zip(results, jobs):
        cdir = root / "combinations" / combo.id
        cdir.mkdir(parents=True)
        # JSON is YAML too, and dumps an order of magnitude faster for thousands of combinations.
        (cdir / "values.yaml").write_text(json.dumps(values_mod.merge(job.layers), indent=1, default=str))
        if combo.render:
            os.symlink(Path("..") / ".." / "renders" / combo.render, cdir / "manifests")
        elif combo.error:
            (cdir / "error.txt").write_text(combo.error + "\n")
    index = {
        "matrix": str(matrix.path),
        "chart": str(matrix.chart),
        "strategy": matrix.strategy,
        "shard": list(shard) if shard else None,
        "axes": {a.name: list(a.levels) for a in matrix.axes},
        "combinations": [c.as_dict() for c in results],
        "renders": sorted(parsed),
        "coverage": asdict(plan.coverage) if plan.coverage else None,
    }
    (root / "index.json").write_text(json.dumps(index, indent=2))
    return resources


def _upgrade_findings(previous: upgrade_safety.PreviousChart, jobs: list[RenderJob], results: list[ComboResult],
                      parsed: dict[str, list], progress: Progress) -> list[Finding]:
    rendered_old = _render_all(default_renderer(previous.path), jobs, progress)
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    old_docs: dict[str, list] = {}
    for combo in results:
        old = rendered_old[combo.id]
        if combo.render is None or old.error is not None:
            continue  # values the old chart rejects cannot be an upgrade path
        old_hash = render_hash(old.manifest)
        if old_hash not in old_docs:
            old_docs[old_hash] = manifests.load_all(old.manifest)
        grouped[(old_hash, combo.render)].append(combo.id)
    findings = []
    for (old_hash, new_hash), ids in grouped.items():
        for v in upgrade_safety.compare(old_docs[old_hash], parsed[new_hash]):
            findings.append(Finding("upgrade", v.rule, f"from {previous.label}: {v.detail}", v.kind, v.name,
                                    hint="keep immutable fields stable, or document the migration",
                                    combinations=tuple(ids)))
    return findings
