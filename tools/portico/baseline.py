"""Known findings a team has accepted, each with a reason: the findings it matches do not fail the run.

    # portico baseline
    findings:
      - rule: security/restricted-pss
        object: DaemonSet/node-exporter      # optional: any object
        message: "container node-exporter: runAsNonRoot is not true"   # optional: a substring
        reason: a node agent; runs as root to read the host's /proc

`portico matrix --write-baseline FILE` writes one from a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from portico import values as values_mod
from portico.errors import InputError
from portico.files import write_atomic
from portico.results import Finding

WRITTEN_REASON = "accepted when this baseline was written (portico matrix --write-baseline): say why"


@dataclass(frozen=True)
class Entry:
    rule: str
    reason: str
    object: str | None = None
    message: str | None = None
    stage: str | None = None

    def matches(self, f: Finding) -> bool:
        return (f.rule == self.rule and (self.object is None or f.object == self.object)
                and (self.message is None or self.message in f.message)
                and (self.stage is None or f.stage == self.stage))


def load(path: Path) -> list[Entry]:
    source = str(path)
    raw = values_mod.read_yaml(path, "a baseline file")
    if not isinstance(raw, dict) or not isinstance(raw.get("findings"), list):
        raise InputError("expected a mapping with a `findings` list", source=source)
    entries = []
    for i, item in enumerate(raw["findings"]):
        where = f"findings[{i}]"
        if not isinstance(item, dict):
            raise InputError("expected a mapping", source=source, key_path=where)
        unknown = set(item) - {"rule", "reason", "object", "message", "stage"}
        if unknown:
            raise InputError(f"unknown keys {sorted(unknown)} (rule, reason, object, message, stage)",
                             source=source, key_path=where)
        for key in ("rule", "reason"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                raise InputError(f"`{key}` is required and must be a non-empty string", source=source,
                                 key_path=f"{where}.{key}")
        entries.append(Entry(item["rule"], item["reason"], item.get("object"), item.get("message"),
                             item.get("stage")))
    return entries


def split(findings: list[Finding], entries: list[Entry]) -> tuple[list[Finding], list[Finding], list[Entry]]:
    """(new findings, baselined findings, entries that matched nothing)."""
    fresh, known, used = [], [], set()
    for f in findings:
        hit = next((i for i, e in enumerate(entries) if e.matches(f)), None)
        if hit is None:
            fresh.append(f)
        else:
            known.append(f)
            used.add(hit)
    return fresh, known, [e for i, e in enumerate(entries) if i not in used]


def write(path: Path, findings: list[Finding]) -> None:
    items = []
    for f in findings:
        item = {"rule": f.rule, "stage": f.stage}
        if f.object:
            item["object"] = f.object
        item["message"] = f.message
        item["reason"] = WRITTEN_REASON
        items.append(item)
    text = "# portico baseline: known findings that do not fail a run; give each a reason.\n"
    write_atomic(path, text + yaml.safe_dump({"findings": items}, sort_keys=False, width=120))
