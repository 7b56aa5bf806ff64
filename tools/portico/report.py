"""Matrix reports: a rich summary table, JUnit XML, JSON and Markdown."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from xml.etree import ElementTree as ET

from rich.console import Console
from rich.table import Table

from portico.files import write_atomic
from portico.matrix.run import MatrixResult


def _coverage_line(result: MatrixResult) -> str:
    plan = result.plan
    allowed = f"{plan.allowed} allowed by constraints" if plan.allowed is not None else "allowed count not enumerated"
    line = f"{len(result.combos)} combinations run of {plan.total_space} in the full space ({allowed})"
    if result.shard:
        line += f"; shard {result.shard[0]}/{result.shard[1]} of {len(plan.combinations)}"
    if plan.coverage:
        c = plan.coverage
        line += f"; {c.t}-wise coverage {c.covered}/{c.coverable} tuples ({c.ratio:.1%})"
    return line


def counts(result: MatrixResult) -> dict[str, Counter]:
    by_rule, by_kind, by_version, by_stage = Counter(), Counter(), Counter(), Counter()
    for f in result.findings:
        by_rule[f.rule] += 1
        by_stage[f.stage] += 1
        if f.kind:
            by_kind[f.kind] += 1
        if f.kubernetes_version:
            by_version[f.kubernetes_version] += 1
    return {"rule": by_rule, "kind": by_kind, "kubernetes version": by_version, "stage": by_stage}


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
    table.add_row("resources (unique renders)", str(result.resources))
    table.add_row("schema validations", f"{result.validations} across {len(result.matrix.validate_versions)} "
                                          f"Kubernetes versions ({', '.join(result.matrix.validate_versions)})")
    for stage, seconds in result.timings.items():
        table.add_row(f"time: {stage}", f"{seconds:.2f}s")
    table.add_row("findings", str(len(result.findings)), style="red" if result.findings else "green")
    console.print(table)
    console.print(_coverage_line(result))
    if result.findings:
        errors = Table(title="findings by rule, kind and Kubernetes version", header_style="bold")
        errors.add_column("group")
        errors.add_column("key")
        errors.add_column("count", justify="right")
        for group, counter in counts(result).items():
            for key, n in counter.most_common():
                errors.add_row(group, key, str(n))
        console.print(errors)
        for f in result.findings[:max_findings]:
            where = f" {f.kind}/{f.name}" if f.kind else ""
            version = f" [k8s {f.kubernetes_version}]" if f.kubernetes_version else ""
            example = f.combinations[0] if f.combinations else "-"
            more = f" (+{len(f.combinations) - 1} more combinations)" if len(f.combinations) > 1 else ""
            console.print(f"[red]{f.stage}[/red] {f.rule}{where}{version} in {example}{more}: {f.message}")
            if f.hint:
                console.print(f"    fix: {f.hint}")
        if len(result.findings) > max_findings:
            console.print(f"... {len(result.findings) - max_findings} more findings in the JSON report")


def to_json(result: MatrixResult) -> dict:
    return {
        "ok": result.ok,
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
        "combinations": [c.as_dict() for c in result.combos],
        "findings": [asdict(f) for f in result.findings],
    }


def write_json(result: MatrixResult, path: Path) -> None:
    write_atomic(path, json.dumps(to_json(result), indent=2))


def write_junit(result: MatrixResult, path: Path) -> None:
    """One testcase per combination; its failures are every finding that names it."""
    per_combo: dict[str, list] = {c.id: [] for c in result.combos}
    for f in result.findings:
        for cid in f.combinations:
            per_combo.setdefault(cid, []).append(f)
    suite = ET.Element("testsuite", name="portico-matrix", tests=str(len(per_combo)),
                       failures=str(sum(1 for v in per_combo.values() if v)), errors="0",
                       time=f"{result.timings.get('total', 0):.3f}")
    for combo in result.combos:
        case = ET.SubElement(suite, "testcase", classname=f"matrix.{result.matrix.chart.name}", name=combo.id)
        for f in per_combo[combo.id]:
            where = f" {f.kind}/{f.name}" if f.kind else ""
            version = f" k8s {f.kubernetes_version}" if f.kubernetes_version else ""
            failure = ET.SubElement(case, "failure", type=f"{f.stage}:{f.rule}",
                                    message=f"{f.rule}{where}{version}: {f.message}"[:1000])
            failure.text = f"{f.message}\nfix: {f.hint}" if f.hint else f.message
    suites = ET.Element("testsuites")
    suites.append(suite)
    ET.indent(suites)
    write_atomic(path, ET.tostring(suites, encoding="unicode", xml_declaration=True))


def markdown(result: MatrixResult) -> str:
    icon = "✅" if result.ok else "❌"
    lines = [f"### {icon} portico matrix: `{result.matrix.path.name}`", "", _coverage_line(result), "",
             "| measure | value |", "| --- | --- |",
             f"| combinations | {len(result.combos)} |",
             f"| unique renders | {result.unique_renders} |",
             f"| resources | {result.resources} |",
             f"| schema validations | {result.validations} (Kubernetes {', '.join(result.matrix.validate_versions)}) |",
             f"| time | {result.timings.get('total', 0):.1f}s |",
             f"| findings | {len(result.findings)} |"]
    if result.findings:
        lines += ["", "| stage | rule | object | k8s | combinations | message |", "| --- | --- | --- | --- | --- | --- |"]
        for f in result.findings[:50]:
            msg = f.message.replace("|", "\\|").replace("\n", " ")[:300]
            lines.append(f"| {f.stage} | {f.rule} | {f.kind}/{f.name} | {f.kubernetes_version} | "
                         f"{len(f.combinations)} | {msg} |")
    return "\n".join(lines) + "\n"


def write_markdown(result: MatrixResult, path: Path) -> None:
    write_atomic(path, markdown(result))


def append_github_summary(result: MatrixResult) -> None:
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(markdown(result))

