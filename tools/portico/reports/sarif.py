"""SARIF 2.1.0 for GitHub code scanning: a rule per finding rule (with its help), a result per finding, each
with a location (the file it is about, the line where known), and fingerprints that keep a finding the same
alert from run to run. Checked with Microsoft's SARIF validator and its GitHub rules (tests/test_sarif.py)."""

from __future__ import annotations

import hashlib
import json
import re

from portico import __version__
from portico.results import WARNING_SEVERITY, Finding, Report

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/portico-dev/portico"


def _describe(rule_id: str) -> tuple[str, str, str]:
    """(what, why, fix) from `portico rules`, or the rule id alone for a rule it does not list."""
    from portico.commands.rules import rows

    for row in rows():
        if row["id"] == rule_id:
            return row["what"], row["why"], row["fix"]
    return rule_id, "", ""


def _rule(f: Finding) -> dict:
    what, why, fix = _describe(f.rule)
    help_text = "\n".join(part for part in (why and f"Why: {why}.", f"Fix: {fix or f.hint or 'see the message'}.",
                                            "All rules: `portico rules`.") if part)
    name = "".join(part[:1].upper() + part[1:] for part in re.split(r"[/_.-]", f.rule))  # SARIF: not the id
    return {"id": f.rule, "name": name, "shortDescription": {"text": what},
            "fullDescription": {"text": f"{what}{' (' + why + ')' if why else ''}"},
            "help": {"text": help_text, "markdown": help_text.replace("\n", "  \n")},
            "defaultConfiguration": {"level": "warning" if f.severity == WARNING_SEVERITY else "error"},
            "properties": {"stage": f.stage}}


def _location(f: Finding, fallback: str) -> dict:
    physical: dict = {"artifactLocation": {"uri": f.file or fallback}}
    if f.line > 0:
        physical["region"] = {"startLine": f.line}
    return {"physicalLocation": physical}


def _fingerprint(f: Finding) -> str:
    # Stable across runs and line moves: what the finding is about, not where the line happens to be.
    key = "\x00".join((f.stage, f.rule, f.kind, f.name, f.kubernetes_version, f.message, f.file))
    return hashlib.sha256(key.encode()).hexdigest()


def render(report: Report) -> str:
    rules: dict[str, dict] = {}
    results = []
    fallback = str(report.summary.get("matrix") or report.summary.get("chart") or "Chart.yaml")
    # A combination by its levels (`tls=false, replicas=3`), as the cases name them, not by its id.
    names = {c.properties.get("id"): c.name for c in report.cases if c.properties.get("id")}
    for f in report.findings or [f for c in report.cases for f in c.findings]:
        rules.setdefault(f.rule, _rule(f))
        example = (f" (in {len(f.combinations)} combinations, e.g. {names.get(f.combinations[0], f.combinations[0])})"
                   if f.combinations else "")
        results.append({
            "ruleId": f.rule,
            "ruleIndex": list(rules).index(f.rule),
            "level": "warning" if f.severity == WARNING_SEVERITY else "error",
            "message": {"text": f.headline() + example + (f". Fix: {f.hint}" if f.hint else "")},
            "locations": [_location(f, fallback)],
            "partialFingerprints": {"portico/v1": _fingerprint(f)},
            "properties": {"stage": f.stage, "object": f.object, "kubernetesVersion": f.kubernetes_version},
        })
    doc = {"$schema": SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "portico", "version": __version__, "semanticVersion": __version__,
                            "informationUri": INFORMATION_URI, "rules": list(rules.values())}},
        "results": results}]}
    return json.dumps(doc, indent=2)
