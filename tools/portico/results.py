"""The one result model every check reports in: cases with findings, and a report around them.

A `Finding` is one problem (which rule, which object, why, how to fix it);
a `Case` is one thing that was checked (a matrix combination, a smoke scenario,
an upgrade) with its status, findings and timings; a `Report` is one command's
run. Every writer in `portico.reports` takes a `Report`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"
ERROR_SEVERITY, WARNING_SEVERITY = "error", "warning"


@dataclass(frozen=True)
class Finding:
    stage: str  # render, expectation, schema, policy, upgrade, smoke, zero-downtime
    rule: str
    message: str
    kind: str = ""
    name: str = ""
    kubernetes_version: str = ""
    hint: str = ""
    combinations: tuple[str, ...] = ()  # matrix: every combination that produces it
    severity: str = ERROR_SEVERITY
    file: str = ""  # the file a reviewer should open (chart template, values file, smoke file)
    line: int = 0  # its line, where known (1-based; 0: the file as a whole)
    # matrix: the fewest axis=level pairs that always produce it; () in every combination, None when no set does
    trigger: tuple[tuple[str, str], ...] | None = None

    @property
    def object(self) -> str:
        return f"{self.kind}/{self.name}" if self.kind else ""

    def headline(self) -> str:
        where = f" {self.object}" if self.kind else ""
        version = f" [k8s {self.kubernetes_version}]" if self.kubernetes_version else ""
        return f"{self.rule}{where}{version}: {self.message}"

    def trigger_text(self) -> str:
        return ", ".join(f"{axis}={level}" for axis, level in self.trigger or ())


@dataclass
class Case:
    name: str
    status: str = PASSED
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    properties: dict[str, Any] = field(default_factory=dict)  # what else a reader wants: levels, answered by
    detail: str = ""  # a longer text for the report body (an upgrade's per-target table)

    @property
    def passed(self) -> bool:
        return self.status in (PASSED, SKIPPED)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["findings"] = [asdict(f) for f in self.findings]
        return out


@dataclass
class Report:
    command: str  # matrix, smoke, upgrade-check, validate
    title: str
    cases: list[Case]
    findings: list[Finding] = field(default_factory=list)  # unique findings; a case lists the ones naming it
    seconds: float = 0.0
    summary: dict[str, Any] = field(default_factory=dict)  # command-specific figures, in JSON as they are
    table: list[tuple[str, str]] = field(default_factory=list)  # (measure, value) rows for people

    @property
    def ok(self) -> bool:
        return all(c.passed for c in self.cases) and not any(f.severity == ERROR_SEVERITY for f in self.findings)

    @property
    def suite(self) -> str:
        return f"portico-{self.command}"
