"""SARIF 2.1.0, for GitHub code scanning: a rule per finding rule, a result per finding."""

from __future__ import annotations

import json

from portico import __version__
from portico.results import WARNING_SEVERITY, Report

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render(report: Report) -> str:
    rules: dict[str, dict] = {}
    results = []
    for f in report.findings or [f for c in report.cases for f in c.findings]:
        rules.setdefault(f.rule, {"id": f.rule, "shortDescription": {"text": f.rule},
                                  "help": {"text": f.hint or f.rule}})
        result = {
            "ruleId": f.rule,
            "level": "warning" if f.severity == WARNING_SEVERITY else "error",
            "message": {"text": f.headline() + (f" (in {len(f.combinations)} combinations, e.g. "
                                                f"{f.combinations[0]})" if f.combinations else "")},
            "properties": {"stage": f.stage, "object": f.object, "kubernetesVersion": f.kubernetes_version},
        }
        if f.file:
            result["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": f.file}}}]
        results.append(result)
    doc = {"$schema": SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "portico", "version": __version__, "informationUri": "https://example.invalid/portico",
                            "rules": list(rules.values())}},
        "results": results}]}
    return json.dumps(doc, indent=2)
