"""Markdown: a summary table and the findings, for PR comments and $GITHUB_STEP_SUMMARY."""

from __future__ import annotations

from portico.results import Report

MAX_ROWS = 50


def _cell(text: str, limit: int = 300) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")[:limit]


def render(report: Report) -> str:
    icon = "✅" if report.ok else "❌"
    failed = sum(not c.passed for c in report.cases)
    lines = [f"### {icon} portico {report.command}: `{report.title}`", "",
             "| measure | value |", "| --- | --- |",
             f"| cases | {len(report.cases)} ({failed} failed) |"]
    lines += [f"| {_cell(k)} | {_cell(v)} |" for k, v in report.table]
    lines.append(f"| time | {report.seconds:.1f}s |")
    lines.append(f"| findings | {len(report.findings)} |")
    if report.findings:
        lines += ["", "| stage | rule | object | k8s | cases | message |", "| --- | --- | --- | --- | --- | --- |"]
        for f in report.findings[:MAX_ROWS]:
            lines.append(f"| {f.stage} | {f.rule} | {_cell(f.object)} | {f.kubernetes_version} | "
                         f"{len(f.combinations) or 1} | {_cell(f.message)} |")
        if len(report.findings) > MAX_ROWS:
            lines.append(f"\n{len(report.findings) - MAX_ROWS} more findings in the JSON report.")
    failed_cases = [c for c in report.cases if not c.passed and not c.findings]
    if failed_cases:
        lines += ["", "| case | why |", "| --- | --- |"]
        lines += [f"| {_cell(c.name)} | {_cell(c.detail)} |" for c in failed_cases[:MAX_ROWS]]
    return "\n".join(lines) + "\n"
