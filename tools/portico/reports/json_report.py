"""JSON: the whole report, machine-readable; the summary figures at the top level."""

from __future__ import annotations

import json
from dataclasses import asdict

from portico.results import Report


def as_dict(report: Report) -> dict:
    return {"ok": report.ok, "command": report.command, "title": report.title, **report.summary,
            "seconds": round(report.seconds, 3), "cases": [c.as_dict() for c in report.cases],
            "findings": [asdict(f) for f in report.findings]}


def render(report: Report) -> str:
    return json.dumps(as_dict(report), indent=2, default=str)
