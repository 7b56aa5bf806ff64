"""`portico ci`: every selected chart through dependencies, lint, version and its matrix; one report.

Charts run several at once (bounded by the cores), each step a `Case` of the one `Report`, grouped per
chart (a JUnit suite each). A chart whose dependencies cannot be found offline is skipped with the reason;
the others still run.
"""

from __future__ import annotations

import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from portico import versioning
from portico.clients.helm import Helm, HelmError
from portico.errors import PorticoError
from portico.matrix import spec
from portico.matrix.run import Options, run as run_matrix
from portico.repo import install, matrixfile
from portico.repo.changes import Selected
from portico.repo.config import CiConfig
from portico.repo.deps import Resolver
from portico.repo.install import InstallOptions
from portico.results import ERROR, FAILED, PASSED, SKIPPED, WARNING_SEVERITY, Case, Finding, Report


STEPS = ("dependencies", "lint", "version", "matrix", "install")


@dataclass(frozen=True)
class CiOptions:
    root: Path
    config: CiConfig
    out_dir: Path
    base: str | None = None  # the commit versions are compared with (merge base); None: no comparison
    dependency_dirs: tuple[Path, ...] = ()
    admission: bool = False
    jobs: int = 0  # charts at once; 0: the cores
    install: InstallOptions | None = None  # --install: each case installed, upgraded and tested on a cluster


@dataclass
class ChartRun:
    selected: Selected
    cases: list[Case] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def chart(self):
        return self.selected.chart

    def add(self, step: str, status: str, started: float, detail: str = "", findings: list[Finding] = (),
            label: str | None = None) -> None:
        """One step's case; `label` names it when a step has several (an install per values file)."""
        findings = [replace(f, file=f.file or self.chart.rel) for f in findings]
        self.cases.append(Case(f"{self.chart.name} {label or step}", status, findings, time.monotonic() - started,
                               {"chart": self.chart.name, "path": self.chart.rel, "step": step,
                                "suite": self.chart.rel}, detail))
        self.findings += findings

    def status(self, step: str) -> str:
        """The step's status; of a step with several cases, the first that did not pass."""
        mine = [c for c in self.cases if c.properties["step"] == step]
        return next((c.status for c in mine if not c.passed), mine[0].status if mine else "-")


def _lint(run: ChartRun, chart_dir: Path, options: CiOptions) -> None:
    started = time.monotonic()
    try:
        out = Helm.pinned().lint(chart_dir, strict=True)
        run.add("lint", PASSED, started, out.strip())
    except HelmError as exc:
        run.add("lint", FAILED, started, str(exc),
                [Finding("lint", "helm-lint", str(exc), hint="fix what helm lint --strict names")])
    if options.config.validate_maintainers:
        run.add("maintainers", SKIPPED, time.monotonic(),
                "validate-maintainers needs the GitHub API (ct asks it whether each maintainer is an account): "
                "not checked offline")


def _version(run: ChartRun, options: CiOptions) -> None:
    started = time.monotonic()
    if not options.config.check_version_increment:
        run.add("version", SKIPPED, started, "check-version-increment is false in the ct config")
        return
    if options.base is None:
        run.add("version", SKIPPED, started, "no base commit to compare with (--all or --charts outside a branch)")
        return
    problems = versioning.bump_problems(run.chart.path, options.base)
    run.add("version", FAILED if problems else PASSED, started, "\n".join(problems) or f"{run.chart.version} ok",
            [Finding("version", "version-increment", p, hint="bump Chart.yaml's version (SemVer)",
                     file=f"{run.chart.rel}/Chart.yaml") for p in problems])


def _matrix(run: ChartRun, chart_dir: Path, options: CiOptions, work: Path) -> None:
    started = time.monotonic()
    path, origin = matrixfile.write(run.chart.path, chart_dir, work / "portico-matrix.yaml")
    matrix = spec.load(path)
    if matrix.chart.resolve() != chart_dir.resolve():
        matrix = spec.with_chart(matrix, chart_dir)
    result = run_matrix(matrix, options.out_dir / run.chart.rel / "matrix", options=Options(admission=options.admission))
    errors = [f for f in result.findings if f.severity != WARNING_SEVERITY]
    detail = (f"{len(result.combos)} combinations from {origin}: {len(result.findings)} problems "
              f"({len(errors)} errors)")
    run.add("matrix", PASSED if result.ok else FAILED, started, detail,
            [_in_repo(f, chart_dir, run.chart.rel) for f in result.findings])


def _install(run: ChartRun, chart_dir: Path, resolver: Resolver, options: CiOptions, work: Path) -> None:
    if options.install.upgrade:
        previous, how = install.previous_chart(run, options.base, resolver, work)
    else:
        previous, how = None, "--no-upgrade: installed, not upgraded"
    install.install_cases(run, chart_dir, previous, how, options.install)


def _in_repo(finding: Finding, chart_dir: Path, rel: str) -> Finding:
    """A finding's file as the repository has it: the chart may have rendered from a temporary copy (its
    dependencies filled), which is gone once the run ends."""
    path = Path(finding.file).resolve() if finding.file else None
    if path is None or not path.is_relative_to(chart_dir.resolve()):
        return finding
    return replace(finding, file=f"{rel}/{path.relative_to(chart_dir.resolve())}")


def run_chart(selected: Selected, resolver: Resolver, options: CiOptions) -> ChartRun:
    """One chart's steps; a chart whose files break a step fails that chart, never the run of the others."""
    run = ChartRun(selected)
    started = time.monotonic()
    try:
        _run_steps(run, selected, resolver, options)
    except PorticoError as exc:
        _chart_error(run, exc)
    run.seconds = time.monotonic() - started
    return run


def _chart_error(run: ChartRun, exc: PorticoError) -> None:
    run.add("error", ERROR, time.monotonic(), str(exc),
            [Finding("ci", "chart-error", str(exc), file=f"{run.chart.rel}/Chart.yaml")])


def _run_steps(run: ChartRun, selected: Selected, resolver: Resolver, options: CiOptions) -> None:
    with tempfile.TemporaryDirectory(prefix=f"portico-ci-{selected.chart.name}-") as tmp:
        t0 = time.monotonic()
        resolution = resolver.resolve(selected.chart, Path(tmp))
        if not resolution.ok:
            messages = [u.message() for u in resolution.unresolved]
            run.add("dependencies", ERROR, t0, "\n".join(messages),
                    [Finding("dependencies", "dependency-missing", m, hint="vendor it or pass --dependency-dir",
                             file=f"{selected.chart.rel}/Chart.yaml") for m in messages])
            _version(run, options)
            return
        run.add("dependencies", PASSED, t0, ", ".join(resolution.found) or "none missing")
        steps: list[Callable[[], None]] = [lambda: _lint(run, resolution.path, options), lambda: _version(run, options)]
        if not selected.chart.library:  # a library chart renders nothing: helm refuses to template it
            steps.append(lambda: _matrix(run, resolution.path, options, Path(tmp)))
            if options.install is not None:
                steps.append(lambda: _install(run, resolution.path, resolver, options, Path(tmp)))
        for step in steps:
            try:
                step()
            except PorticoError as exc:
                _chart_error(run, exc)


def run_all(selected: list[Selected], resolver: Resolver, options: CiOptions,
        progress: Callable[[ChartRun], None] = lambda _r: None) -> list[ChartRun]:
    """Every selected chart; results in the order given (dependency order)."""
    jobs = options.jobs or os.cpu_count() or 2
    with ThreadPoolExecutor(max(1, min(jobs, len(selected) or 1)), thread_name_prefix="portico-ci") as pool:
        futures = [pool.submit(run_chart, s, resolver, options) for s in selected]
        runs = []
        for future in futures:
            runs.append(future.result())
            progress(runs[-1])
    return runs


def to_report(runs: list[ChartRun], title: str, selection: str, seconds: float) -> Report:
    cases = [c for r in runs for c in r.cases]
    findings = [f for r in runs for f in r.findings]
    rows = [{"chart": r.chart.name, "path": r.chart.rel, "reason": r.selected.reason,
             **{step: r.status(step) for step in STEPS},
             "problems": len(r.findings), "seconds": round(r.seconds, 1)} for r in runs]
    failed = sum(1 for r in runs if any(not c.passed for c in r.cases))
    summary = {"selection": selection, "charts": rows, "charts_failed": failed}
    table = [("selection", selection), ("charts", str(len(runs))), ("charts failing", str(failed))]
    return Report("ci", title, cases, findings, seconds, summary, table)
