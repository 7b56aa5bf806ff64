"""GitHub Actions: annotations on the files findings name, and the Markdown summary on the run page.

Only inside Actions ($GITHUB_ACTIONS); elsewhere nothing is printed.
"""

from __future__ import annotations

import os
import sys

from portico.reports import markdown
from portico.results import WARNING_SEVERITY, Report

MAX_ANNOTATIONS = 50  # GitHub shows at most 50 per step


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def annotations(report: Report) -> list[str]:
    lines = []
    for f in report.findings or [f for c in report.cases for f in c.findings]:
        level = "warning" if f.severity == WARNING_SEVERITY else "error"
        params = ([f"file={f.file}"] if f.file else []) + [f"title=portico {f.rule}"]
        lines.append(f"::{level} {','.join(params)}::{_escape(f.headline())}")
        if len(lines) >= MAX_ANNOTATIONS:
            break
    return lines


def publish(report: Report) -> None:
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for line in annotations(report):
            print(line, file=sys.stdout)
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(markdown.render(report))
