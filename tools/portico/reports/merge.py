"""Shard reports back into one: `portico merge-reports shard-*.json --junit ... --json ... --markdown ...`.

Each shard's JSON report (`portico matrix --shard I/N --json`) holds its cases
and grouped findings. The merge keeps every case once, merges findings that are
the same problem (stage, rule, object, message, severity) across shards, and
adds up what adds up, so N shards merge into the report one unsharded run gives.
"""

from __future__ import annotations

import json
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from portico.errors import InputError
from portico.results import Case, Finding, Report

_FINDING_FIELDS = {f.name for f in fields(Finding)}


def _finding(raw: dict[str, Any]) -> Finding:
    data = {k: v for k, v in raw.items() if k in _FINDING_FIELDS}
    data["combinations"] = tuple(data.get("combinations") or ())
    trigger = data.get("trigger")
    data["trigger"] = tuple(tuple(pair) for pair in trigger) if trigger is not None else None
    return Finding(**data)


def _case(raw: dict[str, Any]) -> Case:
    findings = [_finding(f) for f in raw.get("findings", [])]
    return Case(raw["name"], raw.get("status", "passed"), findings, raw.get("seconds", 0.0),
                raw.get("properties", {}), raw.get("detail", ""))


def load(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"not a portico JSON report: {exc}", source=str(path)) from exc
    if not isinstance(doc, dict) or "cases" not in doc or "command" not in doc:
        raise InputError("not a portico JSON report (no `command` and `cases`)", source=str(path))
    return doc


def _key(f: Finding) -> tuple:
    return (f.stage, f.rule, f.kind, f.name, f.message, f.severity, f.file)


def merge(paths: list[Path]) -> Report:
    docs = [load(p) for p in paths]
    commands = {d["command"] for d in docs}
    if len(commands) != 1:
        raise InputError(f"reports of different commands ({', '.join(sorted(commands))})", source=str(paths[0]))
    cases: dict[str, Case] = {}
    findings: dict[tuple, Finding] = {}
    for doc in docs:
        for raw in doc["cases"]:
            cases.setdefault(raw["name"], _case(raw))
        for raw in doc.get("findings", []):
            f = _finding(raw)
            known = findings.get(_key(f))
            if known is None:
                findings[_key(f)] = f
                continue
            combos = tuple(dict.fromkeys((*known.combinations, *f.combinations)))
            versions = ", ".join(sorted({v for x in (known, f) for v in x.kubernetes_version.split(", ") if v}))
            # A trigger found in one shard need not hold over all of them: only keep one that both agree on.
            trigger = known.trigger if known.trigger == f.trigger else None
            findings[_key(f)] = replace(known, combinations=combos, kubernetes_version=versions, trigger=trigger)
    first = docs[0]
    summary = {k: v for k, v in first.items() if k not in ("ok", "command", "title", "seconds", "cases", "findings")}
    if "space" in first:
        summary["space"] = {**first["space"], "run": sum(d["space"]["run"] for d in docs)}
        summary["shard"] = None
        summary["shards"] = len(docs)
    if "charts" in first:  # portico ci: a row per chart, each shard its own charts
        summary["charts"] = [row for d in docs for row in d.get("charts", [])]
        summary["charts_failed"] = sum(d.get("charts_failed") or 0 for d in docs)
    for key in ("unique_renders", "resources", "validations"):
        if key in first:
            summary[key] = sum(d.get(key, 0) for d in docs)  # an upper bound: shards may share renders
    merged = list(findings.values())
    summary["problems"] = len(merged)
    summary["places"] = sum(max(1, len(f.combinations)) for f in merged)
    table = [("shards", str(len(docs))), ("problems", f"{len(merged)} problems in {summary['places']} places")]
    return Report(first["command"], first["title"], list(cases.values()), merged,
                  max(d.get("seconds", 0.0) for d in docs), summary, table)
