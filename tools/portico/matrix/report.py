"""A matrix run as a `Report` (a case per combination), and its summary table for the terminal."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from portico.matrix import combos as combos_mod
from portico.matrix.run import ComboResult, MatrixResult
from portico.results import FAILED, PASSED, WARNING_SEVERITY, Case, Report


def _coverage_line(result: MatrixResult) -> str:
    plan = result.plan
    allowed = f"{plan.allowed} allowed by constraints" if plan.allowed is not None else "allowed count not enumerated"
    line = f"{len(result.combos)} combinations run of {plan.total_space} in the full space ({allowed})"
    if result.shard:
        line += f"; shard {result.shard[0]}/{result.shard[1]} of {len(plan.combinations)}"
    if plan.coverage:
        c = plan.coverage
        line += f"; {c.t}-wise coverage {c.covered}/{c.coverable} tuples ({c.ratio:.1%})"
        rendered = [combo.levels for combo in result.combos if combo.render]
        if len(rendered) < len(result.combos):
            # What was checked is what rendered: a combination helm refused covers no tuple of objects.
            covered = combos_mod.tuples_covered(result.matrix, rendered, c.t)
            line += (f", {covered}/{c.coverable} ({covered / c.coverable if c.coverable else 1:.1%}) by the "
                     f"{len(rendered)} combinations that rendered")
    return line


def counts(result: MatrixResult) -> dict[str, Counter]:
    by_rule, by_kind, by_version, by_stage = Counter(), Counter(), Counter(), Counter()
    for f in result.findings:
        places = max(1, len(f.combinations))
        by_rule[f.rule] += places
        by_stage[f.stage] += places
        if f.kind:
            by_kind[f.kind] += places
        for version in filter(None, f.kubernetes_version.split(", ")):
            by_version[version] += places
    return {"rule": by_rule, "kind": by_kind, "kubernetes version": by_version, "stage": by_stage}


def problems_line(result: MatrixResult) -> str:
    errors = sum(1 for f in result.findings if f.severity != WARNING_SEVERITY)
    warnings = len(result.findings) - errors
    line = f"{len(result.findings)} problems in {result.places} places ({errors} errors, {warnings} warnings)"
    if result.baselined:
        line += f"; {len(result.baselined)} more known from the baseline"
    return line


def _where(f, inferred_from: int = 0, names: dict[str, str] | None = None) -> str:
    """names: combination id -> its levels (`tls=false, replicas=3`), so an example reads as levels."""
    if f.trigger == ():
        return "in every combination"
    if f.trigger:
        # From a t-wise sample the trigger is what held in the combinations run, not a proof over the space.
        sample = f" (inferred from the {inferred_from} combinations run)" if inferred_from else ""
        return f"whenever {f.trigger_text()}{sample}"
    example = (names or {}).get(f.combinations[0], f.combinations[0]) if f.combinations else "-"
    more = f" (+{len(f.combinations) - 1} more)" if len(f.combinations) > 1 else ""
    return f"in {len(f.combinations)} combinations, e.g. {example}{more}" if len(f.combinations) > 1 \
        else f"in {example}"


def print_summary(result: MatrixResult, console: Console, max_findings: int = 20) -> None:
    statuses = Counter(c.status for c in result.combos)
    table = Table(title=f"portico matrix: {result.matrix.path}", show_header=True, header_style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("combinations", str(len(result.combos)))
    for status in ("rendered", "rejected-as-expected", "render-failed", "expectation-failed"):
        if statuses[status]:
            table.add_row(f"  {status}", str(statuses[status]))
    table.add_row("unique renders", str(result.unique_renders))
    table.add_row("cross-checked with helm template", _cross_checked(result))
    table.add_row("resources (unique renders)", str(result.resources))
    table.add_row("schema validations", f"{result.validations} across {len(result.matrix.validate_versions)} "
                                          f"Kubernetes versions ({', '.join(result.matrix.validate_versions)})")
    for stage, seconds in result.timings.items():
        table.add_row(f"time: {stage}", f"{seconds:.2f}s")
    table.add_row("findings", str(len(result.findings)), style="red" if not result.ok else "green")
    console.print(table)
    console.print(_coverage_line(result))
    if result.randomised:
        console.print(f"randomised by the chart, masked for dedupe: {', '.join(result.randomised)}")
    for entry in result.stale_baseline:
        console.print(f"[yellow]baseline entry matched nothing[/yellow]: {entry.rule} {entry.object or ''}")
    console.print(problems_line(result))
    if result.findings:
        errors = Table(title="places by rule, kind and Kubernetes version", header_style="bold")
        errors.add_column("group")
        errors.add_column("key")
        errors.add_column("places", justify="right")
        for group, counter in counts(result).items():
            for key, n in counter.most_common():
                errors.add_row(group, key, str(n))
        console.print(errors)
        names = {c.id: case_name(c) for c in result.combos}
        for f in result.findings[:max_findings]:
            where = f" {f.object}" if f.kind else ""
            version = f" [k8s {f.kubernetes_version}]" if f.kubernetes_version else ""
            colour = "yellow" if f.severity == WARNING_SEVERITY else "red"
            inferred = len(result.combos) if result.matrix.strategy == "t-wise" else 0
            text = escape(f"{f.rule}{where}{version} {_where(f, inferred, names)}: {f.message}")
            console.print(f"[{colour}]{f.stage}[/{colour}] {text}", markup=True, highlight=False)
            if f.file:
                console.print(f"    at {f.file}{f':{f.line}' if f.line else ''}", highlight=False)
            if f.hint:
                console.print(f"    fix: {f.hint}", highlight=False)
        if len(result.findings) > max_findings:
            console.print(f"... {len(result.findings) - max_findings} more findings in the JSON report")


def _cross_checked(result: MatrixResult) -> str:
    return f"{result.cross_checked} combinations, the same" if result.cross_checked else "none"


def case_name(combo: ComboResult) -> str:
    """`tls=false, autoscaling=true`: a reader sees which axis has which level."""
    return ", ".join(f"{axis}={level}" for axis, level in combo.levels.items()) or combo.id


def to_report(result: MatrixResult) -> Report:
    per_combo: dict[str, list] = {c.id: [] for c in result.combos}
    for f in result.findings:
        for cid in f.combinations:
            per_combo.setdefault(cid, []).append(f)
    # Combinations render in batches and every stage runs once per distinct render, so no combination has a time
    # of its own: each case gets an even share of the run, and the cases add up to the run's time.
    share = result.timings.get("total", 0.0) / max(1, len(result.combos))
    cases = [Case(name=case_name(c), status=FAILED if any(f.severity != WARNING_SEVERITY for f in per_combo[c.id])
                  else PASSED, findings=per_combo[c.id], seconds=share,
                  properties={"id": c.id, **c.as_dict()}) for c in result.combos]
    statuses = Counter(c.status for c in result.combos)
    summary = {
        "matrix": str(result.matrix.path),
        "chart": str(result.matrix.chart),
        "strategy": result.matrix.strategy,
        "coverage": asdict(result.plan.coverage) if result.plan.coverage else None,
        "space": {"total": result.plan.total_space, "allowed": result.plan.allowed,
                  "planned": len(result.plan.combinations), "run": len(result.combos)},
        "shard": list(result.shard) if result.shard else None,
        "unique_renders": result.unique_renders,
        "resources": result.resources,
        "validations": result.validations,
        "kubernetes_versions": list(result.matrix.validate_versions),
        "timings": result.timings,
        "counts": {group: dict(counter) for group, counter in counts(result).items()},
        "problems": len(result.findings),
        "places": result.places,
        "baselined": [asdict(f) for f in result.baselined],
        "stale_baseline": [asdict(e) for e in result.stale_baseline],
        "randomised": result.randomised,
        "cross_checked": result.cross_checked,
        # t-wise: each finding's trigger is inferred from this many combinations, not proved over the space
        "triggers_inferred_from": len(result.combos) if result.matrix.strategy == "t-wise" else None,
    }
    table = [("coverage", _coverage_line(result)), ("problems", problems_line(result)),
             ("combinations", str(len(result.combos)))]
    table += [(f"  {status}", str(n)) for status, n in statuses.items()]
    table += [("unique renders", str(result.unique_renders)),
              ("cross-checked with helm template", _cross_checked(result)), ("resources", str(result.resources)),
              ("schema validations", f"{result.validations} (Kubernetes {', '.join(result.matrix.validate_versions)})")]
    return Report("matrix", result.matrix.path.name, cases, list(result.findings),
                  result.timings.get("total", 0.0), summary, table)
