"""The matrix pipeline: plan -> check -> render -> dedupe -> write -> schemas -> policy -> upgrade -> admission
-> properties -> group (the stages after dedupe are `STAGES`).

Renders are deduplicated by content (randomised fields masked), every stage runs
once per unique render, and each finding names every combination that produces
it. Findings are grouped by (stage, rule, object, message), baselined findings
are set aside, and the output directory is written whole or not at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable

from portico import baseline as baseline_mod
from portico import manifests, policy, schemas, upgrade_safety
from portico import values as values_mod
from portico.chartref import Fetch
from portico.errors import InputError
from portico.files import OutputDir
from portico.matrix import combos as combos_mod
from portico.matrix import crosscheck, grouping, locate, properties, randomness
from portico.matrix import layers as layers_mod
from portico.matrix.spec import KUBE_VERSION, Matrix
from portico.renderer import HelmLoopRenderer, RenderJob, RenderResult, default_renderer
from portico.results import WARNING_SEVERITY, Finding
from portico.schemas import crd as crd_schemas


@dataclass(frozen=True)
class Stage:
    """A matrix stage after the renders: its name (the key of its time in the report) and when it runs."""

    name: str
    run: Callable[["_Pipeline", Path, Any], None]  # (pipeline, staging dir, previous chart or None)
    wanted: Callable[["_Pipeline", Any], bool] = lambda _pipeline, _previous: True

CRD_SCHEMA_HINT = ("nothing to fix in the chart; its custom resources of that kind are checked less: admission "
                   "(--admission) checks them in full")
PROBES = 5  # distinct renders rendered twice to find randomised content
_PARSE_ERROR = re.compile(r"parse error|function \"[^\"]+\" not defined|unexpected .* in (command|operand)")


@dataclass
class ComboResult:
    id: str
    levels: dict[str, str]
    render: str | None = None  # fingerprint of the unique render
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
    findings: list[Finding]  # grouped, baselined ones removed
    unique_renders: int
    resources: int
    validations: int
    timings: dict[str, float] = field(default_factory=dict)
    out_dir: Path | None = None
    baselined: list[Finding] = field(default_factory=list)
    stale_baseline: list[baseline_mod.Entry] = field(default_factory=list)
    randomised: list[str] = field(default_factory=list)  # "Secret data.admin-password", masked for dedupe
    cross_checked: int = 0  # combinations rendered again by `helm template` and found the same

    @property
    def ok(self) -> bool:
        return not any(f.severity != WARNING_SEVERITY for f in self.findings)

    @property
    def places(self) -> int:
        return sum(max(1, len(f.combinations)) for f in self.findings)


Progress = Callable[[str, int], Callable[[int], None]]


def _no_progress(_stage: str, _total: int) -> Callable[[int], None]:
    return lambda _n: None


@dataclass(frozen=True)
class Options:
    """What the command line adds to a matrix file."""

    upgrade_from: str | None = None
    api_versions: tuple[str, ...] = ()
    schema_locations: tuple[str, ...] = ()
    baseline: Path | None = None
    admission: bool = False  # every distinct resource through a real API server (server-side dry-run)
    pod_security: str = "restricted"
    admission_kubeconfig: Path | None = None  # that cluster instead of a local server; nothing is created there
    admission_versions: tuple[str, ...] = ()  # Kubernetes minors to start a local server of (default: the pinned)
    fetch: Fetch = Fetch()  # how a remote chart or upgrade.from is pulled
    cross_check: bool = True  # a few combinations rendered again by `helm template` and compared (crosscheck)


def build_jobs(matrix: Matrix, chosen: list[dict[str, str]],
               api_versions: tuple[str, ...] = ()) -> tuple[list[ComboResult], list[RenderJob]]:
    results, jobs, seen = [], [], set()
    for combo in chosen:
        cid = combos_mod.combo_id(matrix, combo)
        if cid in seen:
            cid = f"{cid}_{len(seen)}"
        seen.add(cid)
        expectation = combos_mod.expectation_for(matrix, combo)
        results.append(ComboResult(cid, combo, expected_error=expectation.error if expectation else None))
        axis_apis = tuple(v for axis in matrix.axes if axis.api_versions for v in axis.api_versions[combo[axis.name]])
        builtin = _builtin_kinds(matrix, combo.get(KUBE_VERSION))
        jobs.append(RenderJob(id=cid, layers=layers_mod.layers(matrix, combo), kube_version=combo.get(KUBE_VERSION),
                              release=matrix.release, namespace=matrix.namespace,
                              api_versions=tuple(dict.fromkeys((*matrix.api_versions, *api_versions, *axis_apis,
                                                                *builtin)))))
    return results, jobs


def _builtin_kinds(matrix: Matrix, kube_version: str | None) -> tuple[str, ...]:
    """The chart's capability checks (group/version or group/version/Kind) that the target Kubernetes version
    serves, as a real API server would answer them: helm template's own list lacks some group/versions every
    cluster serves (apiregistration.k8s.io/v1) and every kind.

    Without a kubeVersion, helm template assumes the newest pinned version (helm 4 and the pinned
    helm 3 say 1.37), and so does this.
    """
    if not matrix.builtin_checks:
        return ()
    version = kube_version or schemas.kubernetes_versions()[-1]
    if version not in schemas.kubernetes_versions():
        return ()
    kinds = schemas.builtin_api_versions(version)
    served = kinds | {gvk.rsplit("/", 1)[0] for gvk in kinds}
    return tuple(sorted(matrix.builtin_checks & served))


def _render_all(renderer, jobs: list[RenderJob], progress: Progress, stage: str = "render") -> dict[str, RenderResult]:
    advance = progress(stage, len(jobs))
    out = {}
    for result in renderer.render_many(jobs):
        out[result.id] = result
        advance(1)
    return out


def _probe_jobs(jobs: list[RenderJob], rendered: dict[str, RenderResult]) -> tuple[list[RenderJob], dict[str, str]]:
    """A few jobs with distinct renders, spread over the run, to render again; and every job's plain hash."""
    # The plain hash is what fingerprint() gives without masks: the manifest's sha256 (the renderer's, when sent).
    plain = {j.id: rendered[j.id].digest()[:16] for j in jobs if rendered[j.id].error is None}
    distinct: dict[str, RenderJob] = {}
    for job in jobs:
        if job.id in plain:
            distinct.setdefault(plain[job.id], job)
    pool = list(distinct.values())
    step = max(1, len(pool) // PROBES)
    probes = [RenderJob(f"probe:{j.id}", j.layers, j.kube_version, j.release, j.namespace, j.api_versions)
              for j in pool[::step][:PROBES]]
    return probes, plain


def _chart_error(error: str) -> bool:
    """A template that does not parse is a broken chart, whatever the values: an input error, not a finding."""
    return bool(_PARSE_ERROR.search(error))


def run(matrix: Matrix, out_dir: Path, *, shard: tuple[int, int] | None = None, renderer=None,
        progress: Progress = _no_progress, upgrade_from: str | None = None,
        options: Options = Options()) -> MatrixResult:
    if upgrade_from:
        options = replace(options, upgrade_from=upgrade_from)
    return _Pipeline(matrix, OutputDir(out_dir), shard, progress, options).run(renderer)


class _Pipeline:
    def __init__(self, matrix: Matrix, target: OutputDir, shard, progress: Progress, options: Options):
        self.matrix, self.target, self.shard, self.progress, self.options = matrix, target, shard, progress, options
        self.timings: dict[str, float] = {}
        self.findings: list[Finding] = []
        self.by_hash: dict[str, str] = {}
        self.combos_of: dict[str, list[str]] = defaultdict(list)
        self.parsed: dict[str, list[dict]] = {}
        self.docs = manifests.DocCache()  # each distinct document parsed and dumped once
        self.masked_pieces: dict[str, str] = {}  # document text -> its hash with random places masked
        self.masks: set = set()
        self.admitted = 0
        self.upgrade_paths: list = []
        self.upgrade_label = ""
        self.crds: list[dict] = []
        if options.admission_versions:
            from portico.admission.server import available_minors

            unknown = [m for m in options.admission_versions if m not in available_minors()]
            if unknown:
                raise InputError(f"no kube-apiserver pinned for Kubernetes {', '.join(unknown)}; available: "
                                 f"{', '.join(sorted(available_minors()))}", source="--admission-kube-version")
        if options.admission_kubeconfig is not None:
            from portico.admission.kubeconfig import connection

            connection(options.admission_kubeconfig)  # a bad kubeconfig is an input error before any work
        baseline_path = options.baseline or matrix.baseline
        self.baseline = baseline_mod.load(baseline_path) if baseline_path else []

    def _timed(self, stage: str, started: float) -> None:
        self.timings[stage] = time.monotonic() - started

    def run(self, renderer) -> MatrixResult:
        started = time.monotonic()
        self.plan = combos_mod.plan(self.matrix)
        chosen = combos_mod.shard(self.plan.combinations, *self.shard) if self.shard else self.plan.combinations
        if not chosen:
            raise InputError("no combination left to run (check constraints and --shard)", source=str(self.matrix.path))
        self.results, self.jobs = build_jobs(self.matrix, chosen, self.options.api_versions)
        previous = None
        if self.options.upgrade_from or self.matrix.upgrade_from:
            previous = upgrade_safety.resolve(self.options.upgrade_from or self.matrix.upgrade_from,
                                              self.matrix.chart, source=str(self.matrix.path),
                                              fetch=self.options.fetch)
        self._timed("plan", started)

        t0 = time.monotonic()
        renderer = renderer or default_renderer(self.matrix.chart)
        rendered = _render_all(renderer, self.jobs, self.progress)
        probes, plain = _probe_jobs(self.jobs, rendered)
        if probes and self.matrix.randomising:  # no template calls a random or time function: nothing to find
            again = _render_all(renderer, probes, self.progress, "probe")
            self.masks = randomness.masks([(rendered[p.id.removeprefix("probe:")].manifest, again[p.id].manifest)
                                           for p in probes if again[p.id].error is None], self.docs)
        self._timed("render", t0)
        check = self._start_cross_check(renderer)
        staging = None
        try:
            self._dedupe(rendered, plain)
            staging = self.target.staging()
            resources, validations = self._stages(staging, previous)
            self._finish_cross_check(check, rendered)
            out_dir = self.target.commit(staging)
        except BaseException:
            if check is not None:
                check.cancel()
            if staging is not None:
                self.target.discard(staging)
            raise
        self.timings["total"] = time.monotonic() - started
        fresh, known, stale = baseline_mod.split(self._grouped(), self.baseline)
        return MatrixResult(self.matrix, self.plan, self.shard, self.results, fresh, len(self.by_hash), resources,
                            validations, self.timings, out_dir, known, stale, randomness.describe(self.masks),
                            len(check.jobs) if check else 0)

    def _start_cross_check(self, renderer) -> crosscheck.CrossCheck | None:
        """helm template on one combination per subchart setting, beside the stages (not when helm renders)."""
        if not self.options.cross_check or isinstance(renderer, HelmLoopRenderer):
            return None
        return crosscheck.CrossCheck(self.matrix.chart, crosscheck.choose(self.jobs, self.matrix.subchart_switches))

    def _finish_cross_check(self, check: crosscheck.CrossCheck | None, rendered: dict[str, RenderResult]) -> None:
        if check is None:
            return
        t0 = time.monotonic()
        levels = {c.id: ", ".join(f"{axis}={level}" for axis, level in c.levels.items()) for c in self.results}
        divergence = check.result(rendered, self.masks, levels)
        self._timed("cross-check wait", t0)
        if divergence is not None:
            raise divergence.error()

    def _dedupe(self, rendered: dict[str, RenderResult], plain: dict[str, str]) -> None:
        for combo in self.results:
            res = rendered[combo.id]
            combo.error = res.error
            if res.error is None:
                # Without randomised places the plain hash already is the fingerprint.
                combo.render = (randomness.fingerprint(res.manifest, self.masks, self.masked_pieces, self.docs)
                                if self.masks else plain[combo.id])
                self.by_hash.setdefault(combo.render, res.manifest)
                self.combos_of[combo.render].append(combo.id)
            elif combo.expected_error is None and _chart_error(res.error):
                raise InputError(f"the chart's templates do not parse: {res.error}", source=str(self.matrix.chart))
            self.findings.extend(_render_findings(combo))
        self.parsed = {h: self.docs.load_all(m) for h, m in self.by_hash.items()}
        # The chart's CRDs, from crds/ and from its renders, each once (the chart's own first).
        crds = {json.dumps(d, sort_keys=True, default=str): d for d in self.matrix.chart_crds}
        rendered_crds = {id(d): d for docs in self.parsed.values() for d in docs
                         if d.get("kind") == "CustomResourceDefinition"}
        crds.update((json.dumps(d, sort_keys=True, default=str), d) for d in rendered_crds.values())
        self.crds = list(crds.values())

    def _stages(self, staging: Path, previous) -> tuple[int, int]:
        """Every stage after the renders, in `STAGES` order, each timed here and nowhere else."""
        self.resources = self.validations = 0
        for stage in STAGES:
            if stage.wanted(self, previous):
                t0 = time.monotonic()
                stage.run(self, staging, previous)
                self._timed(stage.name, t0)
        return self.resources, self.validations

    def _write_stage(self, staging: Path, _previous) -> None:
        self.resources = _write(staging, self.matrix, self.results, self.jobs, self.parsed, self.plan, self.shard,
                                self.docs)

    def _schema_stage(self, staging: Path, _previous) -> None:
        self.validations = self._schemas(staging / "renders") if self.by_hash else 0

    def _upgrade_stage(self, _staging: Path, previous) -> None:
        found, self.upgrade_paths = _upgrade_findings(previous, self.jobs, self.results, self.parsed, self.progress)
        self.findings.extend(found)
        self.upgrade_label = previous.label

    def _admission_wanted(self) -> bool:
        options = self.options
        return bool(self.parsed) and bool(options.admission or options.admission_kubeconfig
                                          or options.admission_versions)

    def _schemas(self, renders: Path) -> int:
        """kubeconform once per distinct resource (not per render), per Kubernetes version."""
        validations = 0
        with tempfile.TemporaryDirectory(prefix="portico-validate-") as tmp:
            unique, renders_of = _unique_resources(self.parsed, Path(tmp) / "resources", self.docs)
            # The chart's own CRDs (crds/ and rendered ones) validate its custom resources.
            extra = [*self.options.schema_locations, *self.matrix.schema_locations]
            unconverted: list[str] = []
            if crd_schemas.convert_crds(self.crds, Path(tmp) / "crd-schemas", str(self.matrix.chart), unconverted):
                extra.insert(0, crd_schemas.location(Path(tmp) / "crd-schemas"))
            self.findings += [Finding("schema", "crd-schema", note, hint=CRD_SCHEMA_HINT, severity=WARNING_SEVERITY)
                              for note in unconverted]
            advance = self.progress("schemas", len(self.matrix.validate_versions))
            versions = list(self.matrix.validate_versions)

            def validate(version: str):
                return schemas.validate(version, [unique], skip_kinds=self.matrix.skip_kinds, extra_locations=extra)

            # One kubeconform per version at once, up to the cores: on a small matrix each run is mostly its start.
            with ThreadPoolExecutor(max(1, min(len(versions), os.cpu_count() or 1))) as pool:
                results = list(pool.map(validate, versions))
            for version, result in zip(versions, results):
                for f in result.invalid:
                    resource = Path(f.filename).stem
                    combos = tuple(c for h in renders_of.get(resource, ()) for c in self.combos_of.get(h, []))
                    self.findings.append(Finding("schema", "kubeconform", f.message, f.kind, f.name, version,
                                                 schema_hint(f.message), combos))
                validations += sum(len(docs) for docs in self.parsed.values())
                advance(1)
        return validations

    def _policy(self) -> None:
        advance = self.progress("policy", len(self.parsed))
        for h, docs in self.parsed.items():
            combos = tuple(self.combos_of[h])
            for v in policy.check(docs, disabled=self.matrix.disabled_rules):
                rule = policy.describe(v.rule)
                self.findings.append(Finding("policy", v.rule, f"{rule.message}: {v.detail}", v.kind, v.name,
                                             hint=rule.hint, combinations=combos,
                                             severity=policy.severity(v.rule, self.matrix.profile)))
            for v in policy.deprecations(docs, self.matrix.validate_versions):
                if v.rule in self.matrix.disabled_rules:
                    continue
                rule = policy.describe(v.rule)
                self.findings.append(Finding("deprecation", v.rule, v.detail, v.kind, v.name, v.kubernetes_version,
                                             rule.hint, combos, rule.severity))
            advance(1)

    def _admission(self) -> None:
        from portico.admission import stage
        from portico.admission.client import Client

        if self.options.admission_kubeconfig is not None:
            client = Client.from_kubeconfig(self.options.admission_kubeconfig)
            client.discover()
            findings, self.admitted = stage.admit(client, self.parsed, self.combos_of, namespace=self.matrix.namespace,
                                                  kubernetes_version=stage.server_version(client), prepare=False,
                                                  progress=self.progress)
        else:
            findings, self.admitted = stage.run_local(
                self.parsed, self.combos_of, namespace=self.matrix.namespace, crds=self.crds,
                pod_security=self.options.pod_security,
                minors=self.options.admission_versions or self.matrix.admission_versions or (None,),
                upgrade_paths=self.upgrade_paths, upgrade_label=self.upgrade_label, progress=self.progress)
        self.findings.extend(findings)

    def _properties(self) -> None:
        cache: dict[tuple, bool] = {}
        source = str(self.matrix.path)
        for combo in self.results:
            if combo.render is None:
                continue
            variables = combos_mod.context(self.matrix, combo.levels)
            for rule in self.matrix.properties:
                if not combos_mod.evaluate(rule, variables, self.matrix):
                    continue
                key = (combo.render, rule.source, tuple(repr(variables[n]) for n in rule.assertion_variables))
                if key not in cache:
                    cache[key] = properties.holds(rule, self.parsed[combo.render], variables, source)
                if not cache[key]:
                    what = f" ({rule.reason})" if rule.reason else ""
                    self.findings.append(Finding("expectation", "expected-property",
                                                 f"when {rule.expression}: {rule.assertion_text} is false{what}",
                                                 hint=f"see {rule.source} in {self.matrix.path.name}",
                                                 combinations=(combo.id,)))

    def _grouped(self) -> list[Finding]:
        # An API version the target Kubernetes no longer serves has no schema there either: one problem, told once
        # (by the deprecation rule, which names the replacement).
        removed = {(f.kind, f.name, f.kubernetes_version) for f in self.findings if f.rule == "api/removed"}
        self.findings = [f for f in self.findings if not (f.rule == "kubeconform" and f.message.startswith(
            "could not find schema") and (f.kind, f.name, f.kubernetes_version) in removed)]
        order = {c.id: i for i, c in enumerate(self.results)}
        every = {c.id: c.levels for c in self.results}
        # A finding about rendered objects can only appear where the chart rendered: its trigger is
        # sought among those combinations.
        rendered = {c.id: c.levels for c in self.results if c.render}
        locator = locate.Locator(self.matrix.chart, self.matrix.path, self.parsed, self.docs)
        out = []
        for f in grouping.group(self.findings, order):
            universe = every if f.stage == "render" or f.rule == "expected-rejection" else rendered
            out.append(locator.locate(replace(f, trigger=grouping.trigger(f.combinations, universe))))
        return out


def schema_hint(message: str) -> str:
    if message.startswith("could not find schema"):
        return ("no schema for this kind: ship its CRD in the chart's crds/, add a catalog with "
                "validate.schemaLocations (--schema-location), or list the kind in validate.skipKinds")
    return "fix the field named, to what it expects"


def _unique_resources(parsed: dict[str, list[dict]], root: Path,
                      cache: manifests.DocCache) -> tuple[Path, dict[str, list[str]]]:
    """Each distinct resource once, as root/<hash>.yaml; and which renders hold each."""
    root.mkdir(parents=True)
    renders_of: dict[str, list[str]] = defaultdict(list)
    digests: dict[int, str] = {}
    for render, docs in parsed.items():
        for doc in docs:
            text = cache.dump(doc, sort_keys=True)
            digest = digests.get(id(doc)) or digests.setdefault(id(doc), hashlib.sha256(text.encode()).hexdigest()[:20])
            if digest not in renders_of:
                (root / f"{digest}.yaml").write_text(text)
            renders_of[digest].append(render)
    return root, renders_of


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
           parsed: dict[str, list], plan: combos_mod.Plan, shard: tuple[int, int] | None,
           cache: manifests.DocCache) -> int:
    # File creation is system calls, mostly outside the GIL: a few threads overlap them.
    with ThreadPoolExecutor(4) as pool:
        resources = sum(pool.map(lambda item: len(manifests.write_resources(item[1], root / "renders" / item[0],
                                                                            cache)), parsed.items()))
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


# The stages after plan, render and dedupe, in the order they run (docs/matrix.md lists them in this order; a test
# holds it): a new stage is a `Stage` here.
STAGES: tuple[Stage, ...] = (
    Stage("write", _Pipeline._write_stage),
    Stage("schemas", _Pipeline._schema_stage),
    Stage("policy", lambda pipeline, _staging, _previous: pipeline._policy()),
    Stage("upgrade", _Pipeline._upgrade_stage, lambda _pipeline, previous: previous is not None),
    Stage("admission", lambda pipeline, _staging, _previous: pipeline._admission(),
          lambda pipeline, _previous: pipeline._admission_wanted()),
    Stage("properties", lambda pipeline, _staging, _previous: pipeline._properties(),
          lambda pipeline, _previous: bool(pipeline.matrix.properties)),
)


def _upgrade_findings(previous: upgrade_safety.PreviousChart, jobs: list[RenderJob], results: list[ComboResult],
                      parsed: dict[str, list], progress: Progress) -> tuple[list[Finding], list]:
    rendered_old = _render_all(default_renderer(previous.path), jobs, progress, "upgrade")
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    old_docs: dict[str, list] = {}
    for combo in results:
        old = rendered_old[combo.id]
        if combo.render is None or old.error is not None:
            continue  # values the old chart rejects cannot be an upgrade path
        old_hash = randomness.fingerprint(old.manifest, set())
        if old_hash not in old_docs:
            old_docs[old_hash] = manifests.load_all(old.manifest)
        grouped[(old_hash, combo.render)].append(combo.id)
    from portico.admission.stage import UpgradePath

    findings, paths = [], []
    for (old_hash, new_hash), ids in grouped.items():
        paths.append(UpgradePath(old_docs[old_hash], parsed[new_hash], tuple(ids)))
        for v in upgrade_safety.compare(old_docs[old_hash], parsed[new_hash]):
            findings.append(Finding("upgrade", v.rule, f"from {previous.label}: {v.detail}", v.kind, v.name,
                                    hint="keep immutable fields stable, or document the migration",
                                    combinations=tuple(ids)))
    return findings, paths
